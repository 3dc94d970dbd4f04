"""Figures of the data gate: drift and skew per column, and the target's distribution.

The checks already judge every column; a chart is for the reader who wants to see at a glance
*how far* each column is from its limit and which ones moved most. So a drift figure puts the
statistic the gate judged against the threshold it used:

* ``data.drift`` (``data.skew`` for training vs serving): one bar per column, one series (the
  statistic) and the threshold as a horizontal line. When columns were judged by different
  statistics (PSI on large numeric columns, a KS test on small ones, a per-column override),
  one figure per statistic, ``data.drift.psi``, ``data.drift.ks``, ..., since a threshold line
  only means something on its own statistic's scale.
* Tests (``ks``, ``chi2``) are judged on a p-value that drifts when it is *below* the
  threshold, and whose interesting values (1e-3 vs 1e-30) are invisible on a linear scale. They
  are drawn as ``-log10(p)`` (capped at ``P_CAP``), with the threshold transformed the same
  way, so that on every drift chart "above the line" means "drifted".
* At most ``MAX_COLUMNS`` bars: the columns furthest past (or closest to) their threshold, in
  that order, so the chart opens with what moved most.
* ``data.label``: the target's class shares, reference vs current (plus one "other" bar when
  there are many classes, so each series still sums to 1), or for a numeric target its
  quantiles side by side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from mlgate.data.settings import P_VALUE_METHODS
from mlgate.figures import Figure, Series, Threshold

if TYPE_CHECKING:
    from mlgate.data.drift import ColumnOutcome

MAX_COLUMNS = 40
MAX_CLASSES = 30  # class bars in data.label; the rest are summed into one "other" bar
P_CAP = 10.0  # -log10(p) beyond this (p < 1e-10) is drawn at the cap: "as drifted as it gets"
PRIORITY = {"drift": 15, "skew": 30}
LABEL_PRIORITY = 25
QUANTILES = (("min", 0.0), ("q05", 0.05), ("q25", 0.25), ("median", 0.5), ("q75", 0.75),
             ("q95", 0.95), ("max", 1.0))
_NAMES = {"psi": "PSI", "js": "Jensen-Shannon distance", "ks": "KS test",
          "ks_stat": "KS statistic", "chi2": "chi-squared test"}


def drift_figures(outcomes: Sequence[ColumnOutcome], label: str, ref_name: str,
                  cur_name: str) -> list[Figure]:
    """One bar figure per statistic used (``data.<label>`` when there is only one).

    ``label`` is ``drift`` or ``skew``; columns that could not be compared (missing, no values,
    a changed type) have no statistic and are left to their failed checks.
    """
    methods: dict[str, list[ColumnOutcome]] = {}
    for out in outcomes:
        methods.setdefault(out.method, []).append(out)
    single = len(methods) == 1
    return [_drift_figure(method, group, label, ref_name, cur_name,
                          f"data.{label}" if single else f"data.{label}.{method}")
            for method, group in methods.items()]


def _drift_figure(method: str, group: list[ColumnOutcome], label: str, ref_name: str,
                  cur_name: str, figure_id: str) -> Figure:
    p_value = method in P_VALUE_METHODS
    ranked = sorted(group, key=lambda o: -_severity(o, p_value))
    shown = ranked[:MAX_COLUMNS]
    values: list[float | None] = [_drawn(o.statistic, p_value) for o in shown]
    thresholds = _thresholds(method, group, p_value)
    name = _NAMES.get(method, method)
    y_label = f"-log10 p-value of the {name}" if p_value else name
    what = "drifted" if label == "drift" else "skewed"
    note = f"bars above a line {what} ({cur_name} against {ref_name})"
    if p_value:
        note += f"; p-values below 1e-{P_CAP:g} are drawn at {P_CAP:g}"
    if len(group) > len(shown):
        note += (f"; the {len(shown)} of {len(group)} columns closest to or furthest past "
                 f"their threshold")
    return Figure(
        id=figure_id,
        title=f"{label.capitalize()} per column: {name}",
        kind="bar",
        x=[o.column for o in shown],
        series=[Series(name, values)],
        x_label="column",
        y_label=y_label,
        thresholds=thresholds,
        priority=PRIORITY.get(label, 30),
        note=note,
    )


def _drawn(value: float, p_value: bool) -> float | None:
    """The bar height: the statistic, or ``-log10(p)`` capped for a test."""
    if not math.isfinite(value):
        return P_CAP if p_value and value == 0 else None
    if not p_value:
        return value
    return min(P_CAP, -math.log10(max(value, 10 ** -P_CAP)))


def _severity(out: ColumnOutcome, p_value: bool) -> float:
    """How far a column is past its threshold, as a ratio on the drawn scale (1 = on it)."""
    value = _drawn(out.statistic, p_value)
    limit = _drawn(out.threshold, p_value)
    if value is None:
        return math.inf
    if not limit:
        return value
    return value / limit


def _thresholds(method: str, group: list[ColumnOutcome], p_value: bool) -> list[Threshold]:
    """One line per distinct threshold; several only when columns override it, named by
    (a few of) the columns it applies to."""
    by_value: dict[float, list[str]] = {}
    for out in group:
        by_value.setdefault(out.threshold, []).append(out.column)
    lines = []
    relation = "p <" if p_value else ">"
    for value, columns in sorted(by_value.items()):
        drawn = _drawn(value, p_value)
        if drawn is None:
            continue
        name = f"drifts when {relation} {value:g}"
        if len(by_value) > 1:
            name += " (" + ", ".join(columns[:3]) + (", ..." if len(columns) > 3 else "") + ")"
        lines.append(Threshold(name, drawn))
    return lines


def label_class_figure(target: str, labels: Sequence[str], r_share: np.ndarray,
                       c_share: np.ndarray, ref_name: str, cur_name: str) -> Figure:
    """Class shares of the target, reference vs current, in class order.

    With more than ``MAX_CLASSES`` classes the ones whose share moved most are kept and the
    rest summed into one bar, so both series still sum to 1 and the chart stays readable.
    """
    keep = list(range(len(labels)))
    if len(labels) > MAX_CLASSES:
        moved = np.abs(np.asarray(c_share) - np.asarray(r_share))
        keep = sorted(np.argsort(-moved, kind="stable")[: MAX_CLASSES - 1].tolist())
    x = [str(labels[i]) for i in keep]
    ref = [float(r_share[i]) for i in keep]
    cur = [float(c_share[i]) for i in keep]
    if len(keep) < len(labels):
        x.append(f"({len(labels) - len(keep)} other classes)")
        ref.append(max(0.0, 1.0 - sum(ref)))
        cur.append(max(0.0, 1.0 - sum(cur)))
    return Figure(
        id="data.label", title=f"Label distribution: {target}", kind="bar", x=x,
        series=[Series("reference", list(ref)), Series("current", list(cur))],
        x_label="class", y_label="share of rows with a label", priority=LABEL_PRIORITY,
        note=f"class shares of {target!r} in {ref_name} (reference) and {cur_name} (current)",
    )


def label_quantile_figure(target: str, reference: Sequence[float], current: np.ndarray,
                          ref_name: str, cur_name: str) -> Figure:
    """Quantiles of a numeric target side by side: a shift or a spread reads off directly.

    ``reference`` holds the reference's quantiles at ``QUANTILES``' levels (a saved reference
    profile keeps them; the reference values themselves may be gone)."""
    levels = [q for _, q in QUANTILES]
    ref = list(reference)
    cur = np.quantile(current, levels)
    return Figure(
        id="data.label", title=f"Label distribution: {target}", kind="bar",
        x=[name for name, _ in QUANTILES],
        series=[Series("reference", [float(v) for v in ref]),
                Series("current", [float(v) for v in cur])],
        x_label="quantile", y_label=target, priority=LABEL_PRIORITY,
        note=f"quantiles of {target!r} in {ref_name} (reference) and {cur_name} (current)",
    )
