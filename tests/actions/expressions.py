"""The subset of GitHub Actions' expression language that mlgate's actions and workflows use.

Implemented from GitHub's documentation ("Evaluate expressions in workflows and actions"):
literals, context access (``inputs.x``, ``steps.id.outputs.y``, ``github.event.*``, ...,
case-insensitive, missing keys are null), ``!``, ``<``/``<=``/``>``/``>=``, ``==``/``!=`` with
GitHub's loose typing, ``&&``/``||`` returning an operand (not a boolean), and the functions
``contains``, ``startsWith``, ``endsWith``, ``format``, ``join``, ``toJSON``, ``fromJSON``,
``success``, ``failure``, ``always``, ``cancelled``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>0x[0-9a-fA-F]+|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<str>'(?:[^']|'')*')
    | (?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.*])
    | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """A syntax error, or a function or context the harness does not know."""


@dataclass
class Status:
    """What the status functions see: has an earlier step (or needed job) failed?"""

    failed: bool = False
    cancelled: bool = False


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot parse expression at {text[pos:]!r}")
        pos = m.end()
        if m.group("num") is not None:
            raw = m.group("num")
            tokens.append(("lit", int(raw, 16) if raw.startswith("0x") else _number(raw)))
        elif m.group("str") is not None:
            tokens.append(("lit", m.group("str")[1:-1].replace("''", "'")))
        elif m.group("op") is not None:
            tokens.append(("op", m.group("op")))
        else:
            ident = m.group("ident")
            keywords = {"true": True, "false": False, "null": None}
            tokens.append(("lit", keywords[ident]) if ident in keywords else ("ident", ident))
    return tokens


def _number(raw: str) -> float | int:
    value = float(raw)
    return int(value) if value.is_integer() and "." not in raw and "e" not in raw.lower() else value


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], contexts: Mapping[str, Any],
                 status: Status) -> None:
        self.tokens = tokens
        self.i = 0
        self.contexts = {k.lower(): v for k, v in contexts.items()}
        self.status = status

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, op: str | None = None) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None or (op is not None and tok != ("op", op)):
            raise ExpressionError(f"expected {op or 'a value'}, got {tok}")
        self.i += 1
        return tok

    def at(self, op: str) -> bool:
        return self.peek() == ("op", op)

    # Precedence, lowest first: ||, &&, == !=, < <= > >=, !, access.
    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.at("||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.eq()
        while self.at("&&"):
            self.take()
            right = self.eq()
            value = right if truthy(value) else value
        return value

    def eq(self) -> Any:
        value = self.cmp()
        while self.at("==") or self.at("!="):
            op = self.take()[1]
            right = self.cmp()
            same = loose_equal(value, right)
            value = same if op == "==" else not same
        return value

    def cmp(self) -> Any:
        value = self.unary()
        while any(self.at(o) for o in ("<", "<=", ">", ">=")):
            op = self.take()[1]
            right = self.unary()
            a, b = _coerce_pair(value, right)
            value = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return value

    def unary(self) -> Any:
        if self.at("!"):
            self.take()
            return not truthy(self.unary())
        return self.access(self.primary())

    def primary(self) -> Any:
        tok = self.take()
        kind, value = tok
        if kind == "lit":
            return value
        if tok == ("op", "("):
            inner = self.or_()
            self.take(")")
            return inner
        if kind == "ident":
            if self.at("("):
                self.take("(")
                args: list[Any] = []
                while not self.at(")"):
                    args.append(self.or_())
                    if not self.at(")"):
                        self.take(",")
                self.take(")")
                return self.call(value, args)
            name = value.lower()
            if name not in self.contexts:
                raise ExpressionError(f"unknown context {value!r}")
            return self.contexts[name]
        raise ExpressionError(f"unexpected {tok}")

    def access(self, value: Any) -> Any:
        while self.at(".") or self.at("["):
            if self.take()[1] == ".":
                kind, key = self.take()
                if kind != "ident":
                    raise ExpressionError(f"expected a property name, got {key!r}")
                value = get_property(value, key)
            else:
                key = self.or_()
                self.take("]")
                value = get_property(value, key)
        return value

    def call(self, name: str, args: list[Any]) -> Any:
        fn = _FUNCTIONS.get(name.lower())
        if fn is None:
            raise ExpressionError(f"unknown function {name}()")
        return fn(self.status, *args)


def get_property(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        wanted = str(key).lower()
        for k, v in value.items():
            if str(k).lower() == wanted:
                return v
        return None
    if isinstance(value, list) and isinstance(key, (int, float)) and not isinstance(key, bool):
        index = int(key)
        return value[index] if 0 <= index < len(value) else None
    return None


def truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def loose_equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) and not isinstance(a, (dict, list)):
        return bool(a == b)
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a is b
    return to_number(a) == to_number(b)


def _coerce_pair(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower(), b.lower()
    return to_number(a), to_number(b)


def to_string(value: Any) -> str:
    """How a value is written into a string (``${{ }}`` inside text, env values, inputs)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value)


