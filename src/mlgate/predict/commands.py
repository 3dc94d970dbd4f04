"""``mlgate predict``: flags in, the data gate's and the predict gate's results out.

Exit codes: 0 scored and written, 1 a gate refused the batch (nothing written), 2 bad input
(missing file, unknown stage, no valid version, a model that will not load, malformed data).
"""

from __future__ import annotations

import argparse

from mlgate.result import GateResult

HELP = """\
Score a batch (CSV or Parquet; a file, a URI or a DVC pointer) with a verified ledger version
(default: the configured artifact at production), after the data gate judged the batch
(contract, suites, drift against data.reference; the target column may be absent) and with a
check of the predictions' distribution against the previous batch of the same version (else
the model's predictions on the reference). Writes OUT and OUT's lineage record
(OUT.lineage.json: model version and tag, input and output sha256, row counts, gate results)
only when both gates pass, and records the run as a git note (refs/notes/mlgate-batch) on the
version's commit. Settings: the predict: section of --config. Exit codes: 0 written, 1 a gate
refused the batch (nothing written), 2 bad input."""


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("predict", parents=[common], help="score a batch with a verified "
                       "ledger version, behind the data gate", description=HELP)
    p.add_argument("--data", required=True, metavar="FILE|URI",
                   help="the batch to score (CSV or Parquet; path, URI or DVC pointer)")
    p.add_argument("--output", required=True, metavar="OUT",
                   help="where to write the predictions: OUT.csv or OUT.parquet")
    p.add_argument("--model", metavar="NAME#STAGE|NAME@vX.Y.Z",
                   help="the ledger version to score with (default: predict.model, else the "
                   "artifact (ledger.name or project) at production)")
    p.add_argument("--config", help="mlgate.yaml (default: ./mlgate.yaml)")
    push = p.add_mutually_exclusive_group()
    push.add_argument("--push", dest="push", action="store_true", default=None,
                      help="push the run's git note to ledger.remote (default: predict.push)")
    push.add_argument("--no-push", dest="push", action="store_false")
    p.add_argument("--no-git-record", dest="record_git", action="store_false", default=None,
                   help="do not record the run as a git note (default: predict.record_git)")
    p.set_defaults(handler=_predict)


def _predict(args: argparse.Namespace) -> list[GateResult]:
    from mlgate.config import DEFAULT_CONFIG, load_config
    from mlgate.predict.batch import run_batch
    from mlgate.predict.settings import from_sources

    config = load_config(args.config or DEFAULT_CONFIG)
    settings = from_sources(config, args.data, args.output, args.model, args.push,
                            args.record_git)
    return run_batch(settings, progress=not args.quiet)
