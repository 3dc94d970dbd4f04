"""Parse untrusted YAML and JSON with bounds, so that a small hostile file cannot hang or crash us.

mlgate reads files that anyone who can open a pull request can write: mlgate.yaml, contracts,
policies, SLO profiles, GX suites, reports, event payloads. Two shapes of such a file do harm
out of all proportion to its size:

* an alias bomb ("billion laughs"): a few hundred bytes of YAML anchors and aliases that expand
  to billions of nodes; PyYAML shares the aliased objects, but everything that walks the result
  (schema validation, our own code) walks the expansion: minutes of CPU and gigabytes of memory
  before the first error;
* deep nesting (``[[[[...]]]]``): PyYAML's composer and ``json.loads`` recurse once per level,
  so a few thousand levels raise RecursionError, which is a crash (exit 3), not bad input.

PyYAML's parser is iterative, so :func:`parse_yaml` first walks the parse events, counting the
nesting depth and what every alias expands to, and refuses the file before anything recursive
runs. :func:`loads_json` scans the brackets outside strings before ``json.loads``. Both refuse
with an :class:`~mlgate.errors.InputError` (exit 2, one line naming the file) instead.

The limits are far above anything a real file reaches (configs here are under ten levels deep
and a few hundred nodes) and far below what makes the parsers or our own recursive code suffer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlgate.errors import InputError

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted in YAML (counting what aliases bring in) and
JSON. Far below Python's recursion limit (1000) even for code that spends several frames per
level, such as JSON Schema validation."""

MAX_YAML_NODES = 100_000
"""Most nodes a YAML document may hold once its aliases are expanded (every scalar, key, list
and mapping counts one). A real mlgate.yaml has a few hundred; the classic 600-byte alias bomb
passes this at its sixth line, after a few thousand parse events."""

MAX_YAML_BYTES = 2 * 1024 * 1024
"""Largest YAML text accepted (2 MiB; checked in characters for text, bytes for files). A
contract of a thousand columns is under 100 KB; PyYAML, in pure Python, needs about ten seconds
per megabyte for the bounds scan, the compose and the construct together."""

__all__ = [
    "MAX_DEPTH",
    "MAX_YAML_BYTES",
    "MAX_YAML_NODES",
    "check_yaml_file_size",
    "loads_json",
    "parse_yaml",
]


def parse_yaml(text: str, source: str | Path) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document safely; return the data and its node tree (for line numbers).

    Refuses, with an InputError naming ``source:line``, text larger than
    :data:`MAX_YAML_BYTES`, nesting deeper than :data:`MAX_DEPTH`, aliases that would expand the
    document beyond :data:`MAX_YAML_NODES` nodes or that refer to the node they sit in, and
    malformed YAML.
    """
    if len(text) > MAX_YAML_BYTES:
        raise InputError(
            f"YAML text is {len(text):,} characters, more than the limit of "
            f"{MAX_YAML_BYTES:,}; refusing to parse it",
            source,
        )
    try:
        _check_events(text, source)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            # Constructing from the same node tree (instead of parsing twice) flattens merge
            # keys (`<<: *anchor`) into it; `config._line_of` looks keys up last-first, the
            # way the constructor lets a later key win, so line numbers stay right.
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"malformed YAML: {problem}", f"{source}{line}") from exc
    return data, node


class _Loader(yaml.SafeLoader):
    """SafeLoader whose scalar conversion errors are YAML errors that carry the node's line.

    SafeLoader turns ``2024-13-45``, ``!!int abc`` or ``!!bool x`` into ValueError, KeyError
    and the like, without a position: a crash (exit 3) for what is only a typo in a file.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            tag = str(node.tag).rsplit(":", 1)[-1]
            value = ""
            if isinstance(node, yaml.ScalarNode):
                text = repr(node.value)
                value = (text if len(text) <= 60 else text[:57] + "...") + " "
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {value}as {tag} ({type(exc).__name__}: {exc})",
                node.start_mark,
            ) from exc


def check_yaml_file_size(path: Path, what: str) -> None:
    """Refuse a YAML file over :data:`MAX_YAML_BYTES` before reading it into memory."""
    try:
        size = path.stat().st_size
    except OSError:
        return  # reading it will report the problem
    if size > MAX_YAML_BYTES:
        raise InputError(
            f"{what} file is {size:,} bytes, more than the limit of {MAX_YAML_BYTES:,}; "
            "refusing to parse it",
            path,
        )


