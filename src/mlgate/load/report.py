"""Turn :class:`LoadStats` into the gate's result: one check per SLO, tables, charts, figures
(:mod:`mlgate.load.figures`), JSON data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlgate.load.figures import load_figures
from mlgate.load.schedule import Schedule, describe
from mlgate.load.units import format_ms
from mlgate.result import Chart, CheckResult, GateResult, Status, Table

if TYPE_CHECKING:
    from mlgate.load.settings import LoadSettings
    from mlgate.load.stats import LoadStats
    from mlgate.load.targets import RunningTarget

HISTOGRAM_EDGES_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
MAX_BARS = 30


def build_result(settings: LoadSettings, stats: LoadStats, target: RunningTarget) -> GateResult:
    result = GateResult(gate="load")
    for slo in settings.slos:
        result.add(slo.evaluate(stats))
    result.tables.append(_latency_table(stats))
    result.tables.append(_requests_table(settings, stats))
    if stats.errors:
        result.tables.append(
            Table("Errors by reason", ["reason", "count"],
                  [[k, v] for k, v in sorted(stats.errors.items(), key=lambda kv: -kv[1])])
        )
    if target.resources:
        result.tables.append(_resources_table(target.resources))
    result.charts.append(throughput_chart(stats))
    result.charts.append(latency_chart(stats))
    result.figures += load_figures(stats, settings.slos)
    lagging = schedule_check(settings, stats)
    if lagging is not None:
        result.add(lagging)
        stats.notes.append(lagging.message)
    data: dict[str, Any] = stats.to_dict()
    data["target"] = {
        "kind": settings.target.kind,
        "description": target.description,
        "pid": target.pid,
        "container_id": target.container_id,
    }
    if target.resources:
        data["resources"] = target.resources
    data["slo"] = [slo.text for slo in settings.slos]
    payload = settings.payload
    if payload.data is not None:  # how the bodies were built: what the figures are for
        data["payload"] = {"protocol": payload.protocol, "rows_per_request":
                           payload.rows_per_request, "model_name": payload.model_name}
    result.data["load"] = data
    p95 = stats.latency_ms("p95")
    p99 = stats.latency_ms("p99")
    result.data["outputs"] = {
        "load_achieved_rate": round(stats.achieved_rate, 2),
        "load_error_rate": round(stats.error_rate, 6),
        "load_p95_ms": p95,
        "load_p99_ms": p99,
    }
    warm = f" after {settings.warmup:g}s warm-up" if settings.warmup else ""
    offered = f"{settings.rate:g} req/s"
    if settings.stages:
        data["stages"] = [{"duration_s": s.duration, "rate": s.rate, "ramp": s.ramp}
                          for s in settings.stages]
        offered = f"stages ({describe(settings.stages)}; mean {settings.rate:.4g} req/s measured)"
        warm = f" after the first {settings.warmup:g}s (warm-up)" if settings.warmup else ""
    result.summary = (
        f"{stats.engine} engine offered {offered} for {settings.duration:g}s{warm} "
        f"to {target.description} ({stats.url}): achieved {stats.achieved_rate:.1f} req/s, "
        f"p95 {format_ms(p95)}, p99 {format_ms(p99)}, "
        f"errors {stats.error_count}/{stats.measured}."
        + "".join(f" Note: {n}" for n in stats.notes)
    )
    return result


def schedule_check(settings: LoadSettings, stats: LoadStats) -> CheckResult | None:
    """A WARN check when the generator could not keep to its schedule (None when it did).

    Late sends do not hide anything (latency counts from the intended send time), but the
    server then saw a lower, burstier rate than asked for, so the figures describe a different
    test. That deserves a look, not a failed gate: the SLOs still judge what was measured, and
    ``rate >= N%`` fails when too few requests were served. A WARN shows in the terminal and
    makes a check run neutral, where a note in the summary went unseen.
    """
    lag = stats.lag_p99_ms
    peak = Schedule.from_stages(settings.stages).peak_rate if settings.stages else settings.rate
    limit = max(20.0, 2000.0 / peak)  # two send intervals, at least 20ms
    if lag is None or lag <= limit:
        return None
    return CheckResult(
        "generator kept up", Status.WARN,
        f"send lag p99 {format_ms(lag)}: the load generator could not keep up, requests left "
        "later than scheduled (all generator threads were busy or the machine was saturated); "
        "their latency includes the wait. Give it more --concurrency or --processes, or lower "
        "--rate",
        value=round(lag, 3), threshold=round(limit, 3),
    )


def _latency_table(stats: LoadStats) -> Table:
    rows: list[list[Any]] = [
        [name, None if value is None else round(value, 3)]
        for name, value in stats.percentiles().items()
    ]
    return Table("Latency from intended send time (ms)", ["statistic", "ms"], rows)


def _requests_table(settings: LoadSettings, stats: LoadStats) -> Table:
    rows: list[list[Any]] = [
        ["target rate (req/s)" + (", mean of the stages" if settings.stages else ""),
         round(settings.rate, 3)],
        ["achieved rate (req/s)", round(stats.achieved_rate, 2)],
        ["requests measured", stats.measured],
        ["ok", stats.ok],
        ["errors", stats.error_count],
        ["error rate", f"{stats.error_rate * 100:.3g}%"],
    ]
    if stats.lag_p99_ms is not None:
        rows.append(["send lag p99 (ms)", round(stats.lag_p99_ms, 3)])
    return Table("Requests", ["figure", "value"], rows)


def _resources_table(res: dict[str, Any]) -> Table:
    return Table(
        "Container resources during the test",
        ["figure", "value"],
        [
            ["CPU % (avg)", res.get("cpu_percent_avg")],
            ["CPU % (max)", res.get("cpu_percent_max")],
            ["memory MiB (avg)", res.get("memory_mib_avg")],
            ["memory MiB (max)", res.get("memory_mib_max")],
            ["samples", res.get("samples")],
        ],
    )


def throughput_chart(stats: LoadStats) -> Chart:
    """Responses per second; long runs are grouped so the chart stays at most 30 bars."""
    series = stats.throughput
    group = max(1, -(-len(series) // MAX_BARS))
    labels, values = [], []
    for start in range(0, len(series), group):
        chunk = series[start : start + group]
        labels.append(f"{start}s" if group == 1 else f"{start}-{start + len(chunk)}s")
        values.append(round(sum(chunk) / len(chunk), 1))
    return Chart("Throughput over time (responses/s)", labels, values, unit=" req/s")


def latency_chart(stats: LoadStats) -> Chart:
    if stats.latency is not None:
        counts = stats.latency.coarse([float(e) for e in HISTOGRAM_EDGES_MS])
        labels = [f"<{format_ms(e)}" for e in HISTOGRAM_EDGES_MS] + [
            f">={format_ms(HISTOGRAM_EDGES_MS[-1])}"
        ]
        # Trim empty buckets at both ends so the chart shows the interesting range.
        nonzero = [i for i, c in enumerate(counts) if c]
        lo, hi = (nonzero[0], nonzero[-1]) if nonzero else (0, 0)
        return Chart("Latency histogram (requests)", labels[lo : hi + 1],
                     [float(c) for c in counts[lo : hi + 1]])
    table = stats.percentiles()
    pairs = [(k, v) for k, v in table.items() if v is not None and k.startswith("p")]
    return Chart("Latency by percentile", [k for k, _ in pairs], [v for _, v in pairs], unit="ms")
