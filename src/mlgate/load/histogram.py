"""A log-linear latency histogram in the manner of HdrHistogram (our own small implementation).

Values are recorded in integer microseconds. Below 256 µs every value has its own bucket; above,
each power of two is split into 128 equal sub-buckets, so any recorded value is known to within
1/128 (< 0.8 %) of itself while the whole range from 1 µs to hours fits in a few thousand
counters. Histograms from several threads or processes merge by adding counts, which is what
makes percentiles over a multi-process run exact with respect to the buckets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SUB_BITS = 7
HALF = 1 << SUB_BITS  # 128 sub-buckets per power of two
LINEAR = HALF << 1  # values below 256 µs are exact


def bucket_index(value_us: int) -> int:
    if value_us < LINEAR:
        return max(value_us, 0)
    shift = value_us.bit_length() - (SUB_BITS + 1)
    return LINEAR + (shift - 1) * HALF + ((value_us >> shift) - HALF)


def bucket_bounds(index: int) -> tuple[int, int]:
    """Lowest and highest value (µs, inclusive) that fall into bucket ``index``."""
    if index < LINEAR:
        return index, index
    k = index - LINEAR
    shift = k // HALF + 1
    mantissa = k % HALF + HALF
    return mantissa << shift, ((mantissa + 1) << shift) - 1


@dataclass
class Histogram:
    """Counts per bucket plus exact count, sum, min and max."""

    counts: dict[int, int] = field(default_factory=dict)
    total: int = 0
    sum_us: int = 0
    min_us: int | None = None
    max_us: int | None = None

    def record(self, seconds: float) -> None:
        value = max(int(seconds * 1e6 + 0.5), 0)
        idx = bucket_index(value)
        self.counts[idx] = self.counts.get(idx, 0) + 1
        self.total += 1
        self.sum_us += value
        self.min_us = value if self.min_us is None else min(self.min_us, value)
        self.max_us = value if self.max_us is None else max(self.max_us, value)

    def merge(self, other: Histogram) -> Histogram:
        for idx, n in other.counts.items():
            self.counts[idx] = self.counts.get(idx, 0) + n
        self.total += other.total
        self.sum_us += other.sum_us
        if other.min_us is not None:
            self.min_us = other.min_us if self.min_us is None else min(self.min_us, other.min_us)
        if other.max_us is not None:
            self.max_us = other.max_us if self.max_us is None else max(self.max_us, other.max_us)
        return self

    def percentile_ms(self, q: float) -> float | None:
        """Value at percentile ``q`` (0-100], as the highest value of its bucket (conservative)."""
        if self.total == 0:
            return None
        if q >= 100:
            return (self.max_us or 0) / 1000
        rank = max(1, math.ceil(q / 100 * self.total))
        seen = 0
        for idx in sorted(self.counts):
            seen += self.counts[idx]
            if seen >= rank:
                high = bucket_bounds(idx)[1]
                return min(high, self.max_us or high) / 1000
        return (self.max_us or 0) / 1000

    @property
    def mean_ms(self) -> float | None:
        return self.sum_us / self.total / 1000 if self.total else None

    def buckets_ms(self) -> list[list[float]]:
        """Non-empty buckets as ``[low_ms, high_ms, count]`` rows, in order."""
        rows = []
        for idx in sorted(self.counts):
            low, high = bucket_bounds(idx)
            rows.append([low / 1000, (high + 1) / 1000, self.counts[idx]])
        return rows

    def coarse(self, edges_ms: list[float]) -> list[int]:
        """Counts at or below each edge (the last bucket takes the rest): for a small chart."""
        out = [0] * (len(edges_ms) + 1)
        for idx, n in self.counts.items():
            low_ms = bucket_bounds(idx)[0] / 1000
            slot = next((i for i, e in enumerate(edges_ms) if low_ms < e), len(edges_ms))
            out[slot] += n
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": {str(k): v for k, v in self.counts.items()},
            "total": self.total,
            "sum_us": self.sum_us,
            "min_us": self.min_us,
            "max_us": self.max_us,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Histogram:
        return cls(
            {int(k): int(v) for k, v in data["counts"].items()},
            int(data["total"]),
            int(data["sum_us"]),
            data.get("min_us"),
            data.get("max_us"),
        )


# Latency over time: one small histogram per window of the run, for the latency chart.
WINDOW_SUB_BITS = 4  # 16 sub-buckets per power of two: within 1/16 of a value, enough to draw
MAX_WINDOWS = 120  # points of a latency-over-time chart, whatever the duration


def window_width(seconds: float) -> int:
    """Whole seconds per window so that a run of ``seconds`` has at most ``MAX_WINDOWS``."""
    return max(1, math.ceil(seconds / MAX_WINDOWS - 1e-9))


def _coarse_index(value_us: int) -> int:
    half = 1 << WINDOW_SUB_BITS
    if value_us < half << 1:
        return max(value_us, 0)
    shift = value_us.bit_length() - (WINDOW_SUB_BITS + 1)
    return (half << 1) + (shift - 1) * half + ((value_us >> shift) - half)


def _coarse_high(index: int) -> int:
    """Highest value (µs) of coarse bucket ``index``."""
    half = 1 << WINDOW_SUB_BITS
    if index < half << 1:
        return index
    k = index - (half << 1)
    shift = k // half + 1
    return ((k % half + half + 1) << shift) - 1


@dataclass
class LatencyWindows:
    """Latency per time window of ``width`` seconds, each a coarse log-linear histogram.

    Why not one full :class:`Histogram` per second: a long run at a high rate would hold
    thousands of them per thread. Here the number of windows is bounded (``MAX_WINDOWS``) and a
    window holds at most a few hundred counters (16 per power of two), so memory stays small
    whatever the duration and rate, while p50/p95/p99 per window are within 1/16 of the truth
    (the highest value of their bucket, capped at the window's maximum: conservative, as
    :meth:`Histogram.percentile_ms`).
    """

    width: int
    counts: dict[int, dict[int, int]] = field(default_factory=dict)  # window -> bucket -> n
    maxima: dict[int, int] = field(default_factory=dict)  # window -> largest value (µs)

    def record(self, offset_s: float, seconds: float) -> None:
        """A latency of ``seconds`` for a request due ``offset_s`` into the measured window."""
        window = int(offset_s // self.width)
        value = max(int(seconds * 1e6 + 0.5), 0)
        buckets = self.counts.setdefault(window, {})
        idx = _coarse_index(value)
        buckets[idx] = buckets.get(idx, 0) + 1
        if value > self.maxima.get(window, -1):
            self.maxima[window] = value

    def merge(self, other: LatencyWindows) -> LatencyWindows:
        if other.width != self.width:
            raise ValueError(f"cannot merge latency windows of {other.width}s into "
                             f"{self.width}s ones")
        for window, buckets in other.counts.items():
            mine = self.counts.setdefault(window, {})
            for idx, n in buckets.items():
                mine[idx] = mine.get(idx, 0) + n
        for window, value in other.maxima.items():
            self.maxima[window] = max(value, self.maxima.get(window, -1))
        return self

    def percentile_ms(self, window: int, q: float) -> float | None:
        """Latency at percentile ``q`` (0-100] of one window; None when it has no requests."""
        buckets = self.counts.get(window)
        if not buckets:
            return None
        top = self.maxima[window]
        total = sum(buckets.values())
        rank = max(1, math.ceil(q / 100 * total))
        seen = 0
        for idx in sorted(buckets):
            seen += buckets[idx]
            if seen >= rank:
                return min(_coarse_high(idx), top) / 1000
        return top / 1000

    def series_ms(self, windows: int, q: float) -> list[float | None]:
        """Percentile ``q`` of windows ``0 .. windows-1`` (None for a window without data)."""
        return [self.percentile_ms(w, q) for w in range(windows)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "counts": {str(w): {str(k): n for k, n in b.items()} for w, b in self.counts.items()},
            "maxima": {str(w): v for w, v in self.maxima.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencyWindows:
        return cls(
            int(data["width"]),
            {int(w): {int(k): int(n) for k, n in b.items()} for w, b in data["counts"].items()},
            {int(w): int(v) for w, v in data["maxima"].items()},
        )
