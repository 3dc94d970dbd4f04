"""``mlgate gate-model``: the model-quality gate on the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlgate.result import GateResult


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``gate-model`` to the ``mlgate`` parser."""
    p = sub.add_parser(
        "gate-model",
        parents=[common],
        help="score a candidate model on held-out data and gate it against a policy",
        description="Score the candidate on held-out data; check metric thresholds, "
        "non-inferiority to the champion (paired bootstrap interval of the difference), "
        "slices and budgets. Flags override the model: section of mlgate.yaml.",
    )
    p.add_argument(
        "--model",
        help="candidate model file (.skops; pickle only with --allow-pickle) or MLflow model "
        "directory",
    )
    p.add_argument("--data", help="held-out data (CSV or Parquet) with features and target")
    p.add_argument("--target", help="target column name")
    p.add_argument(
        "--champion",
        metavar="REF|FILE",
        help="champion: a ledger stage (production, NAME#STAGE), a model/predictions file or "
        "MLflow model directory, or mlflow:models:/NAME@ALIAS (or /NAME/VERSION)",
    )
    p.add_argument(
        "--policy",
        metavar="PRESET|FILE",
        help="policy preset (classification-default, multiclass-default, regression-default, "
        "strict) or YAML file; default: the preset of the task and the number of classes",
    )
    p.add_argument(
        "--predictions",
        help="score this predictions file (prediction/score/proba_<class> columns) "
        "instead of running a model",
    )
    p.add_argument("--task", choices=["classification", "regression"], help="default: inferred")
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        default=None,
        help="allow .pkl/.pickle/.joblib files (runs code when loading: trusted files only)",
    )
    p.add_argument(
        "--allow-pickle-from-pr",
        action="store_true",
        help="in a run whose code is not the default branch's (pull requests, comments, "
        "merge queues, other branches), also allow pickles the default branch does not hold",
    )
    p.add_argument("--config", help="mlgate.yaml (default: ./mlgate.yaml when it exists)")
    p.add_argument("--seed", type=int, help="bootstrap seed (default 0)")
    p.add_argument("--results-dir", help="also write model-metrics.json evidence here")
    p.set_defaults(handler=_gate_model)


def _gate_model(args: argparse.Namespace) -> GateResult:
    from mlgate.config import find_config
    from mlgate.model.gate import run_gate
    from mlgate.model.settings import inputs_from_config

    config = find_config(args.config)
    results_dir = Path(args.results_dir) if args.results_dir else None
    return run_gate(inputs_from_config(config, args, results_dir))
