"""MLflow model directories for the tests: written by hand (no MLflow) or by MLflow itself.

The hand-written ``MLmodel`` is what ``mlflow.sklearn.save_model`` 3.17 writes (both flavors,
same keys), so the tests that use it show mlgate reading MLflow's format without MLflow.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

FILE_NAMES = {"skops": "model.skops", "pickle": "model.pkl", "cloudpickle": "model.pkl"}

# The sys.modules entry makes `import mlflow` fail as if it were not installed (None means
# "not importable"), whatever the environment holds.
WITHOUT_MLFLOW = (
    "import sys; sys.modules['mlflow'] = None; "
    "from mlgate.cli import main; sys.exit(main(sys.argv[1:]))"
)


def mlmodel(fmt: str = "skops", file_name: str | None = None, code: str | None = None) -> dict:
    """The MLmodel mapping MLflow writes for an sklearn model saved in ``fmt``."""
    name = file_name or FILE_NAMES[fmt]
    return {
        "flavors": {
            "python_function": {
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.sklearn",
                "model_path": name,
                "predict_fn": "predict",
                "python_version": "3.11.7",
                **({"code": code} if code else {}),
            },
            "sklearn": {
                "code": code,
                "pickled_model": name,
                "serialization_format": fmt,
                "sklearn_version": "1.9.1",
                "skops_trusted_types": None,
            },
        },
        "mlflow_version": "3.17.2",
        "model_id": None,
        "model_uuid": "54beed0321414baab16b4b7f39511fc2",
        "utc_time_created": "2026-11-27 17:05:10.167802",
    }


def write_mlflow_dir(
    directory: Path,
    model: Any = None,
    fmt: str = "skops",
    *,
    skops_file: Path | None = None,
    meta: dict | None = None,
) -> Path:
    """An MLflow model directory by hand: the model serialised as ``fmt`` and its MLmodel."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / FILE_NAMES[fmt]
    if skops_file is not None:
        shutil.copy(skops_file, target)
    elif fmt == "skops":
        import skops.io as sio

        sio.dump(model, target)
    elif fmt == "pickle":
        target.write_bytes(pickle.dumps(model))
    else:
        import cloudpickle

        target.write_bytes(cloudpickle.dumps(model))
    write_mlmodel(directory, meta or mlmodel(fmt))
    return directory


def write_mlmodel(directory: Path, meta: dict) -> Path:
    path = directory / "MLmodel"
    path.write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return path


def run_without_mlflow(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``mlgate ARGS`` in a fresh interpreter in which ``import mlflow`` fails."""
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_MLFLOW, *[str(a) for a in args]],
        cwd=cwd, capture_output=True, text=True, check=False, timeout=300,
    )
