"""The contract's dtype checks and the finite-value check on a Spark DataFrame.

The GX expectations a contract compiles to run unchanged through GX's Spark data source; only
the dtype checks (ours, see :mod:`mlgate.data.contract`) and the infinity check read types and
values themselves. Types come from the schema (no pass over the data); values are read only to
show why a column failed, or, for ``int`` wanted of a floating column, to see whether every
value is whole (one aggregation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlgate.data.contract import PREFIX
from mlgate.data.spark.counts import quote
from mlgate.result import CheckResult, Status

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

EXAMPLES = 3


def describe_dtype(frame: DataFrame, name: str) -> str:
    """Our dtype vocabulary (as :func:`mlgate.data.contract.describe_dtype`) for a Spark type."""
    from pyspark.sql import types as T

    dtype = frame.schema[name].dataType
    if isinstance(dtype, T.BooleanType):
        return "bool"
    if isinstance(dtype, T.ByteType | T.ShortType | T.IntegerType | T.LongType):
        return "int"
    if isinstance(dtype, T.FloatType | T.DoubleType | T.DecimalType):
        return "float"
    if isinstance(dtype, T.TimestampType | T.TimestampNTZType | T.DateType):
        return "datetime"
    return "string"


def dtype_checks(contract: dict[str, Any], frame: DataFrame, source: str
                 ) -> tuple[list[CheckResult], set[str]]:
    """One check per contract column with a ``dtype``; the checks and the columns that failed."""
    checks: list[CheckResult] = []
    failed: set[str] = set()
    present = set(frame.columns)
    for i, col in enumerate(contract.get("columns") or []):
        name, want = str(col["name"]), col.get("dtype")
        if not want or name not in present:
            continue
        actual = describe_dtype(frame, name)
        ok = _matches(want, actual, frame, name)
        details: dict[str, Any] = {"column": name, "source": f"{source}.columns[{i}]",
                                   "spark_type": frame.schema[name].dataType.simpleString()}
        message = "ok"
        if not ok:
            failed.add(name)
            bad = _nonconforming(want, actual, frame, name)
            message = f"column {name!r} is {actual}, expected {want}"
            if bad:
                details["unexpected_examples"] = bad
                message += "; e.g. " + ", ".join(repr(v) for v in bad)
        checks.append(CheckResult(f"{PREFIX}{name} dtype", Status.PASS if ok else Status.FAIL,
                                  message, value=actual, threshold=want, details=details))
    return checks, failed


def _matches(want: str, actual: str, frame: DataFrame, name: str) -> bool:
    if want == actual:
        return True
    if want == "number":
        return actual in ("int", "float")
    if want == "float":
        return actual == "int"
    if want == "int" and actual == "float":
        return not _fractional(frame, name).limit(1).collect()
    if want == "category":
        return actual in ("string", "bool", "int")
    if want == "string":
        return False  # Spark has no categorical type to accept in its place
    return False


def _fractional(frame: DataFrame, name: str) -> DataFrame:
    from pyspark.sql import functions as F

    x = F.col(quote(name)).cast("double")
    return frame.where(x.isNotNull() & ~F.isnan(x) & (x != F.floor(x)))


def _nonconforming(want: str, actual: str, frame: DataFrame, name: str) -> list[Any]:
    """A few values that make the column fail its dtype (text in a numeric column, ...)."""
    from pyspark.sql import functions as F

    column = F.col(quote(name))
    bad: Column | None = None
    if want in ("int", "float", "number") and actual in ("string", "bool"):
        bad = column.isNotNull() & F.expr(f"try_cast({quote(name)} AS double)").isNull()
    elif want == "int" and actual == "float":
        return [r[0] for r in _fractional(frame, name).select(column).limit(EXAMPLES).collect()]
    elif want == "datetime" and actual == "string":
        bad = column.isNotNull() & F.expr(f"try_cast({quote(name)} AS timestamp)").isNull()
    if bad is None:
        return []
    return [r[0] for r in frame.where(bad).select(column).limit(EXAMPLES).collect()]


def rows_and_infinities(frame: DataFrame) -> tuple[int, dict[str, int]]:
    """The row count and the +/-inf count of every floating column, in one aggregation."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    floats = [f.name for f in frame.schema.fields
              if isinstance(f.dataType, T.FloatType | T.DoubleType)]
    exprs = [F.count(F.lit(1)).alias("rows")]
    exprs += [F.sum(F.when(F.abs(F.col(quote(c))) == F.lit(float("inf")), 1).otherwise(0))
              .alias(f"i{k}") for k, c in enumerate(floats)]
    row = frame.agg(*exprs).collect()[0]
    return int(row["rows"]), {c: int(row[f"i{k}"] or 0) for k, c in enumerate(floats)}


def finite_checks(frame: DataFrame, infinities: dict[str, int]) -> list[CheckResult]:
    """Fail on +/-inf in floating columns, as :func:`mlgate.data.gate.finite_checks` does."""
    from pyspark.sql import functions as F

    checks = []
    for col, count in infinities.items():
        if not count:
            continue
        rows = [r.asDict() for r in frame.where(
            F.abs(F.col(quote(col))) == F.lit(float("inf"))).limit(EXAMPLES).collect()]
        checks.append(CheckResult(
            f"finite: {col}", Status.FAIL, f"{count} infinite value(s) in column {col!r}",
            value=count, threshold=0, details={"column": col, "example_rows": rows},
        ))
    return checks
