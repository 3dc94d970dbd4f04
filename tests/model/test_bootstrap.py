"""The vectorised bootstrap computes exactly what scikit-learn computes with the same weights."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlgate.model.bootstrap import _Plan, paired_bootstrap, weights_block
from mlgate.model.metrics import Outputs, calibration_error

CLASSIFICATION = [
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "calibration_error",
]


def sklearn_metric(name: str, y: np.ndarray, out: Outputs, w: np.ndarray, k: int) -> float:
    if name == "roc_auc":
        return float(skm.roc_auc_score(y, out.proba[:, 1], sample_weight=w))
    if name == "log_loss":
        return float(skm.log_loss(y, out.proba, sample_weight=w, labels=list(range(k))))
    if name == "calibration_error":
        return calibration_error(y, out.proba, w)
    if name == "accuracy":
        return float(skm.accuracy_score(y, out.pred, sample_weight=w))
    if name == "balanced_accuracy":
        return float(skm.balanced_accuracy_score(y, out.pred, sample_weight=w))
    if name in ("precision", "recall", "f1"):
        fn = getattr(skm, f"{name}_score")
        average = "binary" if k == 2 else "macro"
        labels = None if k == 2 else list(range(k))
        return float(
            fn(y, out.pred, sample_weight=w, average=average, labels=labels, zero_division=0)
        )
    fns = {
        "mae": skm.mean_absolute_error,
        "rmse": skm.root_mean_squared_error,
        "r2": skm.r2_score,
        "mape": skm.mean_absolute_percentage_error,
    }
    return float(fns[name](y, out.pred, sample_weight=w))


def binary_outputs(rng: np.random.Generator, y: np.ndarray, strength: float, decimals: int):
    p = np.clip(y * strength + rng.random(len(y)) * (1 - strength), 0, 1).round(decimals)
    return Outputs((p > 0.5).astype(int), np.column_stack([1 - p, p]))


@pytest.mark.parametrize("decimals", [1, 6])  # 1 decimal: heavy score ties
@pytest.mark.parametrize("method", ["multinomial", "poisson"])
def test_weighted_classification_metrics_match_sklearn(decimals: int, method: str) -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 400)
    cand, champ = binary_outputs(rng, y, 0.3, decimals), binary_outputs(rng, y, 0.2, decimals)
    plan = _Plan(y, cand, champ, CLASSIFICATION, 2)
    w = weights_block(np.random.default_rng(3), 6, len(y), method)
    values = plan.evaluate(w)
    back = np.argsort(plan.order)  # weights are in the plan's working order
    for name in CLASSIFICATION:
        for r in range(w.shape[0]):
            weights = w[r][back].astype(float)
            for j, out in enumerate((cand, champ)):
                expected = sklearn_metric(name, y, out, weights, 2)
                assert values[name][j][r] == pytest.approx(expected, abs=1e-9), (name, r, j)


def test_multiclass_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    names = [
        "accuracy",
        "balanced_accuracy",
        "precision",
        "recall",
        "f1",
        "log_loss",
        "calibration_error",
    ]

    def outputs(noise: float) -> Outputs:
        logits = np.eye(3)[y] * 2 + rng.normal(0, noise, (len(y), 3))
        proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        return Outputs(proba.argmax(1), proba)

    cand, champ = outputs(1.0), outputs(2.0)
    plan = _Plan(y, cand, champ, names, 3)
    w = weights_block(np.random.default_rng(0), 4, len(y), "multinomial")
    values = plan.evaluate(w)
    for name in names:
        for r in range(4):
            expected = sklearn_metric(name, y, cand, w[r].astype(float), 3)
            assert values[name][0][r] == pytest.approx(expected, abs=1e-9), (name, r)


def test_regression_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(10, 3, 500)
    cand, champ = Outputs(y + rng.normal(0, 1, 500)), Outputs(y + rng.normal(0, 2, 500))
    names = ["mae", "rmse", "r2", "mape"]
    plan = _Plan(y, cand, champ, names, 0)
    w = weights_block(np.random.default_rng(5), 5, len(y), "multinomial")
    values = plan.evaluate(w)
    for name in names:
        for r in range(5):
            for j, out in enumerate((cand, champ)):
                expected = sklearn_metric(name, y, out, w[r].astype(float), 0)
                assert values[name][j][r] == pytest.approx(expected, rel=1e-9), (name, r, j)


def test_interval_is_seeded_paired_and_sensible() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    good, bad = binary_outputs(rng, y, 0.4, 6), binary_outputs(rng, y, 0.2, 6)
    names = ["roc_auc", "log_loss", "accuracy"]
    first = paired_bootstrap(y, good, bad, names, 2, resamples=300, seed=11)
    again = paired_bootstrap(y, good, bad, names, 2, resamples=300, seed=11, workers=1)
    other = paired_bootstrap(y, good, bad, names, 2, resamples=300, seed=12)
    for name in names:
        assert (first[name].low, first[name].high) == (again[name].low, again[name].high)
        assert first[name].low != other[name].low
        iv = first[name]
        assert iv.low <= iv.difference <= iv.high
        assert iv.candidate == pytest.approx(sklearn_metric(name, y, good, np.ones(3000), 2))
    assert first["roc_auc"].low > 0  # clearly better candidate: interval excludes zero
    assert first["log_loss"].high < 0
    same = paired_bootstrap(y, good, good, names, 2, resamples=100, seed=1)
    assert same["roc_auc"].low == same["roc_auc"].high == 0.0  # paired: identical models


def test_poisson_weights_have_unit_mean_and_variance() -> None:
    w = weights_block(np.random.default_rng(0), 4, 250_000, "poisson").astype(float)
    assert w.mean() == pytest.approx(1.0, abs=0.005)
    assert w.var() == pytest.approx(1.0, abs=0.01)
