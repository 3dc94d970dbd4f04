"""The model gate's charts as data (:mod:`mlgate.figures`): what a reviewer looks at first.

The gate's checks say *whether* a candidate may ship; these figures show *why* at a glance:
the judged metrics of candidate and champion side by side, where one curve lies above the
other (ROC, precision-recall, calibration), which classes or slices a model gets wrong, and
how residuals spread. Every figure is built from outputs the gate already has (predictions
and probabilities on the held-out rows), so drawing costs no extra model call.

Figures are summaries: curves are resampled onto fixed, evenly spaced grids (Mermaid's
xychart spaces points evenly), histograms and per-class bars are bounded, and every value is
a finite float or None (a gap), whatever the data size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mlgate.figures import MAX_POINTS, Figure, Series, Threshold
from mlgate.model.metrics import (
    CALIBRATION_BINS,
    METRICS,
    Outputs,
    calibration_bins,
    calibration_inputs,
)

GRID = [round(i * 0.05, 2) for i in range(21)]  # 0, 0.05, ..., 1.0: ROC and PR x values
MAX_CLASSES = 30  # per-class bars beyond this are unreadable: the most frequent are kept
MAX_BINS = 20  # residual histogram bins

# Ids and priorities (lower is kept longer when a report runs out of room).
METRICS_ID, ROC_ID, PR_ID = "model.metrics", "model.roc", "model.pr"
PER_CLASS_ID, CALIBRATION_ID = "model.per_class", "model.calibration"
RESIDUALS_ID, SLICES_ID = "model.residuals", "model.slices"

Named = Sequence[tuple[str, Outputs]]  # (series name, outputs): candidate first, then champion


def finite(value: Any) -> float | None:
    """A finite float or None: figures carry no NaN or infinity (a gap in the chart)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _finite_all(values: Iterable[Any]) -> list[float | None]:
    return [finite(v) for v in values]


def metrics_figure(
    names: Sequence[str],
    candidate: dict[str, float],
    champion: dict[str, float],
    intervals: dict[str, dict[str, Any]],
) -> Figure | None:
    """The judged metrics (thresholds and champion comparisons) of candidate and champion.

    The candidate's whiskers are the paired bootstrap interval of its difference to the
    champion, placed on the champion's value (``champion + [low, high]``): the range in which
    the candidate's value plausibly lies, so a champion bar outside it is a real difference.
    Metrics without an interval have no whiskers.
    """
    shown = [n for n in dict.fromkeys(names) if finite(candidate.get(n)) is not None]
    if not shown:
        return None
    low: list[float | None] = []
    high: list[float | None] = []
    for name in shown:
        iv = intervals.get(name)
        if iv:
            low.append(finite(iv["champion"] + iv["ci_low"]))
            high.append(finite(iv["champion"] + iv["ci_high"]))
        else:
            low.append(None)
            high.append(None)
    has_interval = any(v is not None for v in low)
    series = [Series("candidate", _finite_all(candidate.get(n) for n in shown),
                     low if has_interval else None, high if has_interval else None)]
    if champion:
        series.append(Series("champion", _finite_all(champion.get(n) for n in shown)))
    directions = ", ".join(
        f"{n} {'higher' if METRICS[n].higher_is_better else 'lower'}" for n in shown
        if n in METRICS
    )
    note = f"better: {directions}" if directions else ""
    if has_interval:
        note += "; whiskers: the paired bootstrap interval of the difference to the champion"
    return Figure(METRICS_ID, "Judged metrics", "bar", list(shown), series,
                  x_label="metric", y_label="value", priority=10, note=note)


def roc_figure(y: np.ndarray, models: Named) -> Figure | None:
    """ROC curves of a binary classifier on a fixed false-positive-rate grid.

    Each point is the best true positive rate reachable at or below that false positive rate
    (the ROC step curve's upper envelope, interpolated), so the series are non-decreasing.
    """
    from sklearn.metrics import roc_curve

    series = []
    for name, out in models:
        if out.proba is None or out.proba.shape[1] != 2:
            continue
        fpr, tpr, _ = roc_curve(y == 1, out.proba[:, 1])
        xs, ys = _envelope_increasing(fpr, tpr)
        series.append(Series(name, _finite_all(np.interp(GRID, xs, ys))))
    if not series:
        return None
    return Figure(ROC_ID, "ROC curve", "line", list(GRID), series,
                  x_label="false positive rate", y_label="true positive rate",
                  priority=20, y_range=(0.0, 1.0),
                  note="higher is better; the diagonal is chance")


def pr_figure(y: np.ndarray, models: Named) -> Figure | None:
    """Precision-recall curves of a binary classifier on a fixed recall grid.

    Precision at recall r is the best precision reached at any recall >= r (the usual
    interpolated envelope): raw precision zigzags, and a zigzag resampled onto 21 points says
    more about the grid than about the model.
    """
    from sklearn.metrics import precision_recall_curve

    series = []
    for name, out in models:
        if out.proba is None or out.proba.shape[1] != 2:
            continue
        precision, recall, _ = precision_recall_curve(y == 1, out.proba[:, 1])
        values = [float(precision[recall >= r - 1e-12].max(initial=0.0)) for r in GRID]
        series.append(Series(name, _finite_all(values)))
    if not series:
        return None
    share = float(np.mean(y == 1))
    return Figure(PR_ID, "Precision-recall curve", "line", list(GRID), series,
                  x_label="recall", y_label="precision", priority=25, y_range=(0.0, 1.0),
                  thresholds=[Threshold("positive rate (chance)", share)],
                  note="higher is better; chance precision is the positive rate")


