"""Compare two data sets column by column (drift: reference vs data; skew: training vs serving).

Statistics come from :mod:`mlgate.data.drift_stats`; this module decides which columns are
numeric or categorical, which method and threshold apply, and turns the numbers into checks: one
per column (severity ``warn`` unless configured ``fail``), and one data-set rule that fails when
more than ``max_drift_share`` of the compared columns drifted (Evidently's data-set drift).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.data.settings import (
    CATEGORICAL_METHODS,
    DEFAULT_THRESHOLDS,
    NUMERIC_METHODS,
    P_VALUE_METHODS,
    DriftRules,
)
from mlgate.errors import InputError
from mlgate.result import CheckResult, Status, Table

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.data.drift_stats import NumericDrift, NumericReference
    from mlgate.data.reference_profile import ColumnProfile, ReferenceProfile

EXAMPLES = 3


@dataclass
class ColumnOutcome:
    column: str
    kind: str  # numeric | categorical
    method: str
    statistic: float
    threshold: float
    drifted: bool
    stats: dict[str, Any] = field(default_factory=dict)


def compare(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame,
    rules: DriftRules,
    label: str,
    ref_source: str,
    cur_source: str,
    outcomes: list[ColumnOutcome] | None = None,
) -> tuple[list[CheckResult], Table]:
    """Checks and a summary table for ``current`` against ``reference``.

    ``reference`` is a frame or its saved profile (:mod:`mlgate.data.reference_profile`); a
    frame is profiled in memory first, so both give the same statistics. ``label`` is
    ``drift`` or ``skew`` and prefixes every check name. ``outcomes``, when given, receives
    each compared column's statistic and threshold (for the figures).
    """
    from pandas.api import types as t

    from mlgate.data.reference_profile import ReferenceProfile, build

    if not isinstance(reference, ReferenceProfile):
        excluded_cols = [c for c in reference.columns if str(c) in set(rules.exclude)]
        reference = build(reference.drop(columns=excluded_cols), summaries=False)
    profile = reference
    checks: list[CheckResult] = []
    broken: list[str] = []
    common = shared_columns(profile, [str(c) for c in current.columns], rules, label,
                            ref_source, cur_source, checks, broken)
    numeric, categorical = [], []
    by_name = {str(c): c for c in current.columns}
    for col in common:
        r, c = profile.columns[col], current[by_name[col]]
        c_kind = ("datetime" if t.is_datetime64_any_dtype(c) else
                  "numeric" if t.is_numeric_dtype(c) and not t.is_bool_dtype(c)
                  else "categorical")
        kind = column_kind(r, c_kind, str(c.dtype), label, ref_source, cur_source, checks,
                           broken, partial(_type_examples, c, r.kind == "numeric"))
        if kind == "numeric":
            numeric.append(col)
        elif kind == "categorical":
            categorical.append(col)
    if any(k != v for k, v in by_name.items()):  # Parquet may label columns with non-text
        current = current.rename(columns={v: k for k, v in by_name.items()})
    judged = _numeric(profile, current, numeric, rules, checks, broken, label)
    judged += _categorical(profile, current, categorical, rules, checks, broken, label)
    return judge(judged, broken, checks, rules, label, outcomes)


def shared_columns(profile: ReferenceProfile, current: list[str], rules: DriftRules,
                   label: str, ref_source: str, cur_source: str, checks: list[CheckResult],
                   broken: list[str]) -> list[str]:
    """The reference's columns (less ``exclude``) that ``current`` also has, in reference
    order; a failing check per reference column missing from ``current`` (recorded in
    ``broken``) and a warning per new column. Shared by both engines (pandas, Spark)."""
    excluded = set(rules.exclude)
    ref_cols = [c for c in profile.columns if c not in excluded]
    cur_cols = set(current)
    common = [c for c in ref_cols if c in cur_cols]
    if not common:
        raise InputError(
            f"shares no columns with {cur_source} (nothing to compare for {label}; "
            f"columns: {', '.join(ref_cols[:5])})", ref_source)
    for col in ref_cols:
        if col not in cur_cols:
            broken.append(col)
            checks.append(CheckResult(f"{label}: {col}", Status.FAIL,
                                      f"column {col!r} is in {ref_source} but missing from "
                                      f"{cur_source}", value="missing",
                                      details={"column": col}))
    extra = sorted(cur_cols - set(ref_cols) - excluded)
    for col in extra:
        checks.append(CheckResult(f"{label}: {col}", Status.WARN,
                                  f"column {col!r} is not in {ref_source}; no {label} computed",
                                  value="new column", details={"column": col}))
    return common


def column_kind(ref: ColumnProfile, cur_kind: str, cur_dtype: str, label: str,
                ref_source: str, cur_source: str, checks: list[CheckResult],
                broken: list[str], examples: Callable[[], list[Any]]) -> str | None:
    """``numeric`` or ``categorical`` when the column can be compared, else None after
    adding its check: a datetime column warns, a column numeric on one side only fails (and
    ``examples()`` shows current values that are not numbers, or are)."""
    col = ref.name
    if ref.kind == "datetime" or cur_kind == "datetime":
        checks.append(CheckResult(f"{label}: {col}", Status.WARN,
                                  f"datetime column {col!r} is not compared; add it to "
                                  f"{label}.exclude", value="datetime",
                                  details={"column": col}))
        return None
    r_num, c_num = ref.kind == "numeric", cur_kind == "numeric"
    if r_num != c_num:
        broken.append(col)
        kinds = ("numeric" if r_num else "non-numeric", "numeric" if c_num else "non-numeric")
        checks.append(CheckResult(
            f"{label}: {col}", Status.FAIL,
            f"column {col!r} is {kinds[1]} ({cur_dtype}) in {cur_source} but {kinds[0]} "
            f"({ref.dtype}) in {ref_source}", value=cur_dtype, threshold=ref.dtype,
            details={"column": col, "examples": examples()},
        ))
        return None
    return "numeric" if r_num else "categorical"


def judge(judged: list[ColumnOutcome], broken: list[str], checks: list[CheckResult],
          rules: DriftRules, label: str, outcomes: list[ColumnOutcome] | None
          ) -> tuple[list[CheckResult], Table]:
    """Per-column checks, the data-set rule and the table from computed outcomes (both
    engines end here, so their verdicts are worded and decided alike)."""
    for out in judged:
        checks.append(_column_check(out, rules, label))
    if outcomes is not None:
        outcomes += judged
    drifted = [o.column for o in judged if o.drifted] + broken
    compared = len(judged) + len(broken)
    share = len(drifted) / compared if compared else 0.0
    ok = share <= rules.max_drift_share
    checks.append(CheckResult(
        f"{label}: data set", Status.PASS if ok else Status.FAIL,
        f"{len(drifted)} of {compared} columns drifted ({share:.0%}); fails above "
        f"{rules.max_drift_share:.0%}" + (f": {', '.join(drifted[:8])}" if drifted else ""),
        value=round(share, 4), threshold=rules.max_drift_share,
        details={"drifted_columns": drifted, "compared_columns": compared},
    ))
    table = Table(
        f"{label} per column",
        ["column", "type", "method", "statistic", "threshold", "drifted"],
        [[o.column, o.kind, o.method + (" p-value" if o.method in P_VALUE_METHODS else ""),
          _round(o.statistic), o.threshold,
          "yes" if o.drifted else "no"] for o in judged],
    )
    return checks, table


def _method(rules: DriftRules, col: str, kind: str, n_ref: float, n_cur: float
            ) -> tuple[str, float]:
    override = rules.columns.get(col)
    method = rules.numeric_method if kind == "numeric" else rules.categorical_method
    threshold = rules.numeric_threshold if kind == "numeric" else rules.categorical_threshold
    if override and override.method:
        method, threshold = override.method, None
        fits = NUMERIC_METHODS if kind == "numeric" else CATEGORICAL_METHODS
        if method not in fits:
            raise InputError(
                f"method {method!r} does not apply to {col!r}, a {kind} column (use one of "
                f"{', '.join(fits)})", f"{rules.where}.columns.{col}.method")
    if override and override.threshold is not None:
        threshold = float(override.threshold)
    if method == "auto":
        # Tests on small samples, a distance on large ones (p-values of any test are "significant"
        # on millions of rows). A configured threshold applies to the distance (PSI) only.
        if min(n_ref, n_cur) <= rules.small_sample:
            method, threshold = ("ks" if kind == "numeric" else "chi2"), None
        else:
            method = "psi"
    return method, float(threshold if threshold is not None else DEFAULT_THRESHOLDS[method])


def _decide(method: str, stats: dict[str, float], threshold: float) -> tuple[float, bool]:
    key = {"ks": "ks_pvalue", "chi2": "chi2_pvalue", "ks_stat": "ks"}.get(method, method)
    value = float(stats[key])
    return value, (value < threshold) if method in P_VALUE_METHODS else (value > threshold)


def _numeric(profile: ReferenceProfile, current: pd.DataFrame, cols: list[str],
             rules: DriftRules, checks: list[CheckResult], broken: list[str],
             label: str) -> list[ColumnOutcome]:
    from mlgate.data.drift_stats import numeric_drift

    usable: list[str] = []
    refs: list[NumericReference] = []
    curs: list[np.ndarray] = []
    for col in cols:
        ref = profile.columns[col].numeric
        if ref is None:
            broken.append(col)
            checks.append(_no_values(label, col, "reference"))
            continue
        usable.append(col)
        refs.append(ref)
        curs.append(current[col].to_numpy(dtype=np.float64, na_value=np.nan))
    if not usable:
        return []
    with np.errstate(divide="ignore", invalid="ignore"):  # columns without finite data values
        stats = numeric_drift(refs, curs)

    def outside(i: int, count: int) -> dict[str, Any]:
        return _outside_range(current, usable[i], curs[i], refs[i].minimum, refs[i].maximum,
                              count)

    return numeric_outcomes(usable, refs, stats, len(current), rules, label, checks, broken,
                            outside)


def numeric_outcomes(cols: list[str], refs: list[NumericReference], stats: NumericDrift,
                     rows: int, rules: DriftRules, label: str, checks: list[CheckResult],
                     broken: list[str], outside: Callable[[int, int], dict[str, Any]]
                     ) -> list[ColumnOutcome]:
    """Method, threshold, verdict and details per numeric column from its statistics (both
    engines). ``rows``: the current data's; ``outside(i, count)``: the details of column
    ``i``'s ``count`` values outside the reference's range (with example rows if the engine
    can show them)."""
    out = []
    for i, col in enumerate(cols):
        if stats.n_cur[i] == 0:
            broken.append(col)
            checks.append(_no_values(label, col, "data"))
            continue
        ref = refs[i]
        values = {"ks": stats.ks[i], "ks_pvalue": stats.ks_pvalue[i], "psi": stats.psi[i],
                  "js": stats.js[i]}
        method, threshold = _method(rules, col, "numeric", stats.n_ref[i], stats.n_cur[i])
        value, drifted = _decide(method, values, threshold)
        details = {k: _round(v) for k, v in values.items()}
        details.update(
            n_reference=int(stats.n_ref[i]), n_data=int(stats.n_cur[i]),
            ks_resolution=_round(stats.ks_resolution[i]),
            null_share_reference=round(ref.nulls / ref.rows, 4),
            null_share_data=round(int(stats.nulls_cur[i]) / rows, 4),
            nonfinite_data=int(stats.nonfinite_cur[i]))
        if stats.outside_cur[i]:
            details.update(outside(i, int(stats.outside_cur[i])))
        out.append(ColumnOutcome(col, "numeric", method, value, threshold, drifted, details))
    return out


def _no_values(label: str, col: str, side: str) -> CheckResult:
    return CheckResult(f"{label}: {col}", Status.FAIL,
                       f"column {col!r} has no finite values in the {side}",
                       value="no values", details={"column": col})


def _categorical(profile: ReferenceProfile, current: pd.DataFrame, cols: list[str],
                 rules: DriftRules, checks: list[CheckResult], broken: list[str],
                 label: str) -> list[ColumnOutcome]:
    from mlgate.data.reference_profile import category_counts

    counted = [category_counts(current[col]) for col in cols]
    nulls = [float(current[col].isna().mean()) for col in cols]

    def examples(col: str, unseen: list[str]) -> list[dict[str, Any]]:
        return _rows(current, current[col].astype(str).isin(unseen))

    return categorical_outcomes(profile, cols, counted, nulls, rules, label, checks, broken,
                                examples)


def categorical_outcomes(profile: ReferenceProfile, cols: list[str],
                         counted: list[dict[str, int]], null_shares: list[float],
                         rules: DriftRules, label: str, checks: list[CheckResult],
                         broken: list[str],
                         examples: Callable[[str, list[str]], list[dict[str, Any]]]
                         ) -> list[ColumnOutcome]:
    """Statistics, verdict and details per categorical column from the reference's and the
    data's category counts (both engines). ``examples(col, unseen)`` gives a few rows holding
    categories the reference never saw (the Spark engine fetches them with ``limit``)."""
    import pandas as pd

    from mlgate.data.drift_stats import categorical_drift

    usable: list[str] = []
    ref_rows: list[np.ndarray] = []
    cur_rows: list[np.ndarray] = []
    extras: dict[str, dict[str, Any]] = {}
    for col, current, null_share in zip(cols, counted, null_shares, strict=True):
        ref = profile.columns[col]
        r_counts = pd.Series(ref.counts or {}, dtype=np.float64)
        c_counts = pd.Series(current, dtype=np.float64)
        if r_counts.sum() == 0 or c_counts.sum() == 0:
            broken.append(col)
            side = "reference" if r_counts.sum() == 0 else "data"
            checks.append(CheckResult(f"{label}: {col}", Status.FAIL,
                                      f"column {col!r} has only missing values in the {side}",
                                      value="no values", details={"column": col}))
            continue
        labels = r_counts.index.union(c_counts.index)
        usable.append(col)
        ref_rows.append(r_counts.reindex(labels, fill_value=0).to_numpy(dtype=np.float64))
        cur_rows.append(c_counts.reindex(labels, fill_value=0).to_numpy(dtype=np.float64))
        unseen = [str(v) for v in c_counts.index if v not in r_counts.index]
        extras[col] = {
            "null_share_reference": round(ref.nulls / profile.rows, 4),
            "null_share_data": round(null_share, 4),
            "categories": len(labels),
        }
        if unseen:
            extras[col]["unseen_categories"] = unseen[:5]
            extras[col]["example_rows"] = examples(col, unseen[:5])
    if not usable:
        return []
    width = max(len(r) for r in ref_rows)
    ref_m = np.zeros((len(usable), width))
    cur_m = np.zeros((len(usable), width))
    for i, (r, c) in enumerate(zip(ref_rows, cur_rows, strict=True)):
        ref_m[i, : len(r)], cur_m[i, : len(c)] = r, c
    stats = categorical_drift(ref_m, cur_m)
    out = []
    for i, col in enumerate(usable):
        values = {"chi2": stats.chi2[i], "chi2_pvalue": stats.chi2_pvalue[i],
                  "psi": stats.psi[i], "js": stats.js[i]}
        method, threshold = _method(rules, col, "categorical", stats.n_ref[i], stats.n_cur[i])
        value, drifted = _decide(method, values, threshold)
        details = {k: _round(v) for k, v in values.items()}
        details.update(n_reference=int(stats.n_ref[i]), n_data=int(stats.n_cur[i]),
                       **extras[col])
        out.append(ColumnOutcome(col, "categorical", method, value, threshold, drifted,
                                 details))
    return out


def _column_check(out: ColumnOutcome, rules: DriftRules, label: str) -> CheckResult:
    override = rules.columns.get(out.column)
    severity = (override.severity if override and override.severity else rules.severity)
    bad = Status.FAIL if severity == "fail" else Status.WARN
    relation = "<" if out.method in P_VALUE_METHODS else ">"
    what = f"{out.method} {'p-value ' if out.method in P_VALUE_METHODS else ''}"
    if out.drifted:
        message = f"drifted: {what}{out.statistic:.4g} {relation} {out.threshold:g}"
    else:
        message = f"{what}{out.statistic:.4g} (drifts when {relation} {out.threshold:g})"
    return CheckResult(f"{label}: {out.column}", bad if out.drifted else Status.PASS, message,
                       value=_round(out.statistic), threshold=out.threshold,
                       details={"column": out.column, "type": out.kind, "method": out.method,
                                **out.stats})


def _outside_range(frame: pd.DataFrame, col: str, values: np.ndarray, lo: float, hi: float,
                   count: int | None = None) -> dict[str, Any]:
    """How many finite data values fall outside the reference's range (infinities are
    counted as non-finite instead), with a few example rows.

    ``count``, when the histogram already gave it, spares a pass over the column: the example
    rows are then searched chunk by chunk and the search stops at the first few.
    """
    if count is None:
        with np.errstate(invalid="ignore"):
            count = int((((values < lo) | (values > hi)) & np.isfinite(values)).sum())
    if not count:
        return {}
    found: list[np.ndarray] = []
    step = 1 << 16
    for start in range(0, len(values), step):
        chunk = values[start:start + step]
        with np.errstate(invalid="ignore"):
            hits = np.flatnonzero(((chunk < lo) | (chunk > hi)) & np.isfinite(chunk))
        if hits.size:
            found.append(hits[:EXAMPLES] + start)
            if sum(len(f) for f in found) >= EXAMPLES:
                break
    positions = np.concatenate(found)[:EXAMPLES] if found else np.array([], dtype=np.intp)
    return {"outside_reference_range": count, "reference_range": [lo, hi],
            "example_rows": [{"row": int(p), **{str(k): v for k, v in
                                                frame.iloc[int(p)].items()}}
                             for p in positions]}


def _rows(frame: pd.DataFrame, mask: Any) -> list[dict[str, Any]]:
    positions = np.flatnonzero(np.asarray(mask))[:EXAMPLES]
    return [{"row": int(p), **{str(k): v for k, v in frame.iloc[int(p)].items()}}
            for p in positions]


def _type_examples(series: pd.Series, want_numeric: bool) -> list[Any]:
    import pandas as pd

    values = series.dropna()
    if want_numeric:
        values = values[pd.to_numeric(values, errors="coerce").isna()]
    return [v for v in values.head(EXAMPLES).tolist()]


def _round(value: Any) -> Any:
    number = float(value)
    return round(number, 6) if np.isfinite(number) else str(number)
