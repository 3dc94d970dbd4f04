"""The metrics the model gate knows, their direction, and their point values from scikit-learn.

Point values (what the report shows for a model) always come from scikit-learn, so they match
what data scientists compute in a notebook. The bootstrap (:mod:`mlgate.model.bootstrap`)
re-derives the same values from weighted sums so it can evaluate a thousand resamples at once;
the tests check that both agree.

*Skill* metrics (``*_skill``) measure a model against a **baseline**: the prediction one makes
knowing only the target's distribution, never the features (the class shares for
classification, the mean for regression). ``skill = (S - S_base) / (S_perfect - S_base)``, so 0
is "no better than the baseline" and 1 is perfect whatever the number of classes or the target's
scale; that is what lets one default threshold serve 3 classes and 10, or a target in dollars
and one in days. The baseline is one fixed prediction for the whole gate (the policy's
``baseline:``, else the held-out data's own shares or mean): slices and bootstrap resamples are
scored against the same one, like the two models.
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
    skill_of: str | None = None  # for a skill metric: the metric it rescales by the baseline


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
        Metric("balanced_accuracy_skill", CLASSIFICATION, True, False,
               "balanced accuracy skill (chance-adjusted)", "balanced_accuracy"),
        Metric("f1_skill", CLASSIFICATION, True, False, "F1 skill", "f1"),
        Metric("log_loss_skill", CLASSIFICATION, True, True, "log loss skill", "log_loss"),
        Metric("rmse_skill", REGRESSION, True, False, "RMSE skill", "rmse"),
        Metric("mae_skill", REGRESSION, True, False, "MAE skill", "mae"),
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


@dataclass(frozen=True)
class Baseline:
    """The feature-blind prediction that skill metrics are measured against.

    ``shares`` (classification) are class shares aligned with the encoded target's classes;
    ``mean`` (regression) is the constant prediction. ``source`` says where they came from,
    for messages and evidence ("held-out data" or "policy").
    """

    shares: np.ndarray | None = None
    mean: float | None = None
    source: str = "held-out data"

    def what(self) -> str:
        """E.g. "the held-out data's class shares", "the policy's baseline mean 152.1"."""
        whose = "the policy's baseline" if self.source == "policy" else f"the {self.source}'s"
        if self.mean is not None:
            return f"{whose} mean {self.mean:.6g}"
        return f"{whose} class shares"

    def describe(self) -> str:
        return f"predicting {self.what()}"

    def evidence(self, classes: np.ndarray | None = None) -> dict[str, Any]:
        """The baseline as plain data (recorded in the gate's result)."""
        if self.mean is not None:
            return {"source": self.source, "mean": self.mean}
        shares = [] if self.shares is None else self.shares.tolist()
        names = [str(c) for c in (classes.tolist() if classes is not None else range(len(shares)))]
        return {"source": self.source, "class_shares": dict(zip(names, shares, strict=True))}


def holdout_baseline(y: np.ndarray, task: str, n_classes: int = 0) -> Baseline:
    """The held-out rows' own class shares (classification) or mean (regression)."""
    if task == REGRESSION:
        return Baseline(mean=float(np.mean(y)))
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes).astype(float)
    return Baseline(shares=counts / counts.sum())


def f1_chance(true_shares: np.ndarray, base_shares: np.ndarray) -> np.ndarray:
    """Per class, the expected F1 of labels drawn at random with ``base_shares`` on rows whose
    true shares are ``true_shares``: precision is the true share, recall the drawn share, so
    ``2pq / (p + q)`` (0 when both are 0). With ``q = p`` the macro average is exactly 1/K, the
    best any feature-blind guess achieves in expectation."""
    p, q = np.broadcast_arrays(true_shares, base_shares)
    den = p + q
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, 2 * p * q / np.where(den > 0, den, 1.0), 0.0)


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


