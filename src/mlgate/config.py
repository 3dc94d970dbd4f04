"""Load ``mlgate.yaml`` and validate it against ``checks/schema/mlgate.schema.json``.

Every problem becomes one :class:`~mlgate.errors.InputError` line of the form
``mlgate.yaml:12: data.drift.threshold: expected number, got 'abc'`` so that the user can jump
straight to the file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mlgate.bounded import check_yaml_file_size, parse_yaml
from mlgate.errors import InputError
from mlgate.resources import load_schema
from mlgate.use_case import apply_profile

if TYPE_CHECKING:  # jsonschema costs ~50 ms to import: only load it when validating
    import jsonschema

DEFAULT_CONFIG = "mlgate.yaml"
SCHEMA_FILE = "mlgate.schema.json"


@dataclass
class Config:
    """A validated configuration and the directory its relative paths are resolved against."""

    path: Path
    raw: dict[str, Any]
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = self.path.resolve().parent

    @property
    def project(self) -> str:
        return str(self.raw["project"])

    @property
    def results_dir(self) -> Path:
        return self.resolve(self.raw.get("results_dir", ".mlgate/results"))

    def section(self, name: str) -> dict[str, Any]:
        """The mapping under a top-level key, or an empty one when the key is absent."""
        value = self.raw.get(name) or {}
        return dict(value)

    def stages(self, event: str) -> list[str]:
        """The stages configured for ``pr`` or ``release`` (schema defaults when unset)."""
        pipeline = self.raw.get("pipeline") or {}
        if event in pipeline:
            return list(pipeline[event])
        schema = load_schema(SCHEMA_FILE)
        return list(schema["properties"]["pipeline"]["properties"][event]["default"])

    def resolve(self, relative: str | Path) -> Path:
        """Resolve a path from the config relative to the config file's directory."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.root / candidate

    def where(self, *keys: str | int) -> str:
        """``file:yaml.path`` for messages about a configured value."""
        return f"{self.path}:{format_yaml_path(list(keys))}"

    def line_of(self, *keys: str | int) -> int | None:
        """1-based line of the key ``keys`` names in the file (or of its deepest existing
        parent), for messages about a setting rather than a value.

        The file is read again rather than kept: only error paths need lines.
        """
        try:
            node = yaml.compose(self.path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None
        return _line_of(node, list(keys), key_line=True)


CONFIG_EXPECTED = "a mapping with `version` and `project`"


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read, parse and validate a config file; raise InputError naming file, line and field."""
    config_path = Path(path)
    if not config_path.is_file():
        raise InputError("config file not found (create one with `mlgate init`)", config_path)
    raw = load_yaml_file(config_path, "config", load_schema(SCHEMA_FILE),
                         expected=CONFIG_EXPECTED)
    if "profile" in raw:
        line = Config(config_path, raw).line_of("profile")
        raw = apply_profile(raw, f"{config_path}:{line}" if line else str(config_path))
    return Config(config_path, raw)


def parse_config_bytes(content: bytes, source: str) -> dict[str, Any]:
    """Parse and validate a config held somewhere other than a file (``main:mlgate.yaml``, a
    blob read from git) exactly as :func:`load_config` does a file, naming ``source``."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read config: {exc}", source) from exc
    raw = load_yaml_text(text, source, "config", load_schema(SCHEMA_FILE),
                         expected=CONFIG_EXPECTED)
    return apply_profile(raw, source)


def load_config_text(text: str, label: str) -> Config:
    """Parse and validate a config that is not a file of the work tree (e.g. the default
    branch's copy, read from git); ``label`` names it in messages."""
    raw = load_yaml_text(text, label, "config", load_schema(SCHEMA_FILE),
                         expected=CONFIG_EXPECTED)
    return Config(Path(label), apply_profile(raw, label))


def find_config(explicit: str | Path | None) -> Config | None:
    """The config a single-gate command uses: ``--config``, else ./mlgate.yaml if it exists.

    Gate commands work from flags alone, so a missing default config is not an error; a
    missing explicit one is.
    """
    if explicit:
        return load_config(explicit)
    return load_config(DEFAULT_CONFIG) if Path(DEFAULT_CONFIG).is_file() else None


def load_yaml_file(
    path: Path, what: str, schema: dict[str, Any] | None = None, expected: str = "a mapping"
) -> dict[str, Any]:
    """Read a YAML mapping (config, contract, policy, profile) and validate it against ``schema``.

    One reader for every YAML file mlgate takes, so all of them report a missing file, bad
    encoding, a syntax error or a schema error the same way: one line with file, line, field;
    and all of them are parsed within the bounds of :func:`mlgate.bounded.parse_yaml` (size,
    nesting depth, alias expansion), since a pull request can write any of them.
    """
    if not path.is_file():
        raise InputError(f"{what} file not found", path)
    check_yaml_file_size(path, what)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what}: {exc}", path) from exc
    return load_yaml_text(text, path, what, schema, expected)


