"""When request *i* is due: the arrival schedule of an open-model load test.

A schedule is a piecewise-linear offered rate ``r(t)`` over ``[0, total)`` seconds (``t = 0``
is the start of the run, warm-up included). Request *i* is due at the first ``t`` where the
number of requests offered so far, ``N(t) = integral of r from 0 to t``, reaches ``i``. Within
a segment that ramps from ``r0`` to ``r1`` over ``d`` seconds, ``N`` is quadratic, so each due
time is solved in closed form from the segment's start: nothing is accumulated from one
request to the next, so long runs do not drift. A constant rate gives ``i / rate`` exactly,
the schedule the native generator always had.

Stages follow k6's ``ramping-arrival-rate``: each stage ramps linearly from the rate the
previous stage ended at (0 before the first) to its own ``rate``, reached at the end of the
stage. A hold is a stage with the same rate as the one before; a step is a stage of duration 0
(or ``ramp: false``, which jumps to the rate at the start of the stage and holds it).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """``duration`` seconds ending at ``rate`` req/s (ramped, or jumped to when not ``ramp``)."""

    duration: float
    rate: float
    ramp: bool = True


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the run
    duration: float
    rate0: float  # req/s at the start of the segment
    rate1: float  # req/s at its end
    count0: float  # requests offered before the segment

    @property
    def count(self) -> float:
        return (self.rate0 + self.rate1) / 2 * self.duration


class Schedule:
    """A piecewise-linear rate; see the module docstring."""

    def __init__(self, segments: Sequence[tuple[float, float, float]]) -> None:
        """``segments``: ``(duration, rate at start, rate at end)``, in order."""
        self.segments: list[Segment] = []
        start = count = 0.0
        for duration, r0, r1 in segments:
            if duration < 0 or r0 < 0 or r1 < 0 or not all(
                math.isfinite(v) for v in (duration, r0, r1)
            ):
                raise ValueError(f"bad segment ({duration}, {r0}, {r1})")
            if duration == 0:
                continue
            seg = Segment(start, duration, r0, r1, count)
            self.segments.append(seg)
            start += duration
            count += seg.count
        self.total = start
        self.offered = count
        self._counts = [s.count0 for s in self.segments]

    @classmethod
    def constant(cls, rate: float, total: float) -> Schedule:
        return cls([(total, rate, rate)])

    @classmethod
    def from_stages(cls, stages: Sequence[Stage], start_rate: float = 0.0) -> Schedule:
        parts: list[tuple[float, float, float]] = []
        rate = start_rate
        for stage in stages:
            begin = rate if stage.ramp else stage.rate
            parts.append((stage.duration, begin, stage.rate))
            rate = stage.rate
        return cls(parts)

    @property
    def peak_rate(self) -> float:
        return max((max(s.rate0, s.rate1) for s in self.segments), default=0.0)

    @property
    def slots(self) -> int:
        """How many requests the schedule offers: every ``i`` with ``due(i) < total``."""
        return max(1, math.ceil(self.offered))

    def rate_at(self, t: float) -> float:
        seg = self._segment_at_time(t)
        if seg is None:
            return 0.0
        frac = (t - seg.start) / seg.duration
        return seg.rate0 + (seg.rate1 - seg.rate0) * min(max(frac, 0.0), 1.0)

    def count_until(self, t: float) -> float:
        """``N(t)``: requests offered in ``[0, t)``."""
        if t <= 0 or not self.segments:
            return 0.0
        if t >= self.total:
            return self.offered
        seg = self._segment_at_time(t)
        assert seg is not None
        tau = t - seg.start
        slope = (seg.rate1 - seg.rate0) / seg.duration
        return seg.count0 + seg.rate0 * tau + slope * tau * tau / 2

    def due(self, i: int) -> float:
        """Seconds from the start of the run at which request ``i`` (from 0) is due."""
        if i <= 0 or not self.segments:
            return 0.0
        k = bisect.bisect_left(self._counts, i) - 1  # the segment with count0 < i <= its end
        seg = self.segments[max(k, 0)]
        x = i - seg.count0
        if x >= seg.count:  # the end of the segment (or beyond the schedule: its end)
            return seg.start + seg.duration
        r0 = seg.rate0
        half_slope = (seg.rate1 - r0) / (2 * seg.duration)
        if half_slope == 0:
            return seg.start + x / r0
        # Solve half_slope*tau^2 + r0*tau - x = 0 in the form that stays exact when r0 >> slope.
        disc = max(r0 * r0 + 4 * half_slope * x, 0.0)
        tau = 2 * x / (r0 + math.sqrt(disc))
        return seg.start + min(tau, seg.duration)

    def mean_rate(self, t0: float, t1: float) -> float:
        """Requests offered per second over ``[t0, t1)``."""
        if t1 <= t0:
            return self.rate_at(t0)
        return (self.count_until(t1) - self.count_until(t0)) / (t1 - t0)

    def per_second(self, start: float, seconds: int) -> list[float]:
        """The offered rate averaged over each whole second from ``start``."""
        return [round(self.mean_rate(start + s, start + s + 1), 6) for s in range(seconds)]

    def _segment_at_time(self, t: float) -> Segment | None:
        if not self.segments or t < 0 or t >= self.total:
            return None
        starts = [s.start for s in self.segments]
        return self.segments[bisect.bisect_right(starts, t) - 1]


def schedule_of(stages: Sequence[Sequence[float]] | None, rate: float, total: float) -> Schedule:
    """The schedule of a :class:`~mlgate.load.generator.Plan`: its ``stages`` as plain
    ``[duration, start rate, end rate]`` triples, or a constant ``rate`` for ``total`` s."""
    if stages:
        return Schedule([(float(d), float(a), float(b)) for d, a, b in stages])
    return Schedule.constant(rate, total)


def as_triples(stages: Sequence[Stage]) -> list[list[float]]:
    """Stages as the JSON-safe triples a Plan carries to child processes."""
    return [[s.duration, s.rate0, s.rate1] for s in Schedule.from_stages(stages).segments]


def describe(stages: Sequence[Stage]) -> str:
    """``0->100 req/s over 30s, 100 req/s for 1m`` for summaries."""
    parts = []
    rate = 0.0
    for stage in stages:
        begin = rate if stage.ramp else stage.rate
        if stage.duration == 0:
            parts.append(f"step to {stage.rate:g} req/s")
        elif begin == stage.rate:
            parts.append(f"{stage.rate:g} req/s for {stage.duration:g}s")
        else:
            parts.append(f"{begin:g}->{stage.rate:g} req/s over {stage.duration:g}s")
        rate = stage.rate
    return ", ".join(parts)