def _contains(_: Status, search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(loose_equal(x, item) for x in search)
    return to_string(item).lower() in to_string(search).lower()


def _format(_: Status, fmt: Any, *args: Any) -> str:
    text = to_string(fmt)
    out, i = [], 0
    while i < len(text):
        if text.startswith("{{", i):
            out.append("{")
            i += 2
        elif text.startswith("}}", i):
            out.append("}")
            i += 2
        elif text[i] == "{":
            end = text.index("}", i)
            out.append(to_string(args[int(text[i + 1:end])]))
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda _, s, p: to_string(s).lower().startswith(to_string(p).lower()),
    "endswith": lambda _, s, p: to_string(s).lower().endswith(to_string(p).lower()),
    "format": _format,
    "join": lambda _, a, sep=",": to_string(sep).join(to_string(x) for x in a)
    if isinstance(a, list) else to_string(a),
    "tojson": lambda _, v: json.dumps(v, indent=2),
    "fromjson": lambda _, v: json.loads(to_string(v)),
    "success": lambda st: not st.failed and not st.cancelled,
    "failure": lambda st: st.failed,
    "always": lambda st: True,
    "cancelled": lambda st: st.cancelled,
}

_STATUS_FUNCTION = re.compile(r"\b(success|failure|always|cancelled)\s*\(", re.IGNORECASE)
_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def evaluate(expression: str, contexts: Mapping[str, Any], status: Status | None = None) -> Any:
    """Evaluate one expression (the text between ``${{`` and ``}}``)."""
    return _Parser(tokenize(expression), contexts, status or Status()).parse()


def interpolate(value: Any, contexts: Mapping[str, Any], status: Status | None = None) -> Any:
    """Expand ``${{ }}`` in a YAML value. A string that is exactly one expression keeps the
    expression's type; any other string becomes text."""
    if isinstance(value, Mapping):
        return {k: interpolate(v, contexts, status) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, contexts, status) for v in value]
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value.strip())
    if whole and value.strip().count("${{") == 1:
        return evaluate(whole.group(1), contexts, status)
    return _TEMPLATE.sub(lambda m: to_string(evaluate(m.group(1), contexts, status)), value)


def condition(text: Any, contexts: Mapping[str, Any], status: Status) -> bool:
    """Evaluate an ``if:``; without a status function GitHub prefixes ``success() &&``."""
    if text is None or text == "":
        return not status.failed and not status.cancelled
    if isinstance(text, bool):
        source = "true" if text else "false"
    else:
        source = str(text).strip()
        whole = _TEMPLATE.fullmatch(source)
        if whole:
            source = whole.group(1)
    if not _STATUS_FUNCTION.search(source):
        source = f"success() && ({source})"
    return truthy(evaluate(source, contexts, status))
