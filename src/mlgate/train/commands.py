"""``mlgate train``: run ``train.command`` from mlgate.yaml and check what it wrote."""

from __future__ import annotations

import argparse

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
    p.set_defaults(handler=_train)


def _train(args: argparse.Namespace) -> GateResult:
    from mlgate.config import load_config
    from mlgate.train.run import run_training
    from mlgate.train.settings import train_settings

    config = load_config(args.config)
    return run_training(train_settings(config), echo=not args.quiet)