def point_metric(
    name: str, y: np.ndarray, out: Outputs, n_classes: int = 0, baseline: Baseline | None = None
) -> float:
    """One metric with scikit-learn (``y`` encoded like ``out.pred``).

    Skill metrics need the ``baseline``; without one, the rows' own shares or mean are used.
    """
    from sklearn import metrics as skm

    spec = METRICS.get(name)
    if spec is not None and spec.skill_of is not None:
        score, base = skill_parts(name, y, out, n_classes, baseline)
        return skill(name, score, base)

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
        return ovr_roc_auc(y, proba, n_classes)
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


def ovr_roc_auc(y: np.ndarray, proba: np.ndarray, n_classes: int) -> float:
    """One-vs-rest macro ROC AUC: scikit-learn's ``multi_class="ovr", average="macro"``.

    That is the mean over classes of the binary AUC of ``y == c`` scored by ``proba[:, c]``.
    A class the model knows but the rows lack (a rare class missing from a small holdout or a
    slice) has no AUC, and scikit-learn's average becomes NaN; here it averages the classes
    that have positives and negatives, as the bootstrap does for a resample, so one absent rare
    class does not void the metric. With every class present this is scikit-learn's value.
    """
    from sklearn import metrics as skm

    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)
    present = [c for c in range(n_classes) if 0 < counts[c] < len(y)]
    if len(present) == n_classes:
        return float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=list(range(n_classes))))
    if not present:
        raise ValueError("roc_auc is undefined: no class has both positives and negatives")
    return float(np.mean([skm.roc_auc_score(y == c, proba[:, c]) for c in present]))


def skill_parts(
    name: str, y: np.ndarray, out: Outputs, n_classes: int, baseline: Baseline | None = None
) -> tuple[float, float]:
    """A skill metric's two ingredients: the model's score and the baseline's score.

    Both come from scikit-learn: the baseline's log loss is ``log_loss`` of the shares repeated
    on every row, its RMSE/MAE those of the constant mean; balanced accuracy's baseline is
    chance, 1/K over the K classes present (scikit-learn's ``adjusted=True``); F1's is the
    expected F1 of labels drawn at random with the baseline shares (:func:`f1_chance`).
    """
    from sklearn import metrics as skm

    spec = METRICS[name]
    assert spec.skill_of is not None
    task = spec.task
    base = baseline or holdout_baseline(y, task, n_classes)
    score = point_metric(spec.skill_of, y, out, n_classes)
    if name == "balanced_accuracy_skill":
        return score, 1.0 / len(np.unique(y))
    if name == "f1_skill":
        assert base.shares is not None
        counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)
        chance = f1_chance(counts / counts.sum(), base.shares)
        return score, float(chance[1] if n_classes == 2 else chance.mean())
    if name == "log_loss_skill":
        assert base.shares is not None
        constant = np.tile(base.shares, (len(y), 1))
        return score, float(skm.log_loss(y, constant, labels=list(range(n_classes))))
    assert base.mean is not None
    constant = np.full(len(y), base.mean)
    if name == "rmse_skill":
        return score, float(skm.root_mean_squared_error(y, constant))
    return score, float(skm.mean_absolute_error(y, constant))


def skill(name: str, score: float, base: float) -> float:
    """``(score - base) / (perfect - base)``: 1 - score/base for errors (perfect = 0), the
    chance-adjusted form for scores whose perfect value is 1. Raises ValueError when the
    baseline is already perfect, like scikit-learn's undefined metrics (nothing to improve on,
    e.g. a slice with a single class)."""
    perfect = skill_perfect(name)
    if base == perfect:
        raise ValueError(f"{name} is undefined: the baseline is already perfect on these rows")
    return float((score - base) / (perfect - base))


def skill_perfect(name: str) -> float:
    """The perfect value of the metric a skill metric rescales: 1 for scores, 0 for errors."""
    base = METRICS[METRICS[name].skill_of or name]
    return 1.0 if base.higher_is_better else 0.0


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
