"""``mlgate train``: run ``train.command`` from mlgate.yaml and check what it wrote."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlgate.config import DEFAULT_CONFIG
from mlgate.result import GateResult


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``train`` to the ``mlgate`` parser."""
    p = sub.add_parser(
        "train",
        parents=[common],
        help="train the candidate with train.command from mlgate.yaml",
        description="Run `train.command` in the directory of mlgate.yaml (no shell, no GitHub "
        "token or signing key in its environment, stopped after train.timeout) and check that "
        "it wrote every file in train.outputs (default: model.path). Exit 1 when the command "
        "fails or leaves an output unwritten.",
    )
    p.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: mlgate.yaml)")
    handover = p.add_mutually_exclusive_group()
    handover.add_argument(
        "--export", metavar="DIR",
        help="also copy the outputs and the training's report into DIR, to hand them to the "
        "job that gates (as an artifact)")
    handover.add_argument(
        "--receive", metavar="DIR",
        help="train nothing: copy the outputs a training job exported to DIR into the "
        "project and report that training's result")
    p.set_defaults(handler=_train)


def _train(args: argparse.Namespace) -> GateResult:
    from mlgate.config import load_config
    from mlgate.train.handover import export, receive
    from mlgate.train.run import run_training
    from mlgate.train.settings import train_settings

    config = load_config(args.config)
    settings = train_settings(config)
    if args.receive:
        return receive(settings, Path(args.receive))
    result = run_training(settings, echo=not args.quiet)
    if args.export:
        export(settings, result, Path(args.export))
    return result
