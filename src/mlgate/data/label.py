"""Label drift: the target's distribution in the data against the reference, apart from features.

Feature drift asks whether the model's inputs moved; label drift asks whether what it must
predict moved (a churn rate that doubled, a class that became rare, a price level that rose).
The two call for different readings, so the target is kept out of the feature statistics (and
out of skew, where serving logs have no label) and judged here with its own method, threshold
and severity (``data.label_drift``).

A class target (text, bool, or a numeric column with at most ``MAX_CLASSES`` distinct values in
the reference, as the model gate infers a classification task) is compared by its class shares:
chi-squared test on small samples, Jensen-Shannon distance above. Why not PSI, as for
categorical features: over two or three classes PSI barely moves (a churn rate going from 10%
to 20% gives PSI 0.08, far below the usual 0.2), while the Jensen-Shannon distance of that
change is 0.12, above its usual 0.1 (Evidently's default for categorical columns and targets
above 1000 rows). A numeric
target is compared exactly like a numeric feature (KS test on small samples, PSI over reference
deciles above).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.data.drift import _decide, _outside_range, _round, _rows
from mlgate.data.figures import QUANTILES as FIGURE_QUANTILES
from mlgate.data.settings import (
    DEFAULT_THRESHOLDS,
    MAX_CLASSES,
    P_VALUE_METHODS,
    DataSettings,
    LabelRules,
)
from mlgate.errors import InputError
from mlgate.figures import Figure
from mlgate.result import CheckResult, Status, Table

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.data.drift_stats import NumericReference
    from mlgate.data.reference_profile import LabelProfile, ReferenceProfile

PREFIX = "label drift"
TABLE_CLASSES = 30  # class rows shown in the table (the largest share changes first beyond it)
QUANTILES = (("min", 0.0), ("25%", 0.25), ("median", 0.5), ("75%", 0.75), ("max", 1.0))


def label_drift(
    reference: ReferenceProfile | pd.DataFrame,
    current: pd.DataFrame,
    settings: DataSettings,
    ref_source: str,
    cur_source: str,
    figures: list[Figure] | None = None,
) -> tuple[list[CheckResult], list[Table]]:
    """The ``label drift: <target>`` check and its table (class shares, or summary figures).

    ``reference`` is the reference's profile (saved, or built in memory with the target's
    statistics) or the reference frame itself (profiled here). ``figures``, when given,
    receives the ``data.label`` figure (class shares or quantiles, reference vs current)
    whenever both sides had values to compare.

    A reference without the target is a configuration problem when the target was named for
    the data gate (``--target``, ``data.target``): the baseline never changes, so the gate could
    never pass; that is exit 2 naming the setting. When the target only came from
    ``model.target`` the person never asked for label drift, so it is a warning. Data without
    the target is a failed check: the labels went missing, a data problem.
    """
    target = settings.target
    rules = settings.label
    if not target:
        return [], []
    from mlgate.data.reference_profile import ReferenceProfile, build

    if not isinstance(reference, ReferenceProfile):
        reference = build(reference[[c for c in reference.columns if str(c) == target]],
                          target, summaries=False)
    name = f"{PREFIX}: {target}"
    ref_col = reference.columns.get(target)
    if ref_col is None:
        message = (f"target column {target!r} is not in {ref_source}: label drift compares the "
                   f"target's distribution with the reference's")
        if settings.target_explicit:
            raise InputError(f"{message}; fix the column name or the reference, or set "
                             f"data.label_drift.enabled: false", settings.target_source)
        return [CheckResult(name, Status.WARN,
                            f"{message}, so none was computed (the target comes from "
                            f"{settings.target_source}); add the label to the reference or set "
                            f"data.label_drift.enabled: false", value="not in reference",
                            details={"column": target})], []
    cur_col = _column(current, target)
    if cur_col is None:
        return [CheckResult(name, Status.FAIL,
                            f"target column {target!r} is in {ref_source} but missing from "
                            f"{cur_source}", value="missing", details={"column": target})], []
    lab = reference.label
    if lab is None or lab.column != target:
        raise InputError(f"the reference profile has no label statistics for target "
                         f"{target!r}; write it again with `mlgate profile --target {target}`",
                         reference.path or ref_source)
    cur = current[cur_col]
    kind, why, source = _kind(lab, rules)
    small = rules.small_sample or settings.drift.small_sample
    if kind == "classes":
        if lab.classes is None:
            raise InputError(f"target column {target!r} has {lab.distinct} distinct values in "
                             f"{ref_source}, too many to compare as classes", source)
        return _classes(lab, reference.rows, cur, current, rules, small, name, target,
                        _Sink(figures, ref_source, cur_source))
    if not lab.numeric:
        raise InputError(f"target column {target!r} holds {ref_col.dtype} values in "
                         f"{ref_source}, but {why} needs numbers", source)
    if not _is_numeric(cur):
        return [CheckResult(name, Status.FAIL,
                            f"target column {target!r} is non-numeric ({cur.dtype}) in "
                            f"{cur_source} but numeric ({ref_col.dtype}) in {ref_source}",
                            value=str(cur.dtype), threshold=ref_col.dtype,
                            details={"column": target})], []
    return _numeric(lab, ref_col.numeric, reference.rows, cur, current, rules, small, name,
                    target, _Sink(figures, ref_source, cur_source))


class _Sink:
    """Where a label figure goes (nowhere when the caller did not ask), with the names of the
    two data sets for its note."""

    def __init__(self, figures: list[Figure] | None, ref_name: str, cur_name: str) -> None:
        self.figures, self.ref_name, self.cur_name = figures, ref_name, cur_name

    def classes(self, target: str, labels: list[str], r_share: np.ndarray,
                c_share: np.ndarray) -> None:
        if self.figures is not None:
            from mlgate.data.figures import label_class_figure

            self.figures.append(label_class_figure(target, labels, r_share, c_share,
                                                   self.ref_name, self.cur_name))

    def numeric(self, target: str, r: list[float], c: np.ndarray) -> None:
        if self.figures is not None:
            from mlgate.data.figures import label_quantile_figure

            self.figures.append(label_quantile_figure(target, r, c, self.ref_name,
                                                      self.cur_name))


def _column(frame: pd.DataFrame, name: str) -> Any:
    """The frame's own label of column ``name`` (Parquet may have non-string labels)."""
    for col in frame.columns:
        if str(col) == name:
            return col
    return None


