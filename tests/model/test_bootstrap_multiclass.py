"""The bootstrap engine's one-vs-rest ROC AUC and skill metrics equal scikit-learn's, weighted.

Each resample is a vector of row weights, so "equal to scikit-learn" means: for a few resamples,
the engine's values are scikit-learn's metric called with ``sample_weight`` = those weights.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlgate.model import bootstrap
from mlgate.model.bootstrap import _Plan, paired_bootstrap
from mlgate.model.metrics import Baseline, Outputs, f1_chance, holdout_baseline, point_metric
from mlgate.model.weights import weights_block


def multiclass_outputs(
    rng: np.random.Generator, y: np.ndarray, k: int, noise: float, decimals: int
) -> Outputs:
    """Softmax scores with signal on the true class; rounding makes ties (1 decimal: many)."""
    logits = np.eye(k)[y] * 1.5 + rng.normal(0, noise, (len(y), k))
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    proba = proba.round(decimals)
    proba = np.clip(proba, 10.0**-decimals, None)
    proba /= proba.sum(1, keepdims=True)
    return Outputs(proba.argmax(1), proba)


def in_data_order(plan: _Plan, w: np.ndarray) -> np.ndarray:
    """A weight block of the plan's working order, as float weights per data row."""
    return w[:, np.argsort(plan.order)].astype(float)


def sklearn_ovr(y: np.ndarray, proba: np.ndarray, w: np.ndarray) -> float:
    return float(skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", sample_weight=w))


@pytest.mark.parametrize("method", ["multinomial", "poisson"])
@pytest.mark.parametrize(("k", "decimals"), [(3, 6), (3, 1), (4, 3), (5, 2), (10, 6)])
def test_ovr_macro_auc_equals_sklearn_with_sample_weights(
    k: int, decimals: int, method: str
) -> None:
    rng = np.random.default_rng(k * 10 + decimals)
    y = rng.integers(0, k, 600)
    cand = multiclass_outputs(rng, y, k, 1.0, decimals)
    champ = multiclass_outputs(rng, y, k, 1.6, decimals)
    plan = _Plan(y, cand, champ, ["roc_auc"], k)
    assert plan.ovr is not None
    if (k, decimals) == (4, 3):  # both tie paths: a few tied positives, and mostly tied
        paths = {
            (h is None, t.size > 0) for o in plan.ovr for h, t in zip(o.hi, o.tied, strict=True)
        }
        assert {(True, True), (False, True)} <= paths
    w = weights_block(np.random.default_rng(3), 5, len(y), method)
    values = plan.evaluate(w)["roc_auc"]
    weights = in_data_order(plan, w)
    for r in range(w.shape[0]):
        for j, out in enumerate((cand, champ)):
            expected = sklearn_ovr(y, out.proba, weights[r])
            assert values[j][r] == pytest.approx(expected, abs=1e-12), (r, j)
    # unit weights: the observed value is scikit-learn's point value
    ones = plan.evaluate(np.ones((1, len(y)), dtype=np.uint8))["roc_auc"]
    assert ones[0][0] == pytest.approx(point_metric("roc_auc", y, cand, k), abs=1e-12)


def test_a_resample_without_a_rare_class_averages_the_classes_it_has() -> None:
    """scikit-learn refuses a class with no weight; the engine averages the others."""
    rng = np.random.default_rng(4)
    y = np.concatenate([rng.integers(0, 3, 400), [3, 3, 3]])
    cand = multiclass_outputs(rng, y, 4, 1.0, 6)
    plan = _Plan(y, cand, cand, ["roc_auc"], 4)
    weights = np.ones(len(y))
    weights[y == 3] = 0  # this resample drew none of the three class-3 rows
    weights[:50] = 2
    w = weights[plan.order][None, :].astype(np.uint8)
    got = plan.evaluate(w)["roc_auc"][0][0]
    per_class = [
        skm.roc_auc_score(y == c, cand.proba[:, c], sample_weight=weights) for c in range(3)
    ]
    assert got == pytest.approx(np.mean(per_class), abs=1e-12)
    assert got != pytest.approx(sklearn_ovr(y, cand.proba, np.ones(len(y))))


def test_ovr_scan_is_the_same_with_64_bit_cumulative_sums() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 4, 1500)
    cand, champ = multiclass_outputs(rng, y, 4, 1.0, 1), multiclass_outputs(rng, y, 4, 1.2, 2)
    plan = _Plan(y, cand, champ, ["roc_auc"], 4)
    w = weights_block(np.random.default_rng(1), 4, len(y), "poisson")
    narrow = plan.evaluate(w)["roc_auc"]
    assert plan.ovr is not None
    for auc in plan.ovr:
        auc.cum_dtype = np.int64
    wide = plan.evaluate(w)["roc_auc"]
    assert np.array_equal(narrow[0], wide[0]) and np.array_equal(narrow[1], wide[1])


