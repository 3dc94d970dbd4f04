"""``mlgate canary``: flags in, a GateResult with a decision out.

Exit codes: 0 promote, 1 rollback, 4 inconclusive (too little traffic or no data: wait and run
again), 2 bad input (unreachable Prometheus, a rejected query, a metric without series, an
unknown version, a bad config). Inconclusive has its own code so that a pipeline can neither
mistake it for a pass nor roll back a canary that was never judged; the ``decision`` step
output says the same in words.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlgate.canary.decide import INCONCLUSIVE, Verdict, judge
from mlgate.canary.sample import VersionSample
from mlgate.canary.settings import CanarySettings
from mlgate.config import Config
from mlgate.figures import Figure, Series
from mlgate.result import CheckResult, GateResult, Status, Table

EXIT_INCONCLUSIVE = 4

HELP = """\
Decide whether a canary version should be promoted, rolled back, or observed for longer
(inconclusive), by comparing it with the baseline version: latency quantiles (bootstrap
confidence intervals of the difference), error rate and an optional business rate
(two-proportion z-tests), with a minimum number of requests per version. Figures come from
Prometheus (source prometheus: histograms and counters per version label over --window) or from
traffic mlgate sends itself (source direct: --rate split between --baseline-url and
--canary-url, --canary-share to the canary). Settings: the canary: section of --config, flags
override. Exit codes: 0 promote, 1 rollback, 4 inconclusive, 2 bad input."""


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("canary", parents=[common], help="promote, roll back or wait: a canary "
                       "judged against its baseline", description=HELP)
    p.add_argument("--config", help="read the canary: section of this file (default: "
                   "./mlgate.yaml when it exists)")
    p.add_argument("--source", choices=["prometheus", "direct"],
                   help="where the figures come from (default prometheus)")
    p.add_argument("--baseline", help="the baseline version (value of the version label)")
    p.add_argument("--canary", help="the canary version (value of the version label)")
    p.add_argument("--version-label", help="Prometheus label naming the version "
                   "(default version)")
    p.add_argument("--window", help="prometheus: judge this much recent data, e.g. 10m")
    p.add_argument("--prometheus-url", help="prometheus: base URL of the Prometheus server")
    p.add_argument("--baseline-url", help="direct: endpoint of the baseline")
    p.add_argument("--canary-url", help="direct: endpoint of the canary")
    p.add_argument("--rate", type=float, help="direct: total requests per second (default 100)")
    p.add_argument("--canary-share", help="direct: the canary's share of --rate, e.g. 5%% "
                   "(default 5%%)")
    p.add_argument("--duration", help="direct: measured duration, e.g. 30s (default 30s)")
    p.add_argument("--min-samples", type=int, help="requests each version needs before "
                   "anything is decided (default 500)")
    p.add_argument("--if-configured", action="store_true",
                   help="skip (exit 0, decision skipped) when the config has no canary: "
                   "section: the release workflow's optional step")
    p.set_defaults(handler=_canary)


def _canary(args: argparse.Namespace) -> GateResult:
    from mlgate.canary.settings import from_sources
    from mlgate.config import find_config
    from mlgate.provenance import run_meta

    config = find_config(args.config)
    if args.if_configured and (config is None or not config.section("canary")):
        where = config.path if config else "./mlgate.yaml"
        return GateResult(
            gate="canary",
            checks=[CheckResult("decision", Status.PASS, f"skipped: no canary: section in "
                                f"{where} (--if-configured)", value="skipped")],
            summary="canary analysis not configured: skipped",
            data={"decision": "skipped", "outputs": {"decision": "skipped"}})
    settings = from_sources(args, config)
    if settings.source == "prometheus":
        from mlgate.canary.prometheus import measure
    else:
        from mlgate.canary.direct import measure
    baseline, canary, facts = measure(settings)
    verdict = judge(settings, baseline, canary)
    result = build_result(settings, baseline, canary, verdict, facts)
    result.meta = run_meta(config.root if config else Path.cwd())
    result.inputs = _inputs(settings, config)
    return result


def _inputs(settings: CanarySettings, config: Config | None) -> dict[str, dict[str, Any]]:
    """What the decision read: the config, and where the figures came from (URLs without
    credentials)."""
    from mlgate.provenance import file_input, url_input

    found: dict[str, dict[str, Any]] = {}
    if config is not None:
        found["config"] = file_input(config.path)
    if settings.prometheus is not None:
        found["prometheus"] = url_input(settings.prometheus.url)
    if settings.direct is not None:
        found["baseline"] = url_input(settings.direct.baseline_url)
        found["canary"] = url_input(settings.direct.canary_url)
    return found


def build_result(settings: CanarySettings, baseline: VersionSample, canary: VersionSample,
                 verdict: Verdict, facts: dict[str, Any]) -> GateResult:
    """The gate result: checks, a comparison table, figures, and the decision as data."""
    result = GateResult(gate="canary", checks=verdict.checks)
    result.summary = (f"canary {canary.version} vs baseline {baseline.version} "
                      f"({settings.source}): {verdict.decision.upper()}: {verdict.reason}")
    # One screen at a terminal: the decision and every check, then the figures side by side.
    result.tables.append(Table(
        f"decision: {verdict.decision.upper()}: {verdict.reason}",
        ["check", "result", "canary vs baseline"],
        [[c.name, c.status.value, c.message] for c in verdict.checks if c.name != "decision"]))
    result.tables.append(_table(settings, baseline, canary))
    result.figures.extend(_figures(settings, baseline, canary, verdict))
    result.data["canary"] = {
        "decision": verdict.decision,
        "reason": verdict.reason,
        "source": settings.source,
        "baseline": _sample_data(baseline),
        "canary": _sample_data(canary),
        "latency_differences_ms": {
            k: None if d is None else {"baseline": d.baseline, "canary": d.canary,
                                       "difference": d.estimate, "ci_low": d.low,
                                       "ci_high": d.high}
            for k, d in verdict.latency.items()},
        "confidence": settings.confidence,
        "resamples": settings.resamples,
        "min_samples": settings.min_samples,
        "source_facts": facts,
    }
    result.data["decision"] = verdict.decision
    result.data["outputs"] = {"decision": verdict.decision}
    if verdict.decision == INCONCLUSIVE:
        result.data["exit_code"] = EXIT_INCONCLUSIVE
    return result


def _sample_data(sample: VersionSample) -> dict[str, Any]:
    return {"version": sample.version, "requests": sample.requests, "errors": sample.errors,
            "error_rate": sample.error_rate, "successes": sample.successes,
            "trials": sample.trials, "latency_observations": sample.latency.total,
            "reported_quantiles_ms": sample.reported}


def _table(settings: CanarySettings, baseline: VersionSample,
           canary: VersionSample) -> Table:
    from mlgate.canary.stats import quantile

    rows: list[list[Any]] = [["requests", baseline.requests, canary.requests],
                             ["errors", baseline.errors, canary.errors],
                             ["error rate", _percent(baseline.error_rate),
                              _percent(canary.error_rate)]]
    if baseline.trials is not None and canary.trials is not None:
        rows.append(["conversion rate", _percent(_ratio(baseline)), _percent(_ratio(canary))])
    for q in settings.quantiles:
        b, c = quantile(baseline.latency, q / 100), quantile(canary.latency, q / 100)
        rows.append([f"latency p{q:g} (ms)", _round(b), _round(c)])
    return Table(f"baseline {baseline.version} vs canary {canary.version}",
                 ["", baseline.version, canary.version], rows)


def _figures(settings: CanarySettings, baseline: VersionSample, canary: VersionSample,
             verdict: Verdict) -> list[Figure]:
    labels = list(verdict.latency)
    differences = list(verdict.latency.values())
    figures = [
        Figure("canary.latency", "Latency quantiles per version", "bar", labels,
               [Series(baseline.version,
                       [d.baseline if d else None for d in differences]),
                Series(canary.version, [d.canary if d else None for d in differences])],
               x_label="quantile", y_label="ms", priority=10,
               note="from the latency histograms; the decision reads the difference below"),
        Figure("canary.latency_difference", "Canary minus baseline latency, with "
               f"{settings.confidence:.0%} bootstrap interval", "bar", labels,
               [Series("canary - baseline", [d.estimate if d else None for d in differences],
                       low=[d.low if d else None for d in differences],
                       high=[d.high if d else None for d in differences])],
               x_label="quantile", y_label="ms", priority=20,
               note="worse when the interval is above 0 and the difference above the "
                    "tolerance"),
    ]
    rates_x = ["error rate"]
    rates_b = [_pct(baseline.error_rate)]
    rates_c = [_pct(canary.error_rate)]
    if baseline.trials and canary.trials:
        rates_x.append("conversion rate")
        rates_b.append(_pct((baseline.successes or 0) / baseline.trials))
        rates_c.append(_pct((canary.successes or 0) / canary.trials))
    figures.append(Figure("canary.rates", "Error and business rates per version", "bar",
                          rates_x, [Series(baseline.version, rates_b),
                                    Series(canary.version, rates_c)],
                          y_label="%", priority=30))
    if baseline.timeline and canary.timeline:
        figures.append(_timeline_figure(settings, baseline, canary))
    return figures


def _timeline_figure(settings: CanarySettings, baseline: VersionSample,
                     canary: VersionSample) -> Figure:
    times = sorted({t for t, _ in baseline.timeline} | {t for t, _ in canary.timeline})
    b, c = dict(baseline.timeline), dict(canary.timeline)
    q = max(settings.quantiles)
    return Figure("canary.latency_over_time", f"p{q:g} latency over the window", "line",
                  times, [Series(baseline.version, [b.get(t) for t in times]),
                          Series(canary.version, [c.get(t) for t in times])],
                  x_label="seconds", y_label="ms", priority=40)


def _ratio(sample: VersionSample) -> float | None:
    return (sample.successes or 0) / sample.trials if sample.trials else None


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3%}"


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
