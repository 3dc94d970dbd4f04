"""Drift and skew of a Spark DataFrame against a reference profile.

The reference side is a :class:`~mlgate.data.reference_profile.ReferenceProfile`, the very
object the pandas engine uses (:mod:`mlgate.data.baseline`, or :mod:`.profile` for a reference
only Spark reads). The current side is counted in the JVM (:mod:`.counts`) on the reference's
grid, refined for an exact reference as :func:`mlgate.data.drift_stats._bin_current` refines
it (the current data's finite values, or the subsample pandas would draw, by position). The
statistics then come from :func:`~mlgate.data.drift_stats.drift_from_histograms` and the
verdicts from :mod:`mlgate.data.drift`'s shared functions: same counts, same numbers.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.data import drift_stats
from mlgate.data.drift import (
    ColumnOutcome,
    categorical_outcomes,
    column_kind,
    judge,
    numeric_outcomes,
    shared_columns,
)
from mlgate.data.settings import DriftRules
from mlgate.data.spark import counts
from mlgate.data.spark.profile import kind, subsample

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from mlgate.data.reference_profile import ReferenceProfile
    from mlgate.result import CheckResult, Table

EXAMPLES = 3


def compare(profile: ReferenceProfile, current: DataFrame, rules: DriftRules, label: str,
            ref_source: str, cur_source: str, outcomes: list[ColumnOutcome] | None = None,
            ) -> tuple[list[CheckResult], Table]:
    """:func:`mlgate.data.drift.compare` with the current data on Spark (same checks, same
    table, same statistics)."""
    from mlgate.data.drift import _no_values

    checks: list[CheckResult] = []
    broken: list[str] = []
    common = shared_columns(profile, list(current.columns), rules, label, ref_source,
                            cur_source, checks, broken)
    numeric: list[str] = []
    categorical: list[str] = []
    for col in common:
        dtype = current.schema[col].dataType.simpleString()
        got = column_kind(profile.columns[col], kind(current, col), dtype, label, ref_source,
                          cur_source, checks, broken,
                          partial(_type_examples, current, col, profile))
        if got == "numeric":
            if profile.columns[col].numeric is None:
                broken.append(col)
                checks.append(_no_values(label, col, "reference"))
            else:
                numeric.append(col)
        elif got == "categorical":
            categorical.append(col)
    judged = _numeric(profile, current, numeric, rules, label, checks, broken)
    judged += _categorical(profile, current, categorical, rules, label, checks, broken)
    return judge(judged, broken, checks, rules, label, outcomes)


def current_grids(profile: ReferenceProfile, current: DataFrame, cols: list[str]
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per column the grid the current data is counted on and the reference's histogram on
    it (:func:`~mlgate.data.drift_stats.current_grid`; an exact reference's grid refined
    with the same edges the pandas engine adds, which costs a count and a subsample of
    those columns)."""
    exact = [c for c in cols if (ref := profile.columns[c].numeric) is not None and ref.exact]
    finite = dict(zip(exact, counts.summarise(current, exact).finite, strict=True)
                  ) if exact else {}
    out = []
    for col in cols:
        ref = profile.columns[col].numeric
        assert ref is not None  # compare() keeps only columns with a reference histogram
        extra = None
        n = int(finite.get(col, 0))
        if n:
            sample = subsample(current, col, n, drift_stats.CURRENT_SEED)
            extra = drift_stats.refinement(sample, n, profile.fine_bins, profile.exact_limit)
        out.append(drift_stats.current_grid(ref, extra))
    return out


def _numeric(profile: ReferenceProfile, current: DataFrame, cols: list[str],
             rules: DriftRules, label: str, checks: list[CheckResult], broken: list[str]
             ) -> list[ColumnOutcome]:
    if not cols:
        return []
    grids = current_grids(profile, current, cols)
    hist = counts.histograms(current, cols, [g[0] for g in grids])
    refs = [profile.columns[c].numeric for c in cols]
    binned = [drift_stats.binned(ref, edges, ref_counts, h.counts, h.nulls, h.nonfinite)
              for ref, (edges, ref_counts), h in zip(refs, grids, hist, strict=True)
              if ref is not None]
    with np.errstate(divide="ignore", invalid="ignore"):  # columns without finite data values
        stats = drift_stats.drift_from_histograms(binned)

    bounds = {cols[i]: (r.minimum, r.maximum) for i, r in enumerate(refs)
              if r is not None and stats.outside_cur[i]}
    examples = _outside_examples(current, bounds)

    def outside(i: int, count: int) -> dict[str, Any]:
        return {"outside_reference_range": count, "reference_range": list(bounds[cols[i]]),
                "example_rows": examples.get(cols[i], [])}

    return numeric_outcomes(cols, [r for r in refs if r is not None], stats, hist[0].rows,
                            rules, label, checks, broken, outside)


def _categorical(profile: ReferenceProfile, current: DataFrame, cols: list[str],
                 rules: DriftRules, label: str, checks: list[CheckResult],
                 broken: list[str]) -> list[ColumnOutcome]:
    if not cols:
        return []
    counted = counts.category_counts(current, cols)
    rows = current.count()  # Parquet answers from its footers
    nulls = [(rows - sum(c.values())) / rows for c in counted]

    def examples(col: str, unseen: list[str]) -> list[dict[str, Any]]:
        from pyspark.sql import functions as F

        text = F.col(counts.quote(col)).cast("string")
        return [r.asDict() for r in current.where(text.isin(unseen)).limit(EXAMPLES).collect()]

    return categorical_outcomes(profile, cols, counted, nulls, rules, label, checks, broken,
                                examples)


def _outside_examples(current: DataFrame, bounds: dict[str, tuple[float, float]]
                      ) -> dict[str, list[dict[str, Any]]]:
    """Up to 3 rows per column holding a finite value outside the reference's range, from one
    job for all columns (the counts come from the histograms). Such rows are rare, so the
    job stops early; a column may get fewer examples when others filled the limit. Spark rows
    carry no position, so they are shown without one."""
    if not bounds:
        return {}
    from functools import reduce

    def off(col: str) -> Any:
        x, (lo, hi) = counts.finite_value(col), bounds[col]
        return (x < lo) | (x > hi)

    rows = current.where(reduce(lambda a, b: a | b, [off(c) for c in bounds])) \
        .limit(EXAMPLES * len(bounds)).collect()
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        values = row.asDict()
        for col, (lo, hi) in bounds.items():
            x = values.get(col)
            if (isinstance(x, int | float) and np.isfinite(x) and (x < lo or x > hi)
                    and len(out.setdefault(col, [])) < EXAMPLES):
                out[col].append(values)
    return out


def _type_examples(current: DataFrame, col: str, profile: ReferenceProfile) -> list[Any]:
    """Up to 3 current values that show why the column's kind differs: text that is no
    number where the reference was numeric, else any value."""
    from pyspark.sql import functions as F

    value = F.col(counts.quote(col))
    odd = value.isNotNull()
    if profile.columns[col].kind == "numeric":
        odd = odd & F.expr(f"try_cast({counts.quote(col)} AS double)").isNull()
    return [r[0] for r in current.where(odd).select(value).limit(EXAMPLES).collect()]