def load_yaml_text(
    text: str,
    source: str | Path,
    what: str,
    schema: dict[str, Any] | None = None,
    expected: str = "a mapping",
) -> dict[str, Any]:
    """:func:`load_yaml_file` for text already read; ``source`` names it in messages."""
    raw, node = parse_yaml(text, source)
    if raw is None:
        raise InputError(f"{what} file is empty; expected {expected}", source)
    if not isinstance(raw, dict):
        raise InputError(f"a {what} file must hold {expected}", source)
    if schema is not None:
        validate_document(raw, node, source, schema)
    return raw


def validate_document(
    data: Any, node: yaml.Node | None, source: str | Path, schema: dict[str, Any]
) -> None:
    """Validate against a JSON Schema, reporting the most relevant error on one line."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return
    path = list(error.absolute_path)
    line = _line_of(node, path + _unexpected_key(error))
    where = f"{source}:{line}" if line else str(source)
    field_name = format_yaml_path(path) or "(top level)"
    raise InputError(f"{field_name}: {describe_error(error)}", where)


def _unexpected_key(error: jsonschema.ValidationError) -> list[Any]:
    """For an unknown key, the key itself: the line to point at is the typo's, not its
    parent mapping's."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    known = error.schema.get("properties") or {}
    extra = [k for k in error.instance if k not in known]
    return extra[:1]


def describe_error(error: jsonschema.ValidationError) -> str:
    """Say what was expected in words a config author understands."""
    validator = error.validator
    expected = error.validator_value
    got = _short(error.instance)
    if validator == "type":
        return f"expected {_type_words(expected)}, got {got}"
    if validator == "enum":
        return f"expected one of {', '.join(map(repr, expected))}, got {got}"
    if validator == "const":
        return f"expected {expected!r}, got {got}"
    if validator == "required":
        return error.message.replace("is a required property", "is required")
    if validator == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        return f"{error.message}; allowed keys: {', '.join(allowed)}"
    if validator == "pattern":
        return f"{got} does not match the pattern {expected}"
    return error.message


def schema_default(*keys: str) -> Any:
    """What an absent ``keys`` (e.g. ``"model", "allow_pickle"``) means: the schema's default,
    an empty mapping or list for an object or array without one, else None. Mappings come back
    with their own properties' defaults filled in, so that a config that spells a default out
    and one that leaves it absent compare equal."""
    return with_defaults(None, *keys)


def with_defaults(value: Any, *keys: str) -> Any:
    """``value`` (the setting at ``keys``, None when absent) with schema defaults filled in."""
    schema = load_schema(SCHEMA_FILE)
    node: dict[str, Any] | None = _deref(schema, schema)
    for key in keys:
        node = _child_schema(schema, node, key)
    return _fill(schema, node, value)


def _deref(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with a local ``$ref`` resolved (sibling keywords such as default win)."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = schema
    for part in ref[2:].split("/"):
        target = target[part]
    return {**_deref(schema, target), **{k: v for k, v in node.items() if k != "$ref"}}


def _child_schema(
    schema: dict[str, Any], node: dict[str, Any] | None, key: str
) -> dict[str, Any] | None:
    if node is None:
        return None
    child = (node.get("properties") or {}).get(key)
    if child is None and isinstance(node.get("additionalProperties"), dict):
        child = node["additionalProperties"]
    return _deref(schema, child) if isinstance(child, dict) else None


def _fill(schema: dict[str, Any], node: dict[str, Any] | None, value: Any) -> Any:
    if node is None:
        return value
    if value is None:
        if "default" in node:
            value = node["default"]
        elif node.get("type") == "object":
            value = {}
        elif node.get("type") == "array":
            value = []
    if isinstance(value, dict):
        keys = list(dict.fromkeys([*(node.get("properties") or {}), *value]))
        filled = {k: _fill(schema, _child_schema(schema, node, k), value.get(k)) for k in keys}
        return {k: v for k, v in filled.items() if v is not None}
    return value


def format_yaml_path(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _type_words(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "number": "a number",
        "integer": "an integer",
        "boolean": "true or false",
        "null": "null",
    }
    return " or ".join(words.get(str(n), str(n)) for n in names)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _line_of(node: yaml.Node | None, path: list[Any], key_line: bool = False) -> int | None:
    """1-based line of the YAML node at ``path`` (or of its deepest existing parent); with
    ``key_line``, of the mapping key that names it (``ledger:`` rather than its first entry)."""
    if node is None:
        return None
    current = node
    named: yaml.Node = node
    for part in path:
        child = None
        if isinstance(current, yaml.MappingNode):
            # Last first: a later duplicate key wins in the data, and merge keys (`<<: *a`)
            # are flattened in front of the mapping's own keys.
            for key, value in reversed(current.value):
                if getattr(key, "value", None) == str(part):
                    child, named = value, key
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            child = named = current.value[part]
        if child is None:
            break
        current = child
    return int((named if key_line else current).start_mark.line) + 1
