"""The metrics the model gate knows, their direction, and their point values from scikit-learn.

Point values (what the report shows for a model) always come from scikit-learn, so they match
what data scientists compute in a notebook. The bootstrap (:mod:`mlgate.model.bootstrap`)
re-derives the same values from weighted sums so it can evaluate a thousand resamples at once;
the tests check that both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlgate.errors import InputError

CLASSIFICATION = "classification"
REGRESSION = "regression"
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Metric:
    name: str
    task: str
    higher_is_better: bool
    needs_proba: bool
    label: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", CLASSIFICATION, True, False, "accuracy"),
        Metric("balanced_accuracy", CLASSIFICATION, True, False, "balanced accuracy"),
        Metric("precision", CLASSIFICATION, True, False, "precision"),
        Metric("recall", CLASSIFICATION, True, False, "recall"),
        Metric("f1", CLASSIFICATION, True, False, "F1"),
        Metric("roc_auc", CLASSIFICATION, True, True, "ROC AUC"),
        Metric("log_loss", CLASSIFICATION, False, True, "log loss"),
        Metric("calibration_error", CLASSIFICATION, False, True, "expected calibration error"),
        Metric("mae", REGRESSION, False, False, "mean absolute error"),
        Metric("rmse", REGRESSION, False, False, "root mean squared error"),
        Metric("r2", REGRESSION, True, False, "R2"),
        Metric("mape", REGRESSION, False, False, "mean absolute percentage error"),
    )
}


def metric(name: str, task: str, where: str) -> Metric:
    """Look a metric up for a task, or raise InputError naming where it was asked for."""
    spec = METRICS.get(name)
    if spec is None:
        raise InputError(f"unknown metric {name!r} (known: {', '.join(METRICS)})", where)
    if spec.task != task:
        raise InputError(f"metric {name!r} is for {spec.task}, but the task is {task}", where)
    return spec


def task_metrics(task: str) -> list[str]:
    return [m.name for m in METRICS.values() if m.task == task]


@dataclass
class Outputs:
    """A model's predictions on the held-out rows, aligned with the encoded target.

    Classification: ``pred`` holds class indices into ``classes`` and ``proba`` the class
    probabilities (n, K) or None when only labels are known. Regression: ``pred`` holds values.
    """

    pred: np.ndarray
    proba: np.ndarray | None = None

    def take(self, rows: np.ndarray) -> Outputs:
        return Outputs(self.pred[rows], None if self.proba is None else self.proba[rows])


def point_metric(name: str, y: np.ndarray, out: Outputs, n_classes: int = 0) -> float:
    """One metric with scikit-learn (``y`` encoded like ``out.pred``)."""
    from sklearn import metrics as skm

    if name in ("accuracy", "balanced_accuracy"):
        fn = skm.accuracy_score if name == "accuracy" else skm.balanced_accuracy_score
        return float(fn(y, out.pred))
    if name in ("precision", "recall", "f1"):
        fns = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}
        binary = n_classes == 2
        return float(
            fns[name](
                y,
                out.pred,
                labels=None if binary else list(range(n_classes)),
                pos_label=1,
                average="binary" if binary else "macro",
                zero_division=0,
            )
        )
    if name == "roc_auc":
        proba = _proba(out, name)
        if n_classes == 2:
            return float(skm.roc_auc_score(y, proba[:, 1]))
        return float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=list(range(n_classes))))
    if name == "log_loss":
        return float(skm.log_loss(y, _proba(out, name), labels=list(range(n_classes))))
    if name == "calibration_error":
        return calibration_error(y, _proba(out, name))
    if name == "mae":
        return float(skm.mean_absolute_error(y, out.pred))
    if name == "rmse":
        return float(skm.root_mean_squared_error(y, out.pred))
    if name == "r2":
        return float(skm.r2_score(y, out.pred))
    if name == "mape":
        return float(skm.mean_absolute_percentage_error(y, out.pred))
    raise InputError(f"unknown metric {name!r}")


def calibration_error(y: np.ndarray, proba: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Expected calibration error over 10 equal-width bins (binary: of the positive class,
    multiclass: of the top-label confidence). scikit-learn has no ECE; this is the usual one."""
    confidence, outcome = calibration_inputs(y, proba)
    w = np.ones_like(confidence) if weights is None else np.asarray(weights, dtype=float)
    bins = calibration_bins(confidence)
    gaps = np.bincount(bins, weights=w * (outcome - confidence), minlength=CALIBRATION_BINS)
    return float(np.abs(gaps).sum() / w.sum())


def calibration_inputs(y: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if proba.shape[1] == 2:
        return proba[:, 1].astype(float), (y == 1).astype(float)
    return proba.max(axis=1).astype(float), (proba.argmax(axis=1) == y).astype(float)


def calibration_bins(confidence: np.ndarray) -> np.ndarray:
    return np.minimum((confidence * CALIBRATION_BINS).astype(np.int64), CALIBRATION_BINS - 1)


def _proba(out: Outputs, name: str) -> np.ndarray:
    if out.proba is None:
        raise InputError(
            f"metric {name!r} needs class probabilities, but the model has no predict_proba "
            "and the predictions file has no probability columns"
        )
    return out.proba


def describe(value: Any) -> str:
    """Format a metric value for messages (4 significant decimals)."""
    return f"{float(value):.4f}" if value is not None else "n/a"
