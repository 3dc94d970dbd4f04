"""Capacity mode: the highest arrival rate at which every SLO still holds.

``mlgate load-test --capacity`` (or ``load.capacity``) runs short load tests ("probes") at
increasing constant rates against one started target: ``min_rate``, then doubling until a
probe breaches an SLO (or ``max_rate`` passes), then bisection between the highest rate that
passed and the lowest that failed until they are within ``precision`` (relative) of each other.
Each probe is a real load test through the same engine, plan and SLO evaluation as
``mlgate load-test --rate R`` (warm-up included), so "capacity" means exactly "the highest rate
at which this gate would pass", measured, not extrapolated.

The result has one check, ``capacity``, whose value is the rate found: it fails below
``capacity.min_required`` when that is set; otherwise it passes (it is a measurement), and it
warns when not even ``min_rate`` met the SLOs. A table lists every probe; the figure
``load.capacity`` draws latency and error rate against the rate tried, with the SLO limits.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.figures import Figure, Series, Threshold
from mlgate.load.locust_engine import ensure_locust
from mlgate.load.payload import build_bodies
from mlgate.load.runner import finish, make_plan, preflight, run_engine
from mlgate.load.settings import AUTO_PROCESS_RATE, CapacityOptions, LoadSettings
from mlgate.load.slo import SLO
from mlgate.load.stats import LoadStats
from mlgate.load.targets import RunningTarget, open_target
from mlgate.load.units import format_ms
from mlgate.result import CheckResult, GateResult, Status, Table

CAPACITY_PRIORITY = 10


@dataclass
class Probe:
    """One short load test at a constant rate and what the SLOs said of it."""

    rate: float
    passed: bool
    achieved: float
    error_rate: float
    latency_ms: dict[str, float | None]
    breached: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"rate": self.rate, "passed": self.passed, "achieved_rate": round(self.achieved, 3),
                "error_rate": round(self.error_rate, 6), "latency_ms": self.latency_ms,
                "breached": self.breached}


def search(probe: Callable[[float], bool], opts: CapacityOptions) -> float | None:
    """The highest rate ``probe`` passed: doubling from ``min_rate`` (at most ``max_rate``)
    until one fails, then bisection until ``failed - passed <= precision * passed``.
    None when ``min_rate`` already fails."""
    passed: float | None = None
    failed: float | None = None
    rate = opts.min_rate
    while True:
        if probe(rate):
            passed = rate
        else:
            failed = rate
            break
        if rate >= opts.max_rate:
            return passed
        rate = min(rate * 2, opts.max_rate)
    if passed is None:
        return None
    while failed - passed > opts.precision * passed:
        mid = _round((passed + failed) / 2)
        if mid <= passed or mid >= failed:
            break
        if probe(mid):
            passed = mid
        else:
            failed = mid
    return passed


def _round(rate: float) -> float:
    """Probe rates with 4 significant digits, so tables read 93.75, not 93.74999."""
    digits = 3 - math.floor(math.log10(rate)) if rate > 0 else 0
    return round(rate, max(digits, 0))


def run_capacity(settings: LoadSettings, evidence_dir: Path | None = None) -> GateResult:
    opts = settings.capacity
    assert opts is not None
    bodies = build_bodies(settings.payload)
    if settings.engine == "locust":
        ensure_locust("engine")
    probes: list[Probe] = []
    last: dict[float, LoadStats] = {}
    with open_target(settings.target) as target:
        preflight(make_plan(_at(settings, opts.min_rate), target.url, bodies),
                  settings.target.kind == "url")

        def probe(rate: float) -> bool:
            at = _at(settings, rate)
            stats = run_engine(at, make_plan(at, target.url, bodies), evidence_dir,
                               label=f"capacity probe {rate:g} req/s")
            checks = [slo.evaluate(stats) for slo in settings.slos]
            breached = [c.name for c in checks if c.status == Status.FAIL]
            probes.append(Probe(rate, not breached, stats.achieved_rate, stats.error_rate,
                                {s: stats.latency_ms(s) for s in _latency_stats(settings.slos)},
                                breached))
            last[rate] = stats
            return not breached

        found = search(probe, opts)
    result = capacity_result(settings, opts, probes, found, target, last.get(found or -1.0))
    finish(result, settings, target, evidence_dir)
    return result


def _at(settings: LoadSettings, rate: float) -> LoadSettings:
    """The settings of one probe: a constant ``rate`` for ``step_duration``."""
    assert settings.capacity is not None
    at = copy.copy(settings)
    at.rate = rate
    at.duration = settings.capacity.step_duration
    at.stages = None
    if settings.processes_auto:
        import os

        at.processes = max(1, min(os.cpu_count() or 1, math.ceil(rate / AUTO_PROCESS_RATE)))
    return at


def _latency_stats(slos: list[SLO]) -> list[str]:
    stats = [slo.stat for slo in slos if slo.is_latency]
    return list(dict.fromkeys(stats or ["p95"]))


def capacity_result(
    settings: LoadSettings,
    opts: CapacityOptions,
    probes: list[Probe],
    found: float | None,
    target: RunningTarget,
    best: LoadStats | None = None,
) -> GateResult:
    result = GateResult(gate="load")
    result.add(capacity_check(opts, found, probes))
    result.tables.append(_probe_table(probes, settings.slos))
    result.figures.append(capacity_figure(probes, settings.slos))
    slos = ", ".join(slo.name for slo in settings.slos)
    data: dict[str, Any] = {
        "mode": "capacity",
        "engine": settings.engine,
        "url": best.url if best is not None else None,
        "capacity_rps": found,
        "at_least": found is not None and found >= opts.max_rate,
        "options": {"min_rate": opts.min_rate, "max_rate": opts.max_rate,
                    "step_duration_s": opts.step_duration, "warmup_s": settings.warmup,
                    "precision": opts.precision, "min_required": opts.min_required},
        "probes": [p.to_dict() for p in probes],
        "slo": [slo.text for slo in settings.slos],
        "target": {"kind": settings.target.kind, "description": target.description,
                   "pid": target.pid, "container_id": target.container_id},
    }
    if best is not None:
        data["at_capacity"] = best.to_dict()
    result.data["load"] = data
    result.data["outputs"] = {"load_capacity_rps": found}
    shown = "no rate" if found is None else f"{found:g} req/s"
    result.summary = (
        f"capacity search against {target.description}: {shown} met every SLO ({slos}); "
        f"{len(probes)} probes of {opts.step_duration:g}s"
        + (f" after {settings.warmup:g}s warm-up" if settings.warmup else "")
        + f" between {opts.min_rate:g} and {opts.max_rate:g} req/s, precision "
        f"{opts.precision * 100:g}%."
    )
    return result


def capacity_check(opts: CapacityOptions, found: float | None,
                   probes: list[Probe]) -> CheckResult:
    failed = [p.rate for p in probes if not p.passed]
    above = min((r for r in failed if found is None or r > found), default=None)
    if found is None:
        message = (f"no rate met every SLO: the first probe, {opts.min_rate:g} req/s, already "
                   f"breached {', '.join(probes[0].breached) if probes else 'them'}")
    elif above is None:
        message = (f"at least {found:g} req/s: every probe up to max_rate ({opts.max_rate:g} "
                   "req/s) met every SLO")
    else:
        message = (f"{found:g} req/s met every SLO, {above:g} req/s did not "
                   f"({', '.join(next(p.breached for p in probes if p.rate == above))})")
    threshold = None
    if opts.min_required is not None:
        threshold = opts.min_required
        ok = found is not None and found >= opts.min_required
        status = Status.PASS if ok else Status.FAIL
        message += f"; required at least {opts.min_required:g} req/s"
    else:
        status = Status.WARN if found is None else Status.PASS
    return CheckResult("capacity", status, message, value=found, threshold=threshold,
                       details={"unit": "req/s", "probes": len(probes)})


def _probe_table(probes: list[Probe], slos: list[SLO]) -> Table:
    stats = _latency_stats(slos)
    rows: list[list[Any]] = []
    for p in probes:
        rows.append([p.rate, round(p.achieved, 2),
                     *[None if p.latency_ms[s] is None else round(p.latency_ms[s] or 0, 3)
                       for s in stats],
                     f"{p.error_rate * 100:.3g}%", "pass" if p.passed else "fail",
                     ", ".join(p.breached)])
    return Table("Capacity probes, in the order run",
                 ["rate (req/s)", "achieved (req/s)", *[f"{s} (ms)" for s in stats],
                  "error rate", "SLOs", "breached"], rows)


def capacity_figure(probes: list[Probe], slos: list[SLO]) -> Figure:
    """``load.capacity``: latency and error rate against the rate tried, with the SLOs."""
    ordered = sorted({p.rate: p for p in probes}.values(), key=lambda p: p.rate)
    series = [Series(f"{s} (ms)", [p.latency_ms[s] for p in ordered])
              for s in _latency_stats(slos)]
    series.append(Series("error rate (%)", [round(p.error_rate * 100, 4) for p in ordered]))
    thresholds = [Threshold(f"{slo.stat} SLO (ms)", slo.limit) for slo in slos if slo.is_latency]
    thresholds += [Threshold("error_rate SLO (%)", slo.limit * 100)
                   for slo in slos if slo.stat == "error_rate"]
    passed = [p.rate for p in ordered if p.passed]
    best = f"; highest passing rate {max(passed):g} req/s" if passed else ""
    limits = ", ".join(f"{s.stat} {format_ms(s.limit)}" for s in slos if s.is_latency)
    return Figure(
        id="load.capacity",
        title="Capacity search: latency and errors by offered rate",
        kind="line",
        x=[p.rate for p in ordered],
        series=series,
        x_label="offered rate (req/s)",
        y_label="latency (ms) / error rate (%)",
        thresholds=thresholds,
        priority=CAPACITY_PRIORITY,
        note=f"one short load test per rate (points evenly spaced, in rate order){best}; "
             f"lines: the SLO limits ({limits or 'none on latency'})",
    )