def _is_numeric(series: pd.Series) -> bool:
    from pandas.api import types as t

    return bool(t.is_numeric_dtype(series) and not t.is_bool_dtype(series))


def _kind(ref: LabelProfile, rules: LabelRules) -> tuple[str, str, str]:
    """``classes`` or ``numeric``, what decided it and where that is set (for messages).

    Order: ``kind`` set in the config, a method that only fits one kind, ``model.task``, then
    the reference itself (text, or at most ``MAX_CLASSES`` distinct numbers: classes).
    """
    if rules.kind != "auto":
        return rules.kind, f"kind {rules.kind}", f"{rules.where}.kind"
    implied = rules.implied_kind()
    if implied is not None:
        return implied, f"method {rules.method}", f"{rules.where}.method"
    if rules.task:
        kind = "classes" if rules.task == "classification" else "numeric"
        return kind, f"task {rules.task}", rules.task_where
    if ref.numeric and ref.distinct > MAX_CLASSES:
        return "numeric", "its values", rules.where
    return "classes", "its values", rules.where


def _method(rules: LabelRules, kind: str, n_ref: float, n_cur: float, small: int
            ) -> tuple[str, float]:
    """Test on small samples, distance above; a threshold given with ``auto`` applies to the
    distance only (as for features)."""
    method, threshold = rules.method, rules.threshold
    if method == "auto":
        if min(n_ref, n_cur) <= small:
            method, threshold = ("chi2" if kind == "classes" else "ks"), None
        else:
            method = "js" if kind == "classes" else "psi"
    return method, float(threshold if threshold is not None else DEFAULT_THRESHOLDS[method])


