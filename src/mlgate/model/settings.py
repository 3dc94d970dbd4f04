"""Merge ``mlgate gate-model`` flags with the ``model:`` section of mlgate.yaml.

Flags win over the config. Paths from flags are relative to the working directory; paths from
the config are relative to the config file's directory (like every mlgate.yaml path).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlgate.config import Config
from mlgate.errors import InputError
from mlgate.model.gate import GateInputs
from mlgate.model.importance import ImportanceSettings
from mlgate.model.loading import LoadRules, reject_uri
from mlgate.model.mlflow_model import is_mlflow_dir
from mlgate.model.mlflow_registry import resolve_tracking_uri


def inputs_from_config(
    config: Config | None, args: argparse.Namespace | None, results_dir: Path | None = None
) -> GateInputs:
    section: dict[str, Any] = config.section("model") if config else {}
    root = config.root if config else Path.cwd()

    def flag(name: str) -> Any:
        return getattr(args, name, None) if args is not None else None

    def path(flag_name: str, key: str, what: str) -> Path | None:
        value = flag(flag_name)
        if value:
            reject_uri(str(value), f"--{flag_name}", what)
            return Path(value).absolute()
        if not section.get(key):
            return None
        reject_uri(section[key], config.where("model", key) if config else f"model.{key}", what)
        return _under(root, section[key])

    where = f"{config.path}:model" if config else "mlgate gate-model"
    data = path("data", "data", "held-out data")
    target = flag("target") or section.get("target")
    if data is None:
        raise InputError("no held-out data: give --data or set model.data", where)
    if not target:
        raise InputError("no target column: give --target or set model.target", where)
    model = path("model", "path", "models")
    predictions = path("predictions", "predictions", "predictions")
    if flag("model") and not flag("predictions"):
        predictions = None  # an explicit --model replaces configured predictions
    if flag("predictions") and not flag("model"):
        model = None
    seed = flag("seed")
    reject_uri(flag("champion"), "--champion")
    for key in ("champion", "champion_file"):
        reject_uri(section.get(key), config.where("model", key) if config else f"model.{key}")
    # --allow-pickle (in the workflow file) replaces model.allow_pickle; the rest have no flag.
    rules = LoadRules.from_config(
        config,
        allow_pickle=bool(flag("allow_pickle")),
        allow_pickle_from_pr=bool(flag("allow_pickle_from_pr")),
    )
    return GateInputs(
        data=data,
        target=str(target),
        model=model,
        predictions=predictions,
        champion=_file_or_ref(flag("champion")) or section.get("champion"),
        champion_file=section.get("champion_file"),
        task=flag("task") or section.get("task"),
        policy=_file_or_ref(flag("policy")) or section.get("policy"),
        rules=rules,
        mlflow_tracking_uri=resolve_tracking_uri(section.get("mlflow_tracking_uri"), root),
        seed=int(seed if seed is not None else section.get("seed", 0)),
        base_dir=root,
        repo=root,
        project=config.project if config else None,
        results_dir=results_dir,
        where=where,
        config=config,
        importance=ImportanceSettings.from_section(section.get("importance")),
    )


def _under(root: Path, value: str) -> Path:
    candidate = Path(value)
    return candidate if candidate.is_absolute() else root / candidate


def _file_or_ref(value: str | None) -> str | None:
    """A flag naming an existing file or MLflow model directory (relative to the working
    directory) becomes absolute;
    anything else (a ledger stage, a preset name) is passed on as written."""
    if not value:
        return None
    given = Path(value)
    return str(given.absolute()) if given.is_file() or is_mlflow_dir(given) else value
