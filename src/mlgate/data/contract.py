"""The column contract: a few lines of YAML compiled into GX expectations plus dtype checks.

Users describe columns (name, dtype, nullable, range, allowed set, uniqueness) and row-count
bounds; this module turns them into the GX expectations they would otherwise write by hand, so
the same engine validates both. Dtypes are checked here rather than by GX's type expectations
because those compare backend-specific type names ("int64", "str", "string[pyarrow]"), which
change between pandas versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlgate.data.suites import Expectation
from mlgate.result import CheckResult, Status

if TYPE_CHECKING:
    import pandas as pd

PREFIX = "contract: "
DTYPES = ("int", "float", "number", "string", "category", "bool", "datetime")
EXAMPLES = 3


def compile_contract(contract: dict[str, Any], source: str) -> list[Expectation]:
    """The GX expectations a contract stands for (dtype checks excluded: see dtype_checks)."""
    out: list[Expectation] = []
    rows = contract.get("row_count") or {}
    if rows:
        out.append(Expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": rows.get("min"), "max_value": rows.get("max")},
            f"{source}.row_count", label="row count",
        ))
    for i, col in enumerate(contract.get("columns") or []):
        name = str(col["name"])
        where = f"{source}.columns[{i}]"
        if col.get("required", True):
            out.append(Expectation("expect_column_to_exist", {"column": name}, where,
                                   label=f"{name} present"))
        if col.get("nullable", True) is False:
            out.append(Expectation("expect_column_values_to_not_be_null", {"column": name},
                                   where, label=f"{name} not null"))
        if col.get("min") is not None or col.get("max") is not None:
            out.append(Expectation(
                "expect_column_values_to_be_between",
                {"column": name, "min_value": col.get("min"), "max_value": col.get("max")},
                where, label=f"{name} range",
            ))
        if col.get("allowed") is not None:
            out.append(Expectation("expect_column_values_to_be_in_set",
                                   {"column": name, "value_set": list(col["allowed"])},
                                   where, label=f"{name} allowed values"))
        if col.get("unique"):
            out.append(Expectation("expect_column_values_to_be_unique", {"column": name},
                                   where, label=f"{name} unique"))
    return out


def without_column(contract: dict[str, Any], column: str) -> dict[str, Any]:
    """``contract`` without its entry for ``column``: a batch to score has no target, and a
    contract written for labelled data must not fail it for that."""
    columns = [c for c in contract.get("columns") or [] if str(c.get("name")) != column]
    return {**contract, "columns": columns}


def suite_json(expectations: list[Expectation], name: str = "mlgate-contract") -> dict[str, Any]:
    """The compiled contract in GX's suite JSON format (written as evidence)."""
    return {
        "name": name,
        "expectations": [{"type": e.type, "kwargs": e.kwargs, "meta": {"source": e.source}}
                         for e in expectations],
        "meta": {"generated_by": "mlgate"},
    }


def runnable(expectations: list[Expectation], frame: pd.DataFrame,
             dtype_failed: set[str]) -> list[Expectation]:
    """Drop value checks on columns whose dtype already failed (they would only error)."""
    return [e for e in expectations
            if not (e.type in ("expect_column_values_to_be_between",) and
                    set(e.columns()) & dtype_failed)]


def dtype_checks(
    contract: dict[str, Any], frame: pd.DataFrame, source: str
) -> tuple[list[CheckResult], set[str]]:
    """One check per column with a ``dtype``; returns the checks and the columns that failed."""
    checks: list[CheckResult] = []
    failed: set[str] = set()
    for i, col in enumerate(contract.get("columns") or []):
        name, want = str(col["name"]), col.get("dtype")
        if not want or name not in frame.columns:
            continue
        series = frame[name]
        actual = describe_dtype(series)
        ok = dtype_matches(want, series)
        details: dict[str, Any] = {"column": name, "source": f"{source}.columns[{i}]",
                                   "pandas_dtype": str(series.dtype)}
        message = "ok"
        if not ok:
            failed.add(name)
            bad = _nonconforming(want, series)
            if bad is not None and len(bad):
                details["unexpected_examples"] = [v for v in bad.head(EXAMPLES).tolist()]
                details["example_rows"] = [
                    {"row": int(idx) if isinstance(idx, int) else str(idx),
                     **{str(k): v for k, v in frame.loc[idx].items()}}
                    for idx in bad.head(EXAMPLES).index
                ]
                shown = ", ".join(repr(v) for v in details["unexpected_examples"])
                message = f"column {name!r} is {actual}, expected {want}; e.g. {shown}"
            else:
                message = f"column {name!r} is {actual}, expected {want}"
        checks.append(CheckResult(f"{PREFIX}{name} dtype", Status.PASS if ok else Status.FAIL,
                                  message, value=actual, threshold=want, details=details))
    return checks, failed


def describe_dtype(series: pd.Series) -> str:
    """Our dtype vocabulary for a pandas column."""
    from pandas.api import types as t

    if t.is_bool_dtype(series):
        return "bool"
    if t.is_integer_dtype(series):
        return "int"
    if t.is_float_dtype(series):
        return "float"
    if t.is_datetime64_any_dtype(series):
        return "datetime"
    if isinstance(series.dtype, t.CategoricalDtype):
        return "category"
    return "string"


def dtype_matches(want: str, series: pd.Series) -> bool:
    actual = describe_dtype(series)
    if want == actual:
        return True
    if want == "number":
        return actual in ("int", "float")
    if want == "float":
        return actual == "int"  # integers are valid floats (CSV drops the ".0")
    if want == "int" and actual == "float":
        # a nullable int column comes back from CSV as float: accept whole numbers only
        values = series.dropna()
        return bool(((values % 1) == 0).all())
    if want == "category":
        return actual in ("string", "bool", "int")  # a category is any discrete column
    if want == "string":
        return actual == "category"
    return False


def _nonconforming(want: str, series: pd.Series) -> pd.Series | None:
    """A few values that make the column fail its dtype (e.g. text in a numeric column)."""
    import pandas as pd

    values = series.dropna()
    if want in ("int", "float", "number"):
        parsed = pd.to_numeric(values, errors="coerce")
        bad = values[parsed.isna()]
        if want == "int" and bad.empty:
            bad = values[(parsed % 1) != 0]
        return bad
    if want == "datetime":
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        return values[parsed.isna()]
    return None
