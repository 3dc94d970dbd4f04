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
