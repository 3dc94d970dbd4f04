"""Run one load test end to end: check inputs, bring the target up, load it, judge the SLOs.

Shared by ``mlgate load-test`` and the ``load`` stage of ``mlgate run``. Everything that can be
wrong with the input (payload, template, SLOs, a target that never becomes healthy, a URL
nothing listens on) surfaces as :class:`InputError` before a single figure is reported.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from mlgate.errors import InputError
from mlgate.load.generator import Plan, classify, new_session, run_native
from mlgate.load.inputs import gate_inputs
from mlgate.load.locust_engine import ensure_locust, run_locust
from mlgate.load.payload import build_bodies
from mlgate.load.report import build_result
from mlgate.load.schedule import as_triples
from mlgate.load.settings import LoadSettings
from mlgate.load.stats import LoadStats
from mlgate.load.targets import RunningTarget, open_target
from mlgate.progress import Progress
from mlgate.provenance import run_meta
from mlgate.result import GateResult


def run_load_test(settings: LoadSettings, evidence_dir: Path | None = None) -> GateResult:
    if settings.capacity is not None:
        from mlgate.load.capacity import run_capacity

        return run_capacity(settings, evidence_dir)
    bodies = build_bodies(settings.payload)
    if settings.engine == "locust":
        ensure_locust("engine")
    with open_target(settings.target) as target:
        plan = make_plan(settings, target.url, bodies)
        preflight(plan, settings.target.kind == "url")
        stats = run_engine(settings, plan, evidence_dir)
    result = build_result(settings, stats, target)
    finish(result, settings, target, evidence_dir)
    return result


def make_plan(settings: LoadSettings, url: str, bodies: list[bytes] | None) -> Plan:
    """The generator's plan for these settings (their rate, or their stages)."""
    return Plan(
        url=url,
        method=settings.method,
        bodies=bodies,
        headers=settings.headers,
        rate=settings.rate,
        duration=settings.duration,
        warmup=settings.warmup,
        timeout=settings.timeout,
        concurrency=settings.concurrency,
        processes=settings.processes,
        stages=as_triples(settings.stages) if settings.stages else None,
        ca_file=settings.target.ca_file,
        insecure=settings.target.insecure,
        grpc=settings.target.grpc,
    )


def finish(
    result: GateResult, settings: LoadSettings, target: RunningTarget, evidence_dir: Path | None
) -> None:
    """Inputs, provenance and ``load-stats.json`` of a finished load test or capacity search."""
    result.inputs = gate_inputs(settings, target)
    result.meta = run_meta(_home(settings))
    if evidence_dir is not None:
        evidence_dir.mkdir(parents=True, exist_ok=True)
        path = evidence_dir / "load-stats.json"
        path.write_text(json.dumps(result.data["load"], indent=2) + "\n", encoding="utf-8")
        result.evidence.append(str(path))


def _home(settings: LoadSettings) -> Path:
    """Where the commit is read: the config's directory, else the payload's or the model's."""
    if settings.config_file is not None:
        return settings.config_file.parent
    for path in (settings.payload.data, settings.target.model):
        if path is not None:
            return path.parent
    return Path.cwd()


def preflight(plan: Plan, external: bool) -> None:
    """One request before the clock starts: a URL nothing answers on is bad input (exit 2).

    Timeouts and HTTP (or gRPC) errors are not judged here: those are what the load test
    measures. It connects as the generator does: directly (no environment proxy), with the
    plan's certificate settings.
    """
    import requests

    what = "the endpoint" if external else "the started target's endpoint"
    if plan.grpc:
        reason = grpc_preflight(plan)
        if reason:
            raise InputError(f"cannot reach {what} ({reason}); nothing was load-tested",
                             plan.url)
        return
    session = new_session(plan)
    try:
        with warnings.catch_warnings():  # insecure was asked for: no warning per request
            warnings.simplefilter("ignore")
            session.request(
                plan.method,
                plan.url,
                data=plan.bodies[0] if plan.bodies else None,
                headers=plan.headers,
                timeout=plan.timeout,
                allow_redirects=False,
            )
    except requests.Timeout:
        return
    except requests.RequestException as exc:
        reason, _ = classify(exc)
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            reason = "its certificate is not trusted: give its CA with ca_file (--ca-file)"
        raise InputError(
            f"cannot reach {what} ({reason}); nothing was load-tested", plan.url
        ) from None
    finally:
        session.close()


def grpc_preflight(plan: Plan) -> str | None:
    """One ModelInfer call; the reason when nothing answers (or the TLS handshake fails)."""
    from mlgate.load.grpc_client import metadata, open_channel, outcome, require_grpc
    from mlgate.load.oip_wire import MODEL_INFER

    grpc = require_grpc()
    channel = open_channel(plan, aio=False)
    try:
        channel.unary_unary(MODEL_INFER)(plan.bodies[0] if plan.bodies else b"",
                                         timeout=plan.timeout, metadata=metadata(plan.headers))
    except grpc.RpcError as exc:
        reason, timed = outcome(grpc, exc.code())
        if not timed:
            return f"{reason}: {exc.details()}"
    finally:
        channel.close()
    return None


def run_engine(
    settings: LoadSettings, plan: Plan, evidence_dir: Path | None, label: str | None = None
) -> LoadStats:
    total = plan.warmup + plan.duration
    if label is None:
        label = f"load {plan.rate:g} req/s" if not plan.stages else "load stages"
    with Progress(label, total, unit="s", enabled=settings.progress) as progress:
        if settings.engine == "locust":
            if evidence_dir is not None:
                settings.locust.workdir = evidence_dir / "locust"
            progress.update(0, "running Locust")
            return run_locust(plan, settings.locust)

        def tick(elapsed: float, sent: int) -> None:
            phase = "warm-up" if elapsed < plan.warmup else "measuring"
            progress.update(min(max(elapsed, 0.0), total), f"{phase}, {sent} sent")

        stats = run_native(plan, tick)
    if plan.stages:
        stats.offered = plan.schedule().per_second(plan.warmup, len(stats.throughput))
    return stats
