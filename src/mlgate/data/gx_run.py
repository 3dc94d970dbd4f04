"""Run expectations on a DataFrame through an ephemeral Great Expectations context.

GX does the validating; this module only builds the throw-away context (no files, no
analytics, no progress bars), hands it the batch, and maps each GX result to a CheckResult
with the column, the observed value, the threshold and a few example bad rows.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from mlgate.data.suites import Expectation
from mlgate.result import CheckResult, Status

if TYPE_CHECKING:
    import pandas as pd

EXAMPLE_VALUES = 5
EXAMPLE_ROWS = 3
_INDEX = "mlgate_index"
# kwargs that are not part of "the threshold" a reader wants to see next to a check
_NOT_THRESHOLD = {"column", "column_A", "column_B", "column_list", "batch_id", "result_format",
                  "catch_exceptions", "meta", "include_config"}


@contextlib.contextmanager
def quiet_gx() -> Iterator[None]:
    """Silence GX's loggers, warnings and analytics for the duration of a validation."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logger = logging.getLogger("great_expectations")
    old_level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(old_level)


def run_expectations(
    frame: pd.DataFrame, expectations: Sequence[Expectation], prefix: str
) -> list[CheckResult]:
    """Validate ``frame`` against ``expectations``; one CheckResult per expectation, in order."""
    present = {str(c) for c in frame.columns}
    checks: list[CheckResult | None] = []
    runnable: list[tuple[int, Expectation]] = []
    for i, exp in enumerate(expectations):
        missing = [c for c in exp.columns() if c not in present]
        if missing:
            checks.append(CheckResult(
                _check_name(prefix, exp), Status.FAIL,
                f"column {missing[0]!r} is not in the data ({exp.source})",
                value="missing", threshold=_threshold(exp),
                details={"column": missing[0], "source": exp.source},
            ))
        else:
            checks.append(None)
            runnable.append((i, exp))
    if runnable:
        results = _validate(frame, [e for _, e in runnable])
        for (i, exp), res in zip(runnable, results, strict=True):
            checks[i] = _to_check(prefix, exp, res, frame)
    return [c for c in checks if c is not None]


def _validate(frame: pd.DataFrame, expectations: Sequence[Expectation]) -> list[dict[str, Any]]:
    with quiet_gx():
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        # A Spark DataFrame (data.engine: spark) gets GX's Spark data source: the expectations
        # then run as Spark jobs, on the cluster that holds the data.
        spark = type(frame).__module__.startswith("pyspark.")
        source = (context.data_sources.add_spark("mlgate", persist=False) if spark
                  else context.data_sources.add_pandas("mlgate"))
        asset = source.add_dataframe_asset("data")
        batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        suite = gx.ExpectationSuite(name="mlgate")
        for i, exp in enumerate(expectations):
            # GX does not return results in suite order; the index in meta maps them back.
            domain = exp.to_gx()
            suite.add_expectation(domain.copy(update={"meta": {**(domain.meta or {}), _INDEX: i}}))
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        outcome = batch.validate(
            suite,
            result_format={"result_format": "SUMMARY",
                           "partial_unexpected_count": EXAMPLE_VALUES},
        )
        ordered: list[dict[str, Any]] = [{} for _ in expectations]
        for r in outcome.results:
            # read the fields we use; to_json_dict() would serialise every result in full
            item = {"success": r.success, "result": r.result or {},
                    "exception_info": r.exception_info}
            config = r.expectation_config
            assert config is not None  # GX always echoes the configuration it ran
            ordered[int(config.meta[_INDEX])] = item
        return ordered


def _check_name(prefix: str, exp: Expectation) -> str:
    if exp.label:
        return f"{prefix}{exp.label}"
    cols = exp.columns()
    return f"{prefix}{exp.type}({', '.join(cols)})" if cols else f"{prefix}{exp.type}"


def _threshold(exp: Expectation) -> Any:
    items = {k: v for k, v in exp.kwargs.items() if k not in _NOT_THRESHOLD and v is not None}
    if len(items) == 1:
        return next(iter(items.values()))
    return items or None


def _to_check(
    prefix: str, exp: Expectation, res: dict[str, Any], frame: pd.DataFrame
) -> CheckResult:
    name = _check_name(prefix, exp)
    result = res.get("result") or {}
    cols = exp.columns()
    details: dict[str, Any] = {"expectation": exp.type, "source": exp.source}
    if cols:
        details["column"] = cols[0] if len(cols) == 1 else cols
    error = _exception_message(res.get("exception_info"))
    if error:
        return CheckResult(name, Status.ERROR, f"GX could not evaluate it: {error}",
                           threshold=_threshold(exp), details=details)
    success = bool(res.get("success"))
    value: Any
    if "observed_value" in result:
        value = result["observed_value"]
    elif "unexpected_count" in result:
        value = result.get("unexpected_count")
        details["element_count"] = result.get("element_count")
        details["unexpected_percent"] = result.get("unexpected_percent")
    else:
        value = None
    if not success:
        examples = list(result.get("partial_unexpected_list") or [])[:EXAMPLE_VALUES]
        if examples:
            details["unexpected_examples"] = examples
        rows = _example_rows(frame, result.get("partial_unexpected_index_list"))
        if rows:
            details["example_rows"] = rows
    message = _message(exp, success, result, value)
    return CheckResult(name, Status.PASS if success else Status.FAIL, message,
                       value=value, threshold=_threshold(exp), details=details)


def _message(exp: Expectation, success: bool, result: dict[str, Any], value: Any) -> str:
    if success:
        return "ok"
    if "unexpected_count" in result:
        pct = result.get("unexpected_percent") or 0.0
        count = result.get("unexpected_count")
        total = result.get("element_count")
        examples = list(result.get("partial_unexpected_list") or [])[:EXAMPLE_VALUES]
        shown = ", ".join(repr(v) for v in examples)
        tail = f"; e.g. {shown}" if shown else ""
        return f"{count} of {total} values ({pct:.2f}%) unexpected{tail}"
    if value is not None:
        return f"observed {_short(value)}"
    return "expectation not met"


def _example_rows(frame: pd.DataFrame, index_list: Any) -> list[dict[str, Any]]:
    """A few whole rows behind the unexpected values (never more than EXAMPLE_ROWS)."""
    if not index_list or not hasattr(frame, "iloc"):  # Spark rows have no position
        return []
    picked = []
    for item in list(index_list)[:EXAMPLE_ROWS]:
        key = item if not isinstance(item, dict) else next(iter(item.values()), None)
        if key in frame.index:
            row = frame.loc[key]
            picked.append({"row": _row_number(key), **{str(k): v for k, v in row.items()}})
    return picked


def _row_number(key: Any) -> Any:
    """The 0-based data row (pandas index); in a CSV file it sits on line ``row + 2``."""
    try:
        return int(key)
    except (TypeError, ValueError):
        return str(key)


def _exception_message(info: Any) -> str:
    if not isinstance(info, dict):
        return ""
    if "raised_exception" in info:
        return str(info.get("exception_message") or "") if info.get("raised_exception") else ""
    for inner in info.values():  # {metric id: {raised_exception, exception_message, ...}}
        if isinstance(inner, dict) and inner.get("raised_exception", True):
            msg = str(inner.get("exception_message") or "").strip().splitlines()
            if msg:
                return msg[-1][:300]
    return ""


def _short(value: Any) -> str:
    item = getattr(value, "item", None)  # numpy scalar -> plain number for the message
    text = repr(item() if callable(item) and getattr(value, "ndim", 1) == 0 else value)
    return text if len(text) <= 120 else text[:117] + "..."
