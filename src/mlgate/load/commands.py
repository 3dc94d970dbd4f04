"""``mlgate load-test`` and ``mlgate serve``: flags in, a GateResult out."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlgate.result import GateResult

LOAD_HELP = """\
Send requests at a fixed arrival rate (open model) to a target, measure latency from each
request's intended send time (so server queueing cannot hide), and gate on SLOs such as
--slo 'p95<250ms' --slo 'error_rate<1%' --slo 'rate>=95%'. Flags override the load: section
of --config. Without any SLO the gate checks error_rate<1% and rate>=95%. Instead of one
--rate, --stage DURATION:RATE (repeatable) ramps the rate through k6-style stages, and
--capacity searches for the highest rate at which every SLO holds."""


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "load-test", parents=[common], help="load-test an endpoint and gate on latency SLOs",
        description=LOAD_HELP,
    )
    t = p.add_argument_group("target (one of)")
    t.add_argument("--url", help="endpoint of a running service (with --command: where to send)")
    t.add_argument("--command", dest="target_command",
                   help="start this shell command, load it, stop it; {port} is replaced by a "
                   "free port")
    t.add_argument("--health", help="URL that answers 2xx once --command is ready; for "
                   "--image a path in the container (default /)")
    t.add_argument("--image", help="start this local Docker image (never pulled)")
    t.add_argument("--container-port", type=int, help="port the image listens on (default 8080)")
    t.add_argument("--container-command", help="command to run in the container")
    t.add_argument("--serve", metavar="MODEL", help="start `mlgate serve --model MODEL`")
    t.add_argument("--allow-pickle", action="store_true", default=None,
                   help="with --serve: allow pickle/joblib models (runs code when loading)")
    t.add_argument("--startup-timeout", help="how long to wait for health (default 30s)")
    t.add_argument("--path", help="endpoint path on the target (default /predict for --serve, "
                   "/ otherwise)")
    t.add_argument("--ca-file", help="https/grpcs: PEM file of the certificates to trust "
                   "(default: the system's and certifi's)")
    t.add_argument("--insecure", action="store_true", default=None,
                   help="https: do not verify the server's certificate (a test endpoint with a "
                   "self-signed one)")
    r = p.add_argument_group("load")
    r.add_argument("--rate", type=float, help="target requests per second")
    r.add_argument("--stage", action="append", metavar="DURATION:RATE",
                   help="instead of --rate: ramp linearly to RATE req/s over DURATION, from "
                   "the previous stage's rate (0 before the first); 0s:RATE is a step; "
                   "repeatable, e.g. --stage 30s:100 --stage 1m:100 --stage 10s:0")
    r.add_argument("--capacity", action="store_true", default=None,
                   help="instead of --rate: search for the highest rate at which every SLO "
                   "holds (short probes doubling from load.capacity.min_rate, then "
                   "bisection); --duration sets each probe's length")
    r.add_argument("--duration", help="measured duration, e.g. 10s, 2m (default 10s)")
    r.add_argument("--warmup", help="warm-up before measuring, excluded from figures (default 0)")
    r.add_argument("--timeout", help="per-request timeout (default 5s)")
    r.add_argument("--method", help="HTTP method (default POST with a payload, else GET)")
    r.add_argument("--header", action="append", metavar="'NAME: VALUE'", help="extra header")
    r.add_argument("--data", help="CSV/Parquet file whose rows are sampled into request bodies")
    r.add_argument("--drop", action="append", metavar="COLUMN",
                   help="column of --data not to send (e.g. the target)")
    r.add_argument("--rows-per-request", type=int, help="rows per request body (default 1)")
    r.add_argument("--template", help="body template (JSON text or file) with {{rows}} or "
                   "{{row}}; default '{\"rows\": {{rows}}}'")
    r.add_argument("--protocol", help="payload preset: mlgate (default), oip/kserve-v2, "
                   "oip-grpc (to a grpc:// URL; the grpc extra), tfserving, mlflow, torchserve, "
                   "bentoml; decides body and path")
    r.add_argument("--model-name", help="the model the protocol calls (oip, oip-grpc, "
                   "tfserving, torchserve; default for --serve: the file's stem)")
    r.add_argument("--engine", choices=["native", "locust"], help="load generator")
    r.add_argument("--concurrency", type=int, help="generator threads in total (default from "
                   "the rate)")
    r.add_argument("--processes", help="generator processes: a number or auto (default)")
    r.add_argument("--locust-workers", type=int, help="engine locust: local worker processes "
                   "(runs Locust as --master)")
    g = p.add_argument_group("gate")
    g.add_argument("--slo", action="append", help="SLO such as 'p95<250ms', 'p99<=1s', "
                   "'error_rate<1%%', 'rate>=95%%' (repeatable)")
    g.add_argument("--profile", help="SLO profile: interactive, batch or a YAML file")
    g.add_argument("--config", help="read defaults from the load: section of this file "
                   "(default: ./mlgate.yaml when it exists)")
    g.add_argument("--evidence-dir", help="also write load-stats.json (and Locust files) here")
    p.set_defaults(handler=_load_test)

    s = sub.add_parser(
        "serve", parents=[common], help="serve a scikit-learn model over HTTP",
        description="POST /predict with {\"rows\": [{column: value}, ...]} answers predictions "
        "(and probabilities); GET /health answers status. The Open Inference Protocol (KServe "
        "v2) too: POST /v2/models/NAME/infer, GET /v2/models/NAME, GET /v2/health/ready and "
        "/live. Runs until Ctrl-C or SIGTERM.",
    )
    s.add_argument("--model", required=True, help="model file (.skops; pickle with "
                   "--allow-pickle), or a ledger version NAME@vX.Y.Z or NAME#STAGE: its "
                   "artifact read from git, served only when its ledger entry is valid")
    s.add_argument("--require-signature", action="store_true",
                   help="serve a model file only when it is a registered artifact whose "
                   "signature verifies (ledger.artifact_signing on the default branch)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                   "127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one and prints "
                   "the URL (default 8080)")
    s.add_argument("--model-name", help="the model's name over the Open Inference Protocol "
                   "(POST /v2/models/NAME/infer; default: the model file's stem, or the "
                   "ledger name)")
    s.add_argument("--allow-pickle", action="store_true", default=None,
                   help="allow pickle/joblib model files (they run code when loaded); replaces "
                   "model.allow_pickle")
    s.add_argument("--config", help="read the loading rules (trusted_types, allow_pickle, "
                   "code_paths) from the model: section of this file (default: ./mlgate.yaml "
                   "when it exists), as gate-model does")
    s.set_defaults(handler=_serve)


def _load_test(args: argparse.Namespace) -> GateResult:
    from mlgate.config import find_config
    from mlgate.load.runner import run_load_test
    from mlgate.load.settings import from_sources

    # Like `mlgate run`, use ./mlgate.yaml when it exists; flags still override its load: keys.
    config = find_config(args.config)
    settings = from_sources(args, config)
    evidence = Path(args.evidence_dir) if args.evidence_dir else None
    return run_load_test(settings, evidence)


def _serve(args: argparse.Namespace) -> GateResult:
    import signal
    import threading

    from mlgate.config import find_config
    from mlgate.load.serve_source import model_to_serve
    from mlgate.load.server import serve_model
    from mlgate.model.loading import LoadRules
    from mlgate.result import CheckResult, Status

    # The model gate's rules: the same model loads (or is refused) the same way here.
    rules = LoadRules.from_config(find_config(args.config), allow_pickle=args.allow_pickle)
    with model_to_serve(args.model, args.require_signature) as served:
        label = served.label
        server = serve_model(served.path, args.host, args.port, rules, label=label,
                             from_ledger=served.from_ledger,
                             model_name=args.model_name or served.name)
    stopping = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        stopping.set()
    finally:
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return GateResult(
        gate="serve",
        checks=[CheckResult("server stopped cleanly", Status.PASS, f"served {label}")],
        summary=f"served {label} until stopped",
    )
