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
from mlgate.model.mlflow_model import is_mlflow_dir
from mlgate.model.mlflow_registry import resolve_tracking_uri
from mlgate.trust import MODEL_KEYS


def inputs_from_config(
    config: Config | None, args: argparse.Namespace | None, results_dir: Path | None = None
) -> GateInputs:
    section: dict[str, Any] = config.section("model") if config else {}
    root = config.root if config else Path.cwd()

    def flag(name: str) -> Any:
        return getattr(args, name, None) if args is not None else None

    def path(flag_name: str, key: str) -> Path | None:
        value = flag(flag_name)
        if value:
            return Path(value).absolute()
        return _under(root, section[key]) if section.get(key) else None

    where = f"{config.path}:model" if config else "mlgate gate-model"
    data = path("data", "data")
    target = flag("target") or section.get("target")
    if data is None:
        raise InputError("no held-out data: give --data or set model.data", where)
    if not target:
        raise InputError("no target column: give --target or set model.target", where)
    model = path("model", "path")
    predictions = path("predictions", "predictions")
    if flag("model") and not flag("predictions"):
        predictions = None  # an explicit --model replaces configured predictions
    if flag("predictions") and not flag("model"):
        model = None
    seed = flag("seed")
    # --allow-pickle (in the workflow file) replaces model.allow_pickle; the rest have no flag.
    trust_keys = tuple(k for k in MODEL_KEYS
                       if not (k == "model.allow_pickle" and flag("allow_pickle")))
    return GateInputs(
        data=data,
        target=str(target),
        model=model,
        predictions=predictions,
        champion=_file_or_ref(flag("champion")) or section.get("champion"),
        champion_file=section.get("champion_file"),
        task=flag("task") or section.get("task"),
        policy=_file_or_ref(flag("policy")) or section.get("policy"),
        allow_pickle=bool(flag("allow_pickle") or section.get("allow_pickle", False)),
        allow_pickle_from_pr=bool(flag("allow_pickle_from_pr")),
        trusted_types=list(section.get("trusted_types") or []),
        mlflow_tracking_uri=resolve_tracking_uri(section.get("mlflow_tracking_uri"), root),
        seed=int(seed if seed is not None else section.get("seed", 0)),
        base_dir=root,
        repo=root,
        project=config.project if config else None,
        results_dir=results_dir,
        where=where,
        config=config,
        trust_keys=trust_keys,
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