def test_multiclass_interval_is_seeded_paired_and_sensible(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 3000)
    good, bad = multiclass_outputs(rng, y, 4, 1.0, 6), multiclass_outputs(rng, y, 4, 2.0, 6)
    names = ["roc_auc", "log_loss_skill", "f1_skill"]
    monkeypatch.setattr(bootstrap, "BLOCK_ELEMENTS", 3000 * 7)  # 7 resamples per block
    runs = [
        paired_bootstrap(y, good, bad, names, 4, resamples=60, seed=3, workers=w)
        for w in (1, 3)
    ]
    for name in names:
        assert runs[0][name].low == runs[1][name].low, name  # thread count changes nothing
        assert runs[0][name].high == runs[1][name].high, name
        assert runs[0][name].low > 0, name  # clearly better candidate: interval above zero
    same = paired_bootstrap(y, good, good, ["roc_auc"], 4, resamples=50, seed=1)
    assert same["roc_auc"].low == same["roc_auc"].high == 0.0  # paired: identical models


# ---- skill metrics ---------------------------------------------------------------------


def reference_skill(
    name: str, y: np.ndarray, out: Outputs, w: np.ndarray, k: int, base: Baseline
) -> float:
    """The skill metric from scikit-learn calls with ``sample_weight`` and its definition."""
    if name == "balanced_accuracy_skill":
        return float(skm.balanced_accuracy_score(y, out.pred, sample_weight=w, adjusted=True))
    if name == "log_loss_skill":
        labels = list(range(k))
        model = skm.log_loss(y, out.proba, sample_weight=w, labels=labels)
        constant = skm.log_loss(y, np.tile(base.shares, (len(y), 1)), sample_weight=w,
                                labels=labels)
        return float(1 - model / constant)
    if name == "f1_skill":
        average, labels = ("binary", None) if k == 2 else ("macro", list(range(k)))
        f1 = skm.f1_score(y, out.pred, sample_weight=w, average=average, labels=labels,
                          zero_division=0)
        shares = np.bincount(y, weights=w, minlength=k) / w.sum()
        chance = f1_chance(shares, base.shares)
        expected_chance = chance[1] if k == 2 else chance.mean()
        return float((f1 - expected_chance) / (1 - expected_chance))
    constant = np.full(len(y), base.mean)
    if name == "rmse_skill":
        return float(1 - skm.root_mean_squared_error(y, out.pred, sample_weight=w)
                     / skm.root_mean_squared_error(y, constant, sample_weight=w))
    assert name == "mae_skill"
    return float(1 - skm.mean_absolute_error(y, out.pred, sample_weight=w)
                 / skm.mean_absolute_error(y, constant, sample_weight=w))


CLASS_SKILLS = ["balanced_accuracy_skill", "f1_skill", "log_loss_skill"]