def per_class_figure(
    y: np.ndarray, classes: np.ndarray, models: Named
) -> Figure | None:
    """Per-class F1 of a multiclass model: which classes it confuses.

    At most :data:`MAX_CLASSES` classes, the most frequent in the held-out rows, in the
    target's class order.
    """
    from sklearn.metrics import f1_score

    n_classes = len(classes)
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)
    keep = sorted(np.argsort(-counts, kind="stable")[:MAX_CLASSES].tolist())
    series = []
    for name, out in models:
        scores = f1_score(y, out.pred, labels=list(range(n_classes)), average=None,
                          zero_division=0)
        series.append(Series(name, _finite_all(scores[keep])))
    note = "higher is better"
    if n_classes > MAX_CLASSES:
        note += f"; the {MAX_CLASSES} most frequent of {n_classes} classes"
    return Figure(PER_CLASS_ID, "F1 per class", "bar", [str(classes[i]) for i in keep], series,
                  x_label="class", y_label="F1", priority=20, y_range=(0.0, 1.0), note=note)


def calibration_figure(y: np.ndarray, models: Named) -> Figure | None:
    """Observed frequency against predicted probability, in the 10 bins of the gate's ECE.

    Binary: the positive class's probability against the positive rate; multiclass: the top
    class's probability against how often it was right. Empty bins are gaps.
    """
    centres = [round((i + 0.5) / CALIBRATION_BINS, 2) for i in range(CALIBRATION_BINS)]
    series = []
    for name, out in models:
        if out.proba is None:
            continue
        confidence, outcome = calibration_inputs(y, out.proba)
        bins = calibration_bins(confidence)
        rows = np.bincount(bins, minlength=CALIBRATION_BINS)
        hits = np.bincount(bins, weights=outcome, minlength=CALIBRATION_BINS)
        series.append(Series(name, [float(hits[i] / rows[i]) if rows[i] else None
                                    for i in range(CALIBRATION_BINS)]))
    if not series:
        return None
    series.append(Series("perfect", list(centres)))
    binary = next(out.proba.shape[1] == 2 for _, out in models if out.proba is not None)
    x_label = "predicted probability" if binary else "top-class probability"
    y_label = "observed positive rate" if binary else "observed accuracy"
    return Figure(CALIBRATION_ID, "Calibration", "line", list(centres), series,
                  x_label=x_label, y_label=y_label, priority=30, y_range=(0.0, 1.0),
                  note="closer to `perfect` is better; gaps are empty bins")


def residuals_figure(y: np.ndarray, models: Named) -> Figure | None:
    """Histogram of residuals (actual - predicted) on bins shared by all models."""
    residuals = [(name, np.asarray(y, dtype=float) - out.pred.astype(float))
                 for name, out in models]
    pooled = np.concatenate([r for _, r in residuals])
    if pooled.size == 0 or not np.all(np.isfinite(pooled)):
        return None
    n_bins = int(min(MAX_BINS, max(1, math.ceil(math.sqrt(len(y))))))
    lo, hi = float(pooled.min()), float(pooled.max())
    if hi - lo <= 0:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, n_bins + 1)
    labels = [f"{_short(edges[i])}..{_short(edges[i + 1])}" for i in range(n_bins)]
    series = [Series(name, [float(c) for c in np.histogram(r, bins=edges)[0]])
                for name, r in residuals]
    return Figure(RESIDUALS_ID, "Residuals (actual - predicted)", "bar", labels, series,
                  x_label="residual", y_label="rows", priority=20,
                  note="narrower and centred on 0 is better")


def slices_figure(
    column: str,
    metric: str,
    values: dict[str, float],
    rows: dict[str, int],
    bound: dict[str, float],
    figure_id: str = SLICES_ID,
) -> Figure | None:
    """The slice metric per slice value, with the slice rule's bounds as reference lines.

    Beyond :data:`~mlgate.figures.MAX_POINTS` slices the largest (by rows) are kept.
    """
    if not values:
        return None
    names = sorted(values)
    if len(names) > MAX_POINTS:
        largest = set(sorted(names, key=lambda k: -rows.get(k, 0))[:MAX_POINTS])
        names = [n for n in names if n in largest]
    thresholds = [Threshold(f"{key} {value}", float(value)) for key, value in bound.items()]
    better = "higher" if METRICS[metric].higher_is_better else "lower"
    return Figure(figure_id, f"{metric} per {column}", "bar", names,
                  [Series("candidate", _finite_all(values[n] for n in names))],
                  x_label=column, y_label=metric, thresholds=thresholds, priority=35,
                  note=f"{better} is better; only slices with enough rows are gated")


def _envelope_increasing(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique ascending ``xs`` with the largest ``ys`` at or before each (a valid np.interp
    table for a non-decreasing curve whose ``xs`` repeat)."""
    unique, inverse = np.unique(xs, return_inverse=True)
    best = np.full(len(unique), -np.inf)
    np.maximum.at(best, inverse, ys)
    return unique, np.maximum.accumulate(best)


def _short(value: float) -> str:
    """A bin edge for a label: 3 significant digits, no "-0"."""
    text = f"{value:.3g}"
    return "0" if text in ("-0", "0") else text
