"""The arrival schedule: due times from a piecewise-linear rate, exact and without drift."""

from __future__ import annotations

import itertools
import math

import pytest

from mlgate.load.generator import Plan
from mlgate.load.schedule import Schedule, Stage, as_triples, describe


def dues(schedule: Schedule) -> list[float]:
    return [schedule.due(i) for i in range(schedule.slots)]


def test_a_constant_rate_is_todays_schedule_exactly() -> None:
    schedule = Schedule.from_stages([Stage(0, 100), Stage(12.5, 100)])
    assert schedule.slots == math.ceil(12.5 * 100)
    assert all(schedule.due(i) == i / 100 for i in range(schedule.slots))
    plan = Plan(url="http://x", rate=37, duration=3.3, warmup=0.7)
    assert plan.total_slots == max(1, math.ceil((0.7 + 3.3) * 37))
    assert all(plan.schedule().due(i) == i / 37 for i in range(plan.total_slots))


def test_counts_per_stage_follow_the_area_under_the_rate() -> None:
    # ramp 0 -> 100 over 10 s (500 requests), hold 100 for 5 s (500), ramp down to 20 over 5 s
    # (300), step to 50 and hold 2 s (100).
    stages = [Stage(10, 100), Stage(5, 100), Stage(5, 20), Stage(2, 50, ramp=False)]
    schedule = Schedule.from_stages(stages)
    times = dues(schedule)
    assert len(times) == 1400 and schedule.total == 22
    bounds = [0, 10, 15, 20, 22]
    counts = [sum(lo <= t < hi for t in times) for lo, hi in itertools.pairwise(bounds)]
    assert counts == [500, 500, 300, 100]
    assert all(b >= a for a, b in itertools.pairwise(times))  # monotone
    assert times[-1] < schedule.total


def test_due_times_solve_the_integral_exactly() -> None:
    schedule = Schedule.from_stages([Stage(30, 1000), Stage(60, 5000), Stage(30, 0)])
    for i in (1, 2, 7, 14_999, 15_000, 15_001, 100_000, 194_999, 195_000, 210_000):
        t = schedule.due(i)
        assert schedule.count_until(t) == pytest.approx(i, abs=1e-6)
    assert schedule.due(15_000) == pytest.approx(30)  # the end of the first ramp
    # a ramp from 0: N(t) = 1000/30 * t^2 / 2, so request i is due at sqrt(60 i / 1000)
    assert schedule.due(5_000) == pytest.approx(math.sqrt(60 * 5_000 / 1000), rel=1e-12)


def test_steps_and_holds() -> None:
    step = Schedule.from_stages([Stage(0, 10), Stage(2, 10), Stage(0, 40), Stage(1, 40)])
    times = dues(step)
    assert len(times) == 60
    assert sum(t < 2 for t in times) == 20
    assert times[20] == pytest.approx(2.0) and times[21] == pytest.approx(2.025)
    same = Schedule.from_stages([Stage(2, 10, ramp=False), Stage(1, 40, ramp=False)])
    assert dues(same) == pytest.approx(times)
    assert step.rate_at(1) == 10 and step.rate_at(2.5) == 40 and step.peak_rate == 40


def test_a_pause_at_zero_rate_sends_nothing() -> None:
    schedule = Schedule.from_stages([Stage(1, 10, ramp=False), Stage(0, 0), Stage(2, 0),
                                     Stage(1, 10, ramp=False)])
    times = dues(schedule)
    assert len(times) == 20
    assert not any(1.0 < t < 3.0 for t in times)


def test_mean_rate_and_per_second_series() -> None:
    schedule = Schedule.from_stages([Stage(4, 40), Stage(2, 40)])
    assert schedule.per_second(0, 6) == [5, 15, 25, 35, 40, 40]
    assert schedule.mean_rate(4, 6) == 40


def test_plans_carry_stages_as_plain_triples() -> None:
    stages = [Stage(10, 100), Stage(0, 200), Stage(5, 200)]
    plan = Plan(url="http://x", rate=1, duration=15, stages=as_triples(stages))
    assert plan.stages == [[10, 0, 100], [5, 200, 200]]
    assert plan.total_slots == 500 + 1000
    assert plan.threads_per_process() == 100  # from the peak rate, not the mean
    assert describe(stages) == "0->100 req/s over 10s, step to 200 req/s, 200 req/s for 5s"


def test_bad_segments_are_refused() -> None:
    with pytest.raises(ValueError):
        Schedule([(1, -1, 2)])
