"""The canary statistics and decision rule on hand-made histograms and counts."""

from __future__ import annotations

import math

import pytest

from mlgate.canary.decide import judge
from mlgate.canary.sample import VersionSample
from mlgate.canary.settings import CanarySettings, Tolerance
from mlgate.canary.stats import (
    Buckets,
    bootstrap_quantile_difference,
    quantile,
    two_proportion_test,
)

INF = math.inf


def test_quantile_interpolates_like_histogram_quantile() -> None:
    # le: 10 -> 20 obs, 20 -> 60 obs (40 in (10, 20]), +Inf -> 100 (40 above 20)
    buckets = Buckets.from_cumulative([10, 20, INF], [20, 60, 100])
    assert buckets.counts == (20, 40, 40)
    assert quantile(buckets, 0.5) == pytest.approx(10 + 10 * (50 - 20) / 40)
    assert quantile(buckets, 0.1) == pytest.approx(5.0)  # first bucket starts at 0
    assert quantile(buckets, 0.9) == 20  # in +Inf: the highest finite bound, as Prometheus


def test_cumulative_counts_that_dip_are_clamped() -> None:
    """increase() extrapolates each bucket series on its own, so a higher le can read lower."""
    buckets = Buckets.from_cumulative([0.1, 0.2, 0.3], [10.4, 10.1, 15.0])
    assert buckets.counts == (10, 0, 5)


def test_empty_histogram_has_no_quantile() -> None:
    assert quantile(Buckets((), (), ()), 0.5) is None
    assert quantile(Buckets((0.0,), (1.0,), (0,)), 0.5) is None


def _lognormal_buckets(median: float, n: int) -> Buckets:
    """n deterministic lognormal values, bucketed finely (1 ms wide)."""
    from statistics import NormalDist

    counts: dict[int, int] = {}
    for i in range(n):
        value = median * math.exp(0.3 * NormalDist().inv_cdf((i + 0.5) / n))
        counts[int(value)] = counts.get(int(value), 0) + 1
    keys = sorted(counts)
    return Buckets(tuple(float(k) for k in keys), tuple(float(k + 1) for k in keys),
                   tuple(counts[k] for k in keys))


def test_bootstrap_interval_covers_zero_for_equal_versions() -> None:
    same = _lognormal_buckets(50, 2000)
    d = bootstrap_quantile_difference(same, _lognormal_buckets(50, 300), 0.95)
    assert d is not None
    assert d.low < 0 < d.high
    assert abs(d.estimate) < 5


def test_bootstrap_interval_excludes_zero_for_a_slower_canary() -> None:
    d = bootstrap_quantile_difference(_lognormal_buckets(50, 2000), _lognormal_buckets(60, 300),
                                      0.5)
    assert d is not None
    assert d.estimate == pytest.approx(10, abs=0.5)
    assert 0 < d.low < d.estimate < d.high
    # the median's standard error, 1.2533 x 0.3 x 60 / sqrt(300) = 1.30 ms, dominates: a 95 %
    # interval about 2 x 1.96 x 1.3 = 5.1 ms wide (plus the baseline's, ~0.4 ms)
    assert 4 < d.high - d.low < 7


def test_bootstrap_is_seeded() -> None:
    a, b = _lognormal_buckets(50, 500), _lognormal_buckets(52, 100)
    assert bootstrap_quantile_difference(a, b, 0.99) == bootstrap_quantile_difference(a, b, 0.99)
    assert bootstrap_quantile_difference(a, b, 0.99, seed=1) != bootstrap_quantile_difference(
        a, b, 0.99, seed=2)


def test_two_proportion_test_by_hand() -> None:
    # 10/100 vs 20/100: pooled 0.15, se = sqrt(0.15 * 0.85 * 0.02) = 0.0505, z = 1.98
    t = two_proportion_test(10, 100, 20, 100)
    assert t is not None
    assert t.z == pytest.approx(0.1 / math.sqrt(0.15 * 0.85 * 0.02))
    assert t.p_value == pytest.approx(0.0477, abs=5e-4)
    assert t.difference == pytest.approx(0.1)


def test_two_proportion_test_without_variance_or_trials() -> None:
    t = two_proportion_test(0, 500, 0, 20)
    assert t is not None and t.z == 0 and t.p_value == 1
    assert two_proportion_test(0, 0, 1, 10) is None


def _sample(version: str, median: float, n: int, errors: int = 0) -> VersionSample:
    return VersionSample(version, n, errors, _lognormal_buckets(median, n))


def _settings(**kwargs: object) -> CanarySettings:
    settings = CanarySettings(source="direct", baseline="v1", canary="v2", min_samples=100,
                              resamples=500)
    for key, value in kwargs.items():
        setattr(settings, key, value)
    return settings


def test_decision_rollback_needs_a_difference_beyond_the_tolerance() -> None:
    """3 ms slower is significant with these samples but inside the 5 ms tolerance."""
    base, slower = _sample("v1", 50, 3000), _sample("v2", 53, 1000)
    assert judge(_settings(), base, slower).decision == "promote"
    strict = _settings(tolerance=Tolerance(latency=0.0, latency_ms=1.0))
    assert judge(strict, base, slower).decision == "rollback"


def test_decision_too_few_samples_is_inconclusive_even_when_worse() -> None:
    verdict = judge(_settings(), _sample("v1", 50, 3000), _sample("v2", 500, 50, errors=25))
    assert verdict.decision == "inconclusive"
    statuses = {c.name: c.status.value for c in verdict.checks}
    assert statuses["error rate"] == "warn" and statuses["latency p50"] == "warn"
    assert statuses["decision"] == "warn"


def test_decision_error_rate_must_be_significant() -> None:
    # 2 errors in 150 vs 10 in 3000: 1.3 % vs 0.3 %, above the 0.5-point tolerance but p > 0.05
    verdict = judge(_settings(), _sample("v1", 50, 3000, errors=10),
                    _sample("v2", 50, 150, errors=2))
    checks = {c.name: c for c in verdict.checks}
    assert checks["error rate"].details["p_value"] > 0.05
    assert verdict.decision == "promote"