@pytest.mark.parametrize("k", [2, 3, 6])
@pytest.mark.parametrize("given", [False, True])
def test_classification_skill_metrics_equal_their_sklearn_definition(
    k: int, given: bool
) -> None:
    rng = np.random.default_rng(k)
    y = rng.choice(k, 500, p=np.arange(1, k + 1) / np.arange(1, k + 1).sum())  # imbalanced
    cand, champ = multiclass_outputs(rng, y, k, 1.0, 6), multiclass_outputs(rng, y, k, 2.0, 6)
    base = (
        Baseline(shares=np.full(k, 1.0 / k), source="policy")  # e.g. balanced training data
        if given
        else holdout_baseline(y, "classification", k)
    )
    names = ["roc_auc", *CLASS_SKILLS]
    plan = _Plan(y, cand, champ, names, k, base)
    w = weights_block(np.random.default_rng(9), 4, len(y), "multinomial")
    values = plan.evaluate(w)
    weights = in_data_order(plan, w)
    for name in CLASS_SKILLS:
        for r in range(w.shape[0]):
            for j, out in enumerate((cand, champ)):
                expected = reference_skill(name, y, out, weights[r], k, base)
                assert values[name][j][r] == pytest.approx(expected, abs=1e-9), (name, r, j)
        # the point value (scikit-learn, unit weights) is the same definition
        point = point_metric(name, y, cand, k, base)
        assert point == pytest.approx(reference_skill(name, y, cand, np.ones(len(y)), k, base))


@pytest.mark.parametrize("given", [None, 140.0])
def test_regression_skill_metrics_equal_their_sklearn_definition(given: float | None) -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(150, 40, 400)
    cand, champ = Outputs(y + rng.normal(0, 20, 400)), Outputs(y + rng.normal(0, 35, 400))
    base = holdout_baseline(y, "regression") if given is None else Baseline(mean=given)
    names = ["rmse_skill", "mae_skill"]
    plan = _Plan(y, cand, champ, names, 0, base)
    w = weights_block(np.random.default_rng(5), 4, len(y), "poisson")
    values = plan.evaluate(w)
    weights = in_data_order(plan, w)
    for name in names:
        for r in range(w.shape[0]):
            for j, out in enumerate((cand, champ)):
                expected = reference_skill(name, y, out, weights[r], 0, base)
                assert values[name][j][r] == pytest.approx(expected, rel=1e-9), (name, r, j)
    if given is None:  # against the rows' own mean, RMSE skill is 1 - sqrt(1 - R2)
        r2 = skm.r2_score(y, cand.pred)
        assert point_metric("rmse_skill", y, cand, 0, base) == pytest.approx(1 - np.sqrt(1 - r2))


def test_log_loss_skill_means_the_same_for_3_and_10_classes() -> None:
    """Two models that each remove half of the class shares' uncertainty, one among 3 balanced
    classes and one among 10: the same skill, while the raw log loss (and so an absolute
    ceiling such as 0.69) tells them apart only by their class count."""
    skills, losses = {}, {}
    for k in (3, 10):
        y = np.repeat(np.arange(k), 40)
        p_true = k**-0.5  # -log p_true = ln(k) / 2: half the entropy of k balanced classes
        proba = np.full((len(y), k), (1 - p_true) / (k - 1))
        proba[np.arange(len(y)), y] = p_true
        out = Outputs(y.copy(), proba)
        skills[k] = point_metric("log_loss_skill", y, out, k)
        losses[k] = point_metric("log_loss", y, out, k)
    assert skills[3] == pytest.approx(0.5) and skills[10] == pytest.approx(0.5)
    assert losses[3] == pytest.approx(np.log(3) / 2)  # 0.549: under 0.69
    assert losses[10] == pytest.approx(np.log(10) / 2)  # 1.151: over it


def test_a_class_missing_from_the_held_out_rows_does_not_void_the_macro_auc() -> None:
    """The model knows 4 classes, the rows hold 3: the point value and the bootstrap's observed
    value both average the 3 classes present (scikit-learn's average would be NaN)."""
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, 300)  # class 3 never occurs
    cand = multiclass_outputs(rng, y, 4, 1.0, 6)
    champ = multiclass_outputs(rng, y, 4, 1.5, 6)
    point = point_metric("roc_auc", y, cand, 4)
    per_class = [skm.roc_auc_score(y == c, cand.proba[:, c]) for c in range(3)]
    assert point == pytest.approx(np.mean(per_class), abs=1e-12)
    found = paired_bootstrap(y, cand, champ, ["roc_auc"], 4, resamples=50, seed=0)
    assert found["roc_auc"].candidate == pytest.approx(point, abs=1e-12)
    assert np.isfinite(found["roc_auc"].low) and np.isfinite(found["roc_auc"].high)
