"""Great Expectations suites kept as JSON in git: load them and validate them before GX runs.

GX would report a malformed suite with a pydantic traceback deep inside its validator; we check
the JSON ourselves first so the user gets ``suites/x.json: expectations[3]: unknown expectation
type 'expect_foo'`` and exit 2 instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.bounded import loads_json
from mlgate.errors import InputError

# kwargs that name columns of the batch; checked against the data before GX runs so a missing
# column becomes a failing check that says so, not an exception inside a metric.
COLUMN_KWARGS = ("column", "column_A", "column_B")
COLUMN_LIST_KWARGS = ("column_list",)


@dataclass
class Expectation:
    """One validated expectation: its GX type, kwargs, and where it came from."""

    type: str
    kwargs: dict[str, Any]
    source: str  # e.g. "suites/churn.json: expectations[3]" or "contract: columns[2]"
    label: str = ""  # short name used in check names (contract checks set their own)
    meta: dict[str, Any] = field(default_factory=dict)
    domain: Any = field(default=None, repr=False)  # the GX Expectation built while checking

    def to_gx(self) -> Any:
        """The GX Expectation object (built once: pydantic validation is not free)."""
        if self.domain is None:
            check_kwargs(self)
        return self.domain

    def columns(self) -> list[str]:
        """Columns this expectation reads (empty for table-level expectations)."""
        names = [str(self.kwargs[k]) for k in COLUMN_KWARGS if k in self.kwargs]
        for key in COLUMN_LIST_KWARGS:
            names += [str(c) for c in self.kwargs.get(key) or []]
        return names


@dataclass
class Suite:
    name: str
    path: str
    expectations: list[Expectation]


def without_column(suite: Suite, column: str) -> Suite:
    """``suite`` for data that lacks ``column`` by design (a batch to score has no target):
    expectations reading it are left out, and a table's ``column_set`` no longer names it.
    Everything else is judged as written."""
    kept: list[Expectation] = []
    for e in suite.expectations:
        if column in e.columns():
            continue
        names = e.kwargs.get("column_set")
        if isinstance(names, list) and column in [str(n) for n in names]:
            kwargs = {**e.kwargs, "column_set": [n for n in names if str(n) != column]}
            e = Expectation(e.type, kwargs, e.source, e.label, e.meta)
        kept.append(e)
    return Suite(suite.name, suite.path, kept)


def import_gx() -> None:
    """Import GX without the warnings of its optional backends.

    GX imports pyspark whenever it is installed (the ``spark`` extra), and pyspark 4 warns
    on that import that it does not yet support pandas 3; the lines on stderr would follow
    every run, pandas engine included, and they are nothing the user can act on.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet", category=FutureWarning)
        import great_expectations  # noqa: F401 - importing registers the core expectations


def known_expectation_types() -> set[str]:
    """Every expectation type registered with the installed GX (core ones, 1.x names)."""
    import_gx()
    from great_expectations.expectations.registry import (
        list_registered_expectation_implementations,
    )

    return set(list_registered_expectation_implementations())


def load_suite(path: str | Path, display: str | None = None) -> Suite:
    """Read and validate a suite JSON file (the format ``ExpectationSuite`` serialises to)."""
    file = Path(path)
    where = display or str(path)
    if not file.is_file():
        raise InputError("suite file not found", where)
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read suite: {exc}", where) from exc
    return parse_suite(loads_json(text, where, "suite JSON"), where)


def parse_suite(raw: Any, where: str) -> Suite:
    if not isinstance(raw, dict):
        raise InputError("a suite must be a JSON object with an 'expectations' list", where)
    items = raw.get("expectations")
    if not isinstance(items, list):
        raise InputError("'expectations' must be a list", where)
    name = str(raw.get("name") or Path(where).stem)
    known = known_expectation_types()
    expectations = [_parse_item(item, f"{where}: expectations[{i}]", known)
                    for i, item in enumerate(items)]
    return Suite(name=name, path=where, expectations=expectations)


def _parse_item(item: Any, source: str, known: set[str]) -> Expectation:
    if not isinstance(item, dict):
        raise InputError("expected an object with 'type' and 'kwargs'", source)
    # GX 0.x files say "expectation_type"; 1.x says "type". Accept both, report the 1.x name.
    etype = item.get("type", item.get("expectation_type"))
    if not isinstance(etype, str) or not etype:
        raise InputError("missing expectation 'type'", source)
    if etype not in known:
        raise InputError(f"unknown expectation type {etype!r}", source)
    kwargs = item.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise InputError(f"{etype}: 'kwargs' must be an object", source)
    meta = item.get("meta") or {}
    expectation = Expectation(etype, dict(kwargs), source, meta=dict(meta))
    check_kwargs(expectation)
    return expectation


def check_kwargs(expectation: Expectation) -> None:
    """Let GX's own model validate the kwargs, and word its first complaint on one line."""
    import_gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    try:
        expectation.domain = ExpectationConfiguration(
            type=expectation.type, kwargs=expectation.kwargs, meta=expectation.meta
        ).to_domain_obj()
    except Exception as exc:
        raise InputError(
            f"{expectation.type}: invalid kwargs: {_pydantic_summary(exc)}", expectation.source
        ) from exc


def _pydantic_summary(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            return f"{loc}: {first.get('msg', '')}".strip(": ")
        except Exception:  # noqa: S110 - fall back to the plain message below
            pass
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
