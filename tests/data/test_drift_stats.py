"""The vectorised statistics agree with scipy's reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlgate.data import drift_stats as ds


def test_binner_equals_searchsorted_exactly() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([
        rng.standard_cauchy(200_000),  # heavy tails: values far outside the cell grid
        rng.integers(0, 5, 50_000).astype(float),  # many values exactly on edges
        np.full(1000, 1e300), np.full(1000, -1e300),
    ])
    edges = np.unique(np.concatenate([np.quantile(values, np.linspace(0, 1, 501)), [0.5, 1.0]]))
    values = np.concatenate([values, [np.nan, np.inf, -np.inf, np.nan]])
    finite = values[np.isfinite(values)]
    cells = (np.searchsorted(edges, finite, side="left")
             + np.searchsorted(edges, finite, side="right"))
    want = np.bincount(cells, minlength=2 * len(edges) + 1)
    counts, nulls, nonfinite = ds._Binner(edges).histogram(values)
    assert np.array_equal(counts, want)
    assert (nulls, nonfinite) == (2, 2)


def test_binner_with_one_edge() -> None:
    counts, _, _ = ds._Binner(np.array([2.0])).histogram(np.array([1.0, 2.0, 2.0, 3.0]))
    assert counts.tolist() == [1, 2, 1]


@pytest.mark.parametrize("n", [800, 20_000])
def test_ks_is_exact_for_small_samples(n: int) -> None:
    rng = np.random.default_rng(n)
    ref = [rng.normal(size=n), rng.poisson(2, n).astype(float)]
    cur = [rng.normal(0.1, 1.1, size=n // 2), rng.poisson(2.2, n // 2).astype(float)]
    got = ds.numeric_drift(ref, cur, workers=1)
    for i in range(2):
        want = stats.ks_2samp(ref[i], cur[i], method="asymp")
        assert got.ks[i] == pytest.approx(want.statistic, abs=1e-12)
        assert got.ks_pvalue[i] == pytest.approx(want.pvalue, rel=1e-6, abs=1e-12)
        assert got.ks_resolution[i] == 0.0


def test_ks_on_large_samples_is_within_the_reported_resolution() -> None:
    rng = np.random.default_rng(7)
    ref = [rng.normal(size=400_000), rng.lognormal(size=400_000),
           rng.integers(0, 7, 400_000).astype(float)]
    cur = [rng.normal(0.02, 1, size=300_000), rng.lognormal(0.05, size=300_000),
           rng.integers(0, 8, 300_000).astype(float)]
    got = ds.numeric_drift(ref, cur, exact_limit=0, workers=2)
    for i in range(3):
        want = stats.ks_2samp(ref[i], cur[i]).statistic
        assert abs(got.ks[i] - want) <= got.ks_resolution[i] + 1e-12
        assert got.ks_resolution[i] < 0.005
    assert got.ks[2] == pytest.approx(stats.ks_2samp(ref[2], cur[2]).statistic, abs=1e-12)


def test_psi_and_js_match_hand_computation_on_deciles() -> None:
    rng = np.random.default_rng(11)
    ref, cur = rng.normal(size=50_000), rng.normal(0.3, 1, size=40_000)
    got = ds.numeric_drift([ref], [cur], workers=1)
    edges = np.quantile(ref, np.linspace(0, 1, 11)[1:-1])
    p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=10) / len(ref)
    q = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=10) / len(cur)
    assert got.psi[0] == pytest.approx(np.sum((q - p) * np.log(q / p)), rel=1e-9)
    assert got.js[0] == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)
    assert 0.05 < got.psi[0] < 0.2


def test_categorical_statistics_match_scipy() -> None:
    ref = np.array([[500, 300, 200, 0], [10, 20, 0, 0]], dtype=float)
    cur = np.array([[250, 180, 40, 30], [12, 18, 0, 0]], dtype=float)
    got = ds.categorical_drift(ref, cur)
    for i in range(2):
        used = (ref[i] + cur[i]) > 0
        table = np.vstack([ref[i][used], cur[i][used]])
        chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
        assert got.chi2[i] == pytest.approx(chi2)
        assert got.chi2_pvalue[i] == pytest.approx(p)
        assert got.js[i] == pytest.approx(
            jensenshannon(ref[i] / ref[i].sum(), cur[i] / cur[i].sum(), base=2))
    # the unseen category (share 0 in the reference) is floored, so PSI stays finite
    assert np.isfinite(got.psi).all() and got.psi[0] > 0.1


def test_disjoint_samples_give_finite_maximal_statistics() -> None:
    got = ds.numeric_drift([np.arange(1000.0)], [np.arange(1000.0) + 5000], workers=1)
    assert got.ks[0] == 1.0
    assert np.isfinite(got.psi[0]) and got.psi[0] > 5
    assert got.js[0] > 0.8  # all data lands in the top reference decile
    assert got.ks_pvalue[0] < 1e-100


def test_finite_drops_nan_and_inf_without_copying_clean_arrays() -> None:
    clean = np.arange(5.0)
    assert ds.finite(clean) is clean
    assert ds.finite(np.array([1.0, np.nan, np.inf, -np.inf, 2.0])).tolist() == [1.0, 2.0]
