"""The statistics of canary analysis, as small pure functions (numpy and scipy only).

Latency arrives as a histogram in both sources: Prometheus exposes cumulative ``_bucket``
counters, and mlgate's own generator records a log-linear histogram fine enough (< 0.8 % bucket
width) to stand in for the raw samples. So one representation serves both: per-bucket
``(low, high, count)``, and one quantile rule, Prometheus's ``histogram_quantile`` (linear
interpolation inside the bucket where the rank falls; a rank in the open ``+Inf`` bucket
returns that bucket's lower bound, the highest finite one).

Confidence intervals of a quantile *difference* (canary minus baseline) come from a percentile
bootstrap. Resampling n observations with replacement from a histogram is the same as drawing
new bucket counts from a multinomial distribution with the observed bucket shares, so each
version's counts are redrawn multinomially (independently: the versions are independent
samples), the quantile is recomputed, and the interval is read from the differences. With
Prometheus this treats each bucket as a set of identical observations, so it cannot see
variation inside a bucket: with coarse buckets the interval is about the bucket a quantile falls
in, not about values inside it.

Rates (errors/requests, conversions/visits) are compared with the pooled two-proportion z-test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Buckets:
    """A latency histogram: bucket ``i`` holds ``counts[i]`` values in ``(lows[i], highs[i]]``
    (milliseconds, ascending, non-overlapping); ``highs[-1]`` may be infinity."""

    lows: tuple[float, ...]
    highs: tuple[float, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return int(sum(self.counts))

    @classmethod
    def from_cumulative(cls, uppers: list[float], cumulative: list[float]) -> Buckets:
        """Buckets from Prometheus-style cumulative counts per upper bound ``le`` (any order;
        ``inf`` allowed). Counts become per-bucket integers; a dip (counters extrapolated one
        by one by ``increase()``) is clamped to zero rather than made negative."""
        pairs = sorted(zip(uppers, cumulative, strict=True))
        lows: list[float] = []
        highs: list[float] = []
        counts: list[int] = []
        previous_upper, previous_count = 0.0, 0.0
        for upper, count in pairs:
            lows.append(previous_upper)
            highs.append(upper)
            counts.append(max(0, round(count - previous_count)))
            previous_upper, previous_count = upper, max(previous_count, count)
        return cls(tuple(lows), tuple(highs), tuple(counts))


def quantile(buckets: Buckets, q: float) -> float | None:
    """The ``q`` quantile (0-1) by linear interpolation inside its bucket, as Prometheus's
    ``histogram_quantile`` computes it, so both sides of a report agree; None when empty."""
    values = _quantiles(buckets, np.asarray([buckets.counts], dtype=float), q)
    return None if values is None else float(values[0])


def _quantiles(buckets: Buckets, counts: np.ndarray, q: float) -> np.ndarray | None:
    """Row-wise quantiles of a (resamples x buckets) count matrix over the same bucket edges."""
    if counts.shape[1] == 0:
        return None
    totals = counts.sum(axis=1)
    if not np.all(totals > 0):
        return None
    lows = np.asarray(buckets.lows, dtype=float)
    highs = np.asarray(buckets.highs, dtype=float)
    cumulative = np.cumsum(counts, axis=1)
    rank = q * totals
    # the first bucket whose cumulative count reaches the rank (a zero rank: the first non-empty)
    index = np.minimum((cumulative < np.maximum(rank, 1e-12)[:, None]).sum(axis=1),
                       counts.shape[1] - 1)
    rows = np.arange(counts.shape[0])
    below = cumulative[rows, index] - counts[rows, index]
    in_bucket = counts[rows, index]
    low, high = lows[index], highs[index]
    fraction = np.where(in_bucket > 0, (rank - below) / np.where(in_bucket > 0, in_bucket, 1), 0)
    value = low + (high - low) * np.clip(fraction, 0.0, 1.0)
    return np.where(np.isinf(high), low, value)


@dataclass(frozen=True)
class Difference:
    """A canary-minus-baseline difference with its percentile-bootstrap interval."""

    baseline: float
    canary: float
    low: float
    high: float

    @property
    def estimate(self) -> float:
        return self.canary - self.baseline


def bootstrap_quantile_difference(
    baseline: Buckets, canary: Buckets, q: float, resamples: int = 2000,
    confidence: float = 0.95, seed: int = 0,
) -> Difference | None:
    """Quantile ``q`` of each version, and a ``confidence`` interval of canary minus baseline
    from ``resamples`` multinomial redraws of each version's bucket counts (see the module
    docstring). Seeded, so a report can be reproduced. None when either version is empty."""
    point_baseline, point_canary = quantile(baseline, q), quantile(canary, q)
    if point_baseline is None or point_canary is None:
        return None
    rng = np.random.default_rng(seed)
    draws_b = _redraw(rng, baseline, resamples)
    draws_c = _redraw(rng, canary, resamples)
    quantiles_b = _quantiles(baseline, draws_b, q)
    quantiles_c = _quantiles(canary, draws_c, q)
    assert quantiles_b is not None and quantiles_c is not None  # totals are positive
    differences = quantiles_c - quantiles_b
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return Difference(point_baseline, point_canary, float(low), float(high))


def _redraw(rng: np.random.Generator, buckets: Buckets, resamples: int) -> np.ndarray:
    counts = np.asarray(buckets.counts, dtype=float)
    return rng.multinomial(int(counts.sum()), counts / counts.sum(), size=resamples).astype(float)


@dataclass(frozen=True)
class ProportionTest:
    """Two proportions and the pooled two-proportion z-test of their difference."""

    baseline: float
    canary: float
    z: float
    p_value: float  # two-sided

    @property
    def difference(self) -> float:
        return self.canary - self.baseline


def two_proportion_test(
    baseline_hits: int, baseline_n: int, canary_hits: int, canary_n: int
) -> ProportionTest | None:
    """Pooled two-proportion z-test (normal approximation): z = (p_c - p_b) / se with
    se = sqrt(p (1 - p) (1/n_b + 1/n_c)) and p the pooled proportion. Both rates equal to 0
    or 1 (no variance) is no evidence of a difference: z = 0, p = 1. None when a version has
    no trials."""
    if baseline_n <= 0 or canary_n <= 0:
        return None
    p_b, p_c = baseline_hits / baseline_n, canary_hits / canary_n
    pooled = (baseline_hits + canary_hits) / (baseline_n + canary_n)
    variance = pooled * (1 - pooled) * (1 / baseline_n + 1 / canary_n)
    if variance <= 0:
        return ProportionTest(p_b, p_c, 0.0, 1.0)
    z = (p_c - p_b) / math.sqrt(variance)
    # Two-sided normal tail, 2 * (1 - Phi(|z|)) = erfc(|z| / sqrt 2): math.erfc is exact to
    # double precision and spares every mlgate command the import of scipy.stats (~1 s).
    return ProportionTest(p_b, p_c, z, math.erfc(abs(z) / math.sqrt(2)))