def _check(name: str, target: str, kind: str, method: str, value: float, threshold: float,
           drifted: bool, rules: LabelRules, stats: dict[str, Any], extra: str = ""
           ) -> CheckResult:
    bad = Status.FAIL if rules.severity == "fail" else Status.WARN
    p_value = method in P_VALUE_METHODS
    relation = "<" if p_value else ">"
    what = f"{method} {'p-value ' if p_value else ''}"
    if drifted:
        message = f"drifted: {what}{value:.4g} {relation} {threshold:g}"
    else:
        message = f"{what}{value:.4g} (drifts when {relation} {threshold:g})"
    return CheckResult(name, bad if drifted else Status.PASS, message + extra,
                       value=_round(value), threshold=threshold,
                       details={"column": target, "type": kind, "method": method,
                                "severity": rules.severity, **stats})


def class_labels(series: pd.Series) -> pd.Series:
    """The non-missing values of a class column as text, the same text for the same class
    whatever the dtype: a CSV label column with an empty cell is read as float (``1.0``), and
    must still match ``1`` in a file without one."""
    values = series.dropna()
    if _is_numeric(values):
        numbers = values.to_numpy(dtype=np.float64)
        if np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers)):
            return values.astype(np.int64).astype(str)
        return values.astype(np.float64).astype(str)
    return values.astype(str)


def _classes(ref: LabelProfile, ref_rows: int, cur: pd.Series, current: pd.DataFrame,
             rules: LabelRules, small: int, name: str, target: str, sink: _Sink
             ) -> tuple[list[CheckResult], list[Table]]:
    import pandas as pd

    from mlgate.data.drift_stats import categorical_drift

    r_counts = pd.Series(ref.classes or {}, dtype=np.int64)
    c_counts = class_labels(cur).value_counts()
    if r_counts.sum() == 0 or c_counts.sum() == 0:
        side = "reference" if r_counts.sum() == 0 else "data"
        return [CheckResult(name, Status.FAIL,
                            f"target column {target!r} has only missing values in the {side}",
                            value="no values", details={"column": target})], []
    labels = sorted(r_counts.index.union(c_counts.index), key=_class_order)
    r = r_counts.reindex(labels, fill_value=0).to_numpy(dtype=np.float64)
    c = c_counts.reindex(labels, fill_value=0).to_numpy(dtype=np.float64)
    stats = categorical_drift(r[None, :], c[None, :])
    values = {"chi2": stats.chi2[0], "chi2_pvalue": stats.chi2_pvalue[0], "psi": stats.psi[0],
              "js": stats.js[0]}
    method, threshold = _method(rules, "classes", r.sum(), c.sum(), small)
    value, drifted = _decide(method, values, threshold)
    r_share, c_share = r / r.sum(), c / c.sum()
    sink.classes(target, labels, r_share, c_share)
    change = c_share - r_share
    details: dict[str, Any] = {k: _round(v) for k, v in values.items()}
    details.update(
        n_reference=int(r.sum()), n_data=int(c.sum()), classes=len(labels),
        null_share_reference=round(ref.nulls / ref_rows, 4),
        null_share_data=round(float(cur.isna().mean()), 4),
        shares={label: {"reference": round(float(rs), 4), "data": round(float(cs), 4)}
                for label, rs, cs in _largest_changes(labels, r_share, c_share, change)},
    )
    unseen = [label for label, n in zip(labels, r, strict=True) if n == 0]
    vanished = [label for label, n in zip(labels, c, strict=True) if n == 0]
    if unseen:
        details["unseen_classes"] = unseen[:5]
        details["example_rows"] = _rows(current, _isin(cur, unseen[:5]))
    if vanished:
        details["missing_classes"] = vanished[:5]
    # The class whose share moved most; of a tie (always, with two classes) the rarer one,
    # which is the one people track (the churn rate, not the retention rate).
    moved = np.abs(change)
    top = int(np.lexsort((r_share, -np.round(moved, 12)))[0])
    extra = (f"; largest change: class {labels[top]!r} {r_share[top]:.1%} -> "
             f"{c_share[top]:.1%}" if len(labels) > 1 else f"; one class only: {labels[0]!r}")
    check = _check(name, target, "classes", method, value, threshold, drifted, rules, details,
                   extra)
    shown = {label for label, _, _ in _largest_changes(labels, r_share, c_share, change)}
    rows = [[label, int(rn), round(float(rs), 4), int(cn), round(float(cs), 4),
             round(float(ch), 4)]
            for label, rn, rs, cn, cs, ch in zip(labels, r, r_share, c, c_share, change,
                                                 strict=True) if label in shown]
    if len(labels) > len(shown):
        rows.append([f"({len(labels) - len(shown)} more classes)", "", "", "", "", ""])
    table = Table(name, ["class", "reference rows", "reference share", "data rows",
                         "data share", "change"], rows)
    return [check], [table]


