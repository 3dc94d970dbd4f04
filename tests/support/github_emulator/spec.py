"""Validate HTTP requests and responses against the extracted GitHub OpenAPI subset.

GitHub's description is OpenAPI 3.0 (``nullable: true`` instead of ``type: [..., "null"]``),
so schemas are converted to JSON Schema 2020-12 once, then checked with ``jsonschema``. A
request is valid when its path matches an operation, its path and query parameters have the
declared types (unknown query parameters are errors: GitHub ignores them, which hides typos),
and its JSON body matches the request schema. A response is valid when its status is declared
for the operation (undeclared error statuses must still look like GitHub's ``basic-error``)
and its body matches the declared schema.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

SUBSET = Path(__file__).resolve().parents[2] / "fixtures" / "github" / "openapi-subset.json"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}


@dataclass
class Operation:
    """One operation of the subset: how to match it and how to validate its traffic."""

    operation_id: str
    method: str
    template: str
    regex: re.Pattern[str]
    parameters: list[dict[str, Any]]
    request_schema: dict[str, Any] | None
    request_required: bool
    responses: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    examples: dict[str, Any] = field(default_factory=dict)


class Spec:
    """The subset, converted for validation, with a matcher from (method, path) to operation."""

    def __init__(self, path: Path = SUBSET) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        self.raw = raw
        self._validators: dict[int, Any] = {}
        self.components = _convert(raw["components"])
        self.operations: list[Operation] = []
        for template, item in raw["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                params = [self._deref(p) for p in [*shared, *op.get("parameters", [])]]
                body = op.get("requestBody")
                body = self._deref(body) if body else None
                schema = None
                if body:
                    schema = body.get("content", {}).get("application/json", {}).get("schema")
                responses: dict[str, dict[str, Any] | None] = {}
                examples: dict[str, Any] = {}
                for status, resp in op["responses"].items():
                    resp = self._deref(resp)
                    media = (resp.get("content") or {}).get("application/json")
                    has_schema = bool(media and "schema" in media)
                    responses[status] = _convert(media["schema"]) if has_schema else None
                    if media and media.get("examples"):
                        first = next(iter(media["examples"].values()))
                        examples[status] = self._example(first)
                regex = re.compile(
                    "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
                )
                self.operations.append(
                    Operation(
                        operation_id=op["operationId"],
                        method=method.upper(),
                        template=template,
                        regex=regex,
                        parameters=params,
                        request_schema=_convert(schema) if schema else None,
                        request_required=bool(body and body.get("required")),
                        responses=responses,
                        examples=examples,
                    )
                )
        # Literal segments beat placeholders (/releases/tags/{tag} before /releases/{id}).
        self.operations.sort(key=lambda o: (o.template.count("{"), -len(o.template)))

    def _deref(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            _, kind, name = node["$ref"].removeprefix("#/").split("/")
            node = self.raw["components"][kind][name]
        return node

    def _example(self, node: Any) -> Any:
        node = self._deref(node)
        value = node.get("value") if isinstance(node, dict) else None
        return copy.deepcopy(self._deref(value))

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations:
            if op.method != method.upper():
                continue
            m = op.regex.match(path)
            if m:
                names = re.findall(r"\{([^}]+)\}", op.template)
                return op, dict(zip(names, m.groups(), strict=True))
        return None

    def example(self, operation_id: str, status: str = "") -> Any:
        """A deep copy of the spec's example response (the emulator's response template)."""
        op = next(o for o in self.operations if o.operation_id == operation_id)
        key = status or next(iter(op.examples))
        return copy.deepcopy(op.examples[key])

    # -- validation --------------------------------------------------------------------------

    def validate_request(
        self, op: Operation, path_params: dict[str, str], query: dict[str, list[str]], body: Any,
        has_body: bool,
    ) -> list[str]:
        errors: list[str] = []
        declared = {(p["in"], p["name"]): p for p in op.parameters}
        for (where, name), param in declared.items():
            schema = _convert(param.get("schema", {}))
            if where == "path":
                errors += _check_scalar(path_params.get(name, ""), schema, f"path parameter {name}")
            elif where == "query":
                if name in query:
                    for value in query[name]:
                        errors += _check_scalar(value, schema, f"query parameter {name}")
                elif param.get("required"):
                    errors.append(f"missing required query parameter {name}")
        for name in query:
            if ("query", name) not in declared:
                errors.append(f"unknown query parameter {name!r}")
        if op.request_schema is not None:
            if not has_body:
                if op.request_required:
                    errors.append("missing required JSON body")
            else:
                errors += self._validate(body, op.request_schema, "request body")
        elif has_body and op.method in ("GET", "DELETE"):
            errors.append("unexpected body")
        return [f"{op.method} {op.template} ({op.operation_id}): {e}" for e in errors]

    def validate_response(self, op: Operation | None, status: int, body: Any) -> list[str]:
        label = f"{op.method} {op.template} ({op.operation_id})" if op else "unmatched request"
        if op is None or str(status) not in op.responses:
            if status >= 400:
                return [f"{label}: response {status}: {e}" for e in
                        self._validate(body, ERROR_SCHEMA, "body")]
            return [f"{label}: response status {status} is not declared in the spec"]
        schema = op.responses[str(status)]
        if schema is None:
            return []
        return [f"{label}: response {status}: {e}" for e in self._validate(body, schema, "body")]

    def _validate(self, instance: Any, schema: dict[str, Any], what: str) -> list[str]:
        validator = self._validators.get(id(schema))
        if validator is None:
            root = {"components": self.components, "allOf": [schema]}
            validator = jsonschema.Draft202012Validator(root)
            self._validators[id(schema)] = validator
        out = []
        for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            message = err.message
            if len(message) > 200:  # the instance is quoted in full: say which rule instead
                message = f"violates {err.validator}={str(err.validator_value)[:80]}"
            out.append(f"{what} at {where}: {message}")
        return out[:10]


def _check_scalar(text: str, schema: dict[str, Any], what: str) -> list[str]:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    value: Any = text
    if "integer" in kinds:
        if not re.fullmatch(r"-?\d+", text):
            return [f"{what}: expected an integer, got {text!r}"]
        value = int(text)
    elif "boolean" in kinds:
        if text not in ("true", "false"):
            return [f"{what}: expected true or false, got {text!r}"]
        value = text == "true"
    if "enum" in schema and value not in schema["enum"]:
        return [f"{what}: {value!r} is not one of {schema['enum']}"]
    if "minimum" in schema and isinstance(value, int) and value < schema["minimum"]:
        return [f"{what}: {value} is below {schema['minimum']}"]
    if "maximum" in schema and isinstance(value, int) and value > schema["maximum"]:
        return [f"{what}: {value} is above {schema['maximum']}"]
    return []


def _convert(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12 (``nullable`` becomes a ``null`` type)."""
    if isinstance(node, list):
        return [_convert(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("nullable", "example", "examples"):
            continue
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        else:
            out[key] = _convert(value)
    if node.get("nullable") is True:
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out:
            return {"anyOf": [out, {"type": "null"}]}
    return out
