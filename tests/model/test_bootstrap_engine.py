"""The fast bootstrap engine: Poisson table, reproducibility, and agreement with the exact one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlgate.model import bootstrap
from mlgate.model.bootstrap import _Plan, paired_bootstrap
from mlgate.model.metrics import Outputs
from mlgate.model.weights import poisson_table, weights_block

GRID = 1 << 16


def scored(rng: np.random.Generator, y: np.ndarray, noise: float, decimals: int = 6) -> Outputs:
    score = 1 / (1 + np.exp(-(1.2 * y - 0.6 + rng.normal(0, noise, len(y)))))
    score = score.round(decimals)
    return Outputs((score > 0.5).astype(np.int64), np.column_stack([1 - score, score]))


def test_poisson_table_probabilities_match_scipy_within_the_grid() -> None:
    table = poisson_table()
    assert table.shape == (GRID,) and table.dtype == np.uint8
    assert np.all(np.diff(table.astype(int)) >= 0)  # an inverse CDF: non-decreasing
    freq = np.bincount(table, minlength=12) / GRID
    pmf = stats.poisson.pmf(np.arange(12), 1.0)
    assert np.abs(freq - pmf).max() <= 1 / GRID
    cdf_error = np.abs(np.cumsum(freq) - stats.poisson.cdf(np.arange(12), 1.0))
    assert cdf_error.max() <= 0.5 / GRID  # the CDF is rounded to the nearest grid point
    assert table.max() == 8
    values = np.arange(len(freq))
    mean = (values * freq).sum()
    assert mean == pytest.approx(1.0, abs=1e-4)
    assert ((values - mean) ** 2 * freq).sum() == pytest.approx(1.0, abs=1e-4)


def test_poisson_weights_follow_the_table() -> None:
    w = weights_block(np.random.default_rng(4), 8, 500_000, "poisson")
    freq = np.bincount(w.ravel(), minlength=9)[:9] / w.size
    expected = np.bincount(poisson_table(), minlength=9)[:9] / GRID
    sd = np.sqrt(expected * (1 - expected) / w.size)
    assert np.all(np.abs(freq - expected) <= 5 * sd + 1e-12)
    # resamples and rows are independent: neighbouring counts are uncorrelated
    flat = w.ravel().astype(float)
    assert abs(np.corrcoef(flat[:-1], flat[1:])[0, 1]) < 0.005


def test_multinomial_weights_are_exact_resamples() -> None:
    w = weights_block(np.random.default_rng(2), 5, 10_000, "multinomial")
    assert np.all(w.sum(axis=1, dtype=np.int64) == 10_000)  # each resample draws n rows


@pytest.mark.parametrize("method", ["poisson", "multinomial"])
def test_seeded_and_independent_of_threads_and_block_split(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(4000) < 0.3).astype(np.int64)
    cand, champ = scored(rng, y, 1.0), scored(rng, y, 1.1, decimals=2)  # champion: ties
    names = ["roc_auc", "log_loss", "accuracy"]
    monkeypatch.setattr(bootstrap, "BLOCK_ELEMENTS", 4000 * 7)  # 7 resamples per block
    runs = [
        paired_bootstrap(y, cand, champ, names, 2, resamples=60, seed=3, method=method, workers=w)
        for w in (1, 2, 3)
    ]
    other = paired_bootstrap(y, cand, champ, names, 2, resamples=60, seed=4, method=method)
    for name in names:
        bounds = {(r[name].low, r[name].high) for r in runs}
        assert len(bounds) == 1, name  # same seed: identical whatever the thread count
        assert (other[name].low, other[name].high) not in bounds
        assert runs[0][name].method == method


def test_poisson_and_multinomial_intervals_agree() -> None:
    rng = np.random.default_rng(11)
    y = (rng.random(20_000) < 0.3).astype(np.int64)
    cand, champ = scored(rng, y, 1.0), scored(rng, y, 1.2)
    names = ["roc_auc", "log_loss", "accuracy"]
    fast = paired_bootstrap(y, cand, champ, names, 2, resamples=400, seed=1, method="poisson")
    exact = paired_bootstrap(y, cand, champ, names, 2, resamples=400, seed=1, method="multinomial")
    for name in names:
        f, e = fast[name], exact[name]
        assert f.difference == e.difference  # the observed value does not depend on weights
        width = e.high - e.low
        assert width > 0
        # Monte-Carlo noise of a 2.5% quantile over 400 resamples is ~5% of the width.
        assert f.low == pytest.approx(e.low, abs=0.25 * width), name
        assert f.high == pytest.approx(e.high, abs=0.25 * width), name
        assert f.high - f.low == pytest.approx(width, rel=0.25), name


def test_auc_scan_is_the_same_with_64_bit_cumulative_sums() -> None:
    """The int64 path (taken above ~8M negatives) gives the very same values as int32."""
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 2000)
    cand, champ = scored(rng, y, 1.0, decimals=1), scored(rng, y, 0.8, decimals=2)
    plan = _Plan(y, cand, champ, ["roc_auc"], 2)
    w = weights_block(np.random.default_rng(1), 6, len(y), "poisson")
    narrow = plan.evaluate(w)["roc_auc"]
    assert plan.auc is not None
    for auc in plan.auc:
        auc.cum_dtype = np.int64
    wide = plan.evaluate(w)["roc_auc"]
    assert np.array_equal(narrow[0], wide[0]) and np.array_equal(narrow[1], wide[1])


def test_single_class_target_gives_a_defined_auc() -> None:
    rng = np.random.default_rng(0)
    y = np.ones(500, dtype=np.int64)
    cand, champ = scored(rng, y, 1.0), scored(rng, y, 2.0)
    found = paired_bootstrap(y, cand, champ, ["roc_auc"], 2, resamples=20, seed=0)
    iv = found["roc_auc"]  # no negatives: no pairs to rank, both AUCs are reported as 0
    assert iv.candidate == iv.champion == iv.low == iv.high == 0.0
