"""The log-linear histogram: percentiles within its stated precision, exact merge."""

from __future__ import annotations

import numpy as np
import pytest

from mlgate.load.histogram import Histogram, bucket_bounds, bucket_index


def test_bucket_index_and_bounds_agree_everywhere() -> None:
    for value in [*range(0, 1000), 4095, 4096, 10**6, 123_456_789]:
        low, high = bucket_bounds(bucket_index(value))
        assert low <= value <= high
        assert (high - low + 1) <= max(1, value / 128 * 1.01 + 1)


def test_percentiles_match_numpy_within_one_percent() -> None:
    rng = np.random.default_rng(0)
    samples_s = rng.lognormal(mean=-4, sigma=1.2, size=50_000)
    hist = Histogram()
    for s in samples_s:
        hist.record(float(s))
    for q in (50, 90, 95, 99, 99.9):
        exact = float(np.percentile(samples_s * 1000, q, method="inverted_cdf"))
        assert hist.percentile_ms(q) == pytest.approx(exact, rel=0.01)
    assert hist.percentile_ms(100) == pytest.approx(samples_s.max() * 1000, rel=1e-3)
    assert hist.mean_ms == pytest.approx(samples_s.mean() * 1000, rel=1e-3)


def test_merge_equals_recording_everything_in_one() -> None:
    rng = np.random.default_rng(1)
    a, b, both = Histogram(), Histogram(), Histogram()
    for i, s in enumerate(rng.exponential(0.02, size=5000)):
        (a if i % 2 else b).record(float(s))
        both.record(float(s))
    merged = Histogram.from_dict(a.to_dict()).merge(b)
    assert merged.counts == both.counts
    assert merged.total == both.total == 5000
    assert merged.percentile_ms(99) == both.percentile_ms(99)