def _class_order(label: str) -> tuple[int, float, str]:
    """Numeric class labels in numeric order (2 before 10), then text labels alphabetically."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _largest_changes(labels: list[str], r_share: np.ndarray, c_share: np.ndarray,
                     change: np.ndarray) -> list[tuple[str, float, float]]:
    """Every class when there are few; else the ``TABLE_CLASSES`` whose share moved most, in
    class order (a report must stay small whatever the target)."""
    keep: list[int] = list(range(len(labels)))
    if len(labels) > TABLE_CLASSES:
        keep = sorted(np.argsort(-np.abs(change), kind="stable")[:TABLE_CLASSES].tolist())
    return [(labels[i], float(r_share[i]), float(c_share[i])) for i in keep]


def _isin(series: pd.Series, labels: list[str]) -> np.ndarray:
    """Row mask of the values whose class label is one of ``labels`` (missing values: no)."""
    out = np.zeros(len(series), dtype=bool)
    out[series.notna().to_numpy()] = class_labels(series).isin(labels).to_numpy()
    return out


def _numeric(lab: LabelProfile, ref: NumericReference | None, ref_rows: int, cur: pd.Series,
             current: pd.DataFrame, rules: LabelRules, small: int, name: str, target: str,
             sink: _Sink) -> tuple[list[CheckResult], list[Table]]:
    from mlgate.data.drift_stats import finite, numeric_drift

    c_all = cur.to_numpy(dtype=np.float64, na_value=np.nan)
    c = finite(c_all)
    if ref is None or lab.quantiles is None or len(c) == 0:
        side = "reference" if ref is None or lab.quantiles is None else "data"
        return [CheckResult(name, Status.FAIL,
                            f"target column {target!r} has no finite values in the {side}",
                            value="no values", details={"column": target})], []
    stats = numeric_drift([ref], [c])
    sink.numeric(target, [lab.quantile(q) for _, q in FIGURE_QUANTILES], c)
    values = {"ks": stats.ks[0], "ks_pvalue": stats.ks_pvalue[0], "psi": stats.psi[0],
              "js": stats.js[0]}
    method, threshold = _method(rules, "numeric", stats.n_ref[0], stats.n_cur[0], small)
    value, drifted = _decide(method, values, threshold)
    mean = float(lab.mean if lab.mean is not None else np.nan)
    details: dict[str, Any] = {k: _round(v) for k, v in values.items()}
    details.update(
        n_reference=int(stats.n_ref[0]), n_data=int(stats.n_cur[0]),
        ks_resolution=_round(stats.ks_resolution[0]),
        null_share_reference=round(lab.nulls / ref_rows, 4),
        null_share_data=round(float(np.isnan(c_all).mean()), 4),
        mean_reference=_round(mean), mean_data=_round(c.mean()),
    )
    if stats.outside_cur[0]:
        details.update(_outside_range(current, target, c_all, ref.minimum, ref.maximum,
                                      int(stats.outside_cur[0])))
    extra = f"; mean {mean:.4g} -> {c.mean():.4g}"
    check = _check(name, target, "numeric", method, value, threshold, drifted, rules, details,
                   extra)
    std = float(lab.std if lab.std is not None else np.nan)
    rows: list[list[Any]] = [["rows", int(stats.n_ref[0]), len(c)],
                             ["mean", _round(mean), _round(c.mean())],
                             ["std", _round(std), _round(c.std())]]
    cq = np.quantile(c, [q for _, q in QUANTILES])
    rows += [[label, _round(lab.quantile(q)), _round(b)]
             for (label, q), b in zip(QUANTILES, cq, strict=True)]
    return [check], [Table(name, ["statistic", "reference", "data"], rows)]