@dataclass
class _Open:
    """A mapping or sequence whose end event has not come yet."""

    anchor: str | None
    nodes: int = 1  # itself, plus its children as they close (aliases expanded)
    height: int = 1  # levels of collections from it down, aliases expanded


def _check_events(text: str, source: str | Path) -> None:
    """Walk the parse events once and refuse depth or alias expansion beyond the limits.

    Every anchored node's expanded size and height are recorded when its events close; an alias
    then counts as what its anchor expands to. So the running total is exactly the size of the
    fully expanded document, known after each event, and a bomb is stopped at the first alias
    that takes it over the budget, long before anything expands it.
    """
    stack: list[_Open] = []
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (expanded nodes, height)
    total = 0

    def where(event: yaml.Event) -> str:
        mark = event.start_mark  # the parser always sets it; a line number is what users need
        return f"{source}:{mark.line + 1}" if mark is not None else str(source)

    def too_deep(event: yaml.Event, via: str = "") -> InputError:
        return InputError(
            f"YAML nested deeper than {MAX_DEPTH} levels{via}; refusing to parse it", where(event)
        )

    def add(nodes: int, height: int) -> None:
        """A finished node (scalar, alias or closed collection) joins its parent."""
        if stack:
            parent = stack[-1]
            parent.nodes += nodes
            parent.height = max(parent.height, height + 1)

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            anchors.clear()  # anchors are per document
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise too_deep(event)
            stack.append(_Open(event.anchor))
            total += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            closed = stack.pop()
            if closed.anchor is not None:
                anchors[closed.anchor] = (closed.nodes, closed.height)
            add(closed.nodes, closed.height)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
            total += 1
            add(1, 0)
        elif isinstance(event, yaml.AliasEvent):
            if any(frame.anchor == event.anchor for frame in stack):
                raise InputError(
                    f"alias *{event.anchor} refers to a node that contains it (a recursive "
                    "structure); refusing to parse it",
                    where(event),
                )
            # An undefined alias counts one; the composer reports it as malformed YAML.
            nodes, height = anchors.get(event.anchor or "", (1, 0))
            if len(stack) + height > MAX_DEPTH:
                raise too_deep(event, f" once alias *{event.anchor} is expanded")
            total += nodes
            add(nodes, height)
        else:
            continue
        if total > MAX_YAML_NODES:
            raise InputError(
                f"YAML aliases expand to more than {MAX_YAML_NODES:,} nodes (an alias bomb?); "
                "refusing to parse it",
                where(event),
            )


# A JSON string, or the start of one that never ends (then it runs to the end of the text).
# Unambiguous, so matching is linear in the text whatever it holds.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def loads_json(text: str | bytes, source: str, what: str = "JSON") -> Any:
    """Parse JSON from an untrusted file or string; bad input is an InputError naming ``source``.

    Refuses nesting deeper than :data:`MAX_DEPTH` (before ``json.loads`` could recurse into a
    RecursionError), text that is not UTF-8/16/32 and malformed JSON, each with one line that
    says which line of the text is at fault. ``what`` names the document in the message
    (``"suite JSON"`` gives ``malformed suite JSON: ...``).
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
        except UnicodeDecodeError as exc:
            raise InputError(f"malformed {what}: not UTF-8 text ({exc.reason} at byte "
                             f"{exc.start})", source) from None
    line = _too_deep_at(text)
    if line is not None:
        raise InputError(
            f"{what} nested deeper than {MAX_DEPTH} levels (line {line}); refusing to parse it",
            source,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"malformed {what}: {exc.msg} (line {exc.lineno}, column {exc.colno})", source
        ) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(f"malformed {what}: {exc}", source) from None


def _too_deep_at(text: str) -> int | None:
    """The line where JSON ``text`` first nests deeper than :data:`MAX_DEPTH`, else None.

    Strings are blanked out first (valid JSON strings hold no raw newline, so line numbers
    survive), then the brackets are counted. Malformed text may be miscounted, but only after
    the point where ``json.loads`` stops anyway.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None  # cannot be deeper, whatever the strings hold
    bare = _JSON_STRING.sub('""', text)
    depth = 0
    for match in _JSON_BRACKET.finditer(bare):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return bare.count("\n", 0, match.start()) + 1
        else:
            depth -= 1
    return None
