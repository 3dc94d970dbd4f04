"""MLflow model directories, read without MLflow: the ``MLmodel`` file names the model file.

``mlflow.sklearn.save_model`` writes a directory holding an ``MLmodel`` YAML file and the model
serialised as skops (MLflow's default since 3.x), pickle or cloudpickle. mlgate reads that
directory itself, so a repository needs no MLflow installed to gate such a model, and the model
file inside is opened by the caller's single-file loader: the same rules apply to it as to any
model file (skops types checked against ``trusted_types``, pickles only with ``allow_pickle`` and,
in runs whose code is not the default branch's, only when the default branch holds them).

What the ``MLmodel`` file says is input, not instruction, since a pull request can write it:

* only the ``sklearn`` flavor is loaded (the ``python_function`` flavor alone would mean running
  its ``loader_module``, i.e. code the model brings); anything else is refused naming the
  flavors found;
* the model file must lie inside the directory (no ``..``, absolute paths or symlinks out of it)
  and its suffix must match ``serialization_format``, so the rules the loader picks by suffix
  are the rules the file's format needs (a ``skops``-declared ``model.pkl`` is refused);
* ``skops_trusted_types`` is ignored: a file cannot vouch for the types it holds; they go under
  ``model.trusted_types`` after review;
* MLflow's own code directory (``code:``, from ``code_paths=`` at save time) is never imported:
  mlgate imports code only from ``model.code_paths``, a reviewed setting read from the default
  branch in untrusted runs. A missing code directory is refused (the directory is incomplete);
  when loading fails and the model ships code, the error says where the code should go.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.bounded import check_yaml_file_size, parse_yaml
from mlgate.config import _line_of
from mlgate.errors import InputError

MLMODEL = "MLmodel"
FLAVOR = "sklearn"

# serialization_format -> the file suffixes whose loader rules fit it.
FORMAT_SUFFIXES: dict[str, tuple[str, ...]] = {
    "skops": (".skops",),
    "pickle": (".pkl", ".pickle", ".joblib"),
    "cloudpickle": (".pkl", ".pickle"),
}
# Old MLflow versions wrote (cloud)pickles without naming the format.
DEFAULT_FORMAT = "cloudpickle"


@dataclass(frozen=True)
class MlflowModel:
    """An MLflow model directory as its ``MLmodel`` file describes it (already checked)."""

    directory: Path
    mlmodel: Path
    model_file: Path
    serialization_format: str
    code_dir: Path | None


def is_mlflow_dir(path: str | Path) -> bool:
    """Whether ``path`` is a directory holding an ``MLmodel`` file (an MLflow model)."""
    candidate = Path(path)
    return candidate.is_dir() and (candidate / MLMODEL).is_file()


def read_mlflow_dir(path: str | Path) -> MlflowModel:
    """Read and check ``path/MLmodel``; raise InputError naming the file, line and field.

    Checks everything that can be checked without opening the model file: the sklearn flavor,
    a known serialisation format, a model file inside the directory whose suffix fits the
    format, and that a declared code directory exists.
    """
    directory = Path(path)
    mlmodel = directory / MLMODEL
    if not mlmodel.is_file():
        raise InputError(
            "a model directory must be an MLflow model: no MLmodel file in it", directory
        )
    check_yaml_file_size(mlmodel, "MLmodel")
    try:
        text = mlmodel.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the MLmodel file: {exc}", mlmodel) from exc
    data, node = parse_yaml(text, mlmodel)

    def where(*keys: str) -> str:
        line = _line_of(node, list(keys), key_line=True)
        field = ".".join(keys)
        return f"{mlmodel}:{line}: {field}" if line else f"{mlmodel}: {field}"

    flavors = data.get("flavors") if isinstance(data, dict) else None
    if not isinstance(flavors, dict):
        raise InputError("not an MLflow MLmodel file: no `flavors` mapping", where("flavors"))
    flavor = flavors.get(FLAVOR)
    if not isinstance(flavor, dict):
        raise InputError(
            f"no sklearn flavor (flavors found: {_flavor_list(flavors)}); mlgate loads MLflow "
            "models saved with mlflow.sklearn only, since other flavors (python_function "
            "included) load through code the model names",
            where("flavors"),
        )
    fmt = flavor.get("serialization_format", DEFAULT_FORMAT)
    if not isinstance(fmt, str) or fmt not in FORMAT_SUFFIXES:
        raise InputError(
            f"unknown serialization_format {fmt!r}; expected one of "
            f"{', '.join(sorted(FORMAT_SUFFIXES))}",
            where("flavors", FLAVOR, "serialization_format"),
        )
    name = flavor.get("pickled_model")
    if not isinstance(name, str) or not name.strip():
        raise InputError(
            "the sklearn flavor names no model file (expected a file name)",
            where("flavors", FLAVOR, "pickled_model"),
        )
    model_file = _inside(directory, name, where("flavors", FLAVOR, "pickled_model"))
    if not model_file.is_file():
        raise InputError(
            f"model file {name!r} not found in the MLflow model directory",
            where("flavors", FLAVOR, "pickled_model"),
        )
    if model_file.suffix.lower() not in FORMAT_SUFFIXES[fmt]:
        raise InputError(
            f"model file {name!r} does not fit serialization_format {fmt!r} (expected "
            f"{' or '.join(FORMAT_SUFFIXES[fmt])}); refusing a file whose format is in doubt",
            where("flavors", FLAVOR, "pickled_model"),
        )
    code = flavor.get("code")
    code_dir = None
    if code is not None:
        field = where("flavors", FLAVOR, "code")
        if not isinstance(code, str) or not code.strip():
            raise InputError(f"expected a directory name, got {code!r}", field)
        code_dir = _inside(directory, code, field)
        if not code_dir.is_dir():
            raise InputError(
                f"code directory {code!r} not found in the MLflow model directory", field
            )
    return MlflowModel(directory, mlmodel, model_file, str(fmt), code_dir)


def load_mlflow_dir(path: Path, load_file: Callable[[Path], Any]) -> Any:
    """Load the sklearn model of the MLflow directory ``path`` through ``load_file``.

    ``load_file`` is the caller's safe single-file loader (:func:`mlgate.model.loading`'s), so
    the model file inside gets exactly the rules a file given directly would. A load that fails
    is explained with what the directory adds: cloudpickle not installed, or code the model
    ships that mlgate does not import.
    """
    model = read_mlflow_dir(path)
    try:
        return load_file(model.model_file)
    except InputError as exc:
        hint = _load_hint(model, exc)
        if not hint:
            raise
        raise InputError(f"{exc.message}; {hint}", exc.source) from exc


def mlflow_model_file(path: str | Path) -> Path:
    """The model file an MLflow directory's ``MLmodel`` names (checked as by loading).

    What evidence and budgets measure for a directory: the bytes that were loaded.
    """
    return read_mlflow_dir(path).model_file


def _inside(directory: Path, name: str, where: str) -> Path:
    """``directory/name``, refused unless it stays inside ``directory`` once resolved."""
    relative = Path(name)
    resolved = (directory / relative).resolve()
    if relative.is_absolute() or not resolved.is_relative_to(directory.resolve()):
        raise InputError(
            f"{name!r} points outside the MLflow model directory; refusing to read it", where
        )
    return directory / relative


def _flavor_list(flavors: dict[Any, Any]) -> str:
    names = []
    for name, conf in flavors.items():
        loader = conf.get("loader_module") if isinstance(conf, dict) else None
        names.append(f"{name} (loader_module {loader})" if loader else str(name))
    return ", ".join(names) or "none"


def _load_hint(model: MlflowModel, exc: InputError) -> str:
    """What to do about a failed load that the MLflow directory explains, or ''."""
    hints = []
    if (
        model.serialization_format == "cloudpickle"
        and "cloudpickle" in exc.message
        and importlib.util.find_spec("cloudpickle") is None
    ):
        hints.append(
            "the model was saved with cloudpickle, which is not installed: "
            "pip install cloudpickle"
        )
    if model.code_dir is not None:
        hints.append(
            f"the model ships code in {model.code_dir.name}/ (MLflow code_paths), which mlgate "
            "does not import: after review, put the modules it needs under model.code_paths"
        )
    return "; ".join(hints)


__all__ = [
    "MLMODEL",
    "MlflowModel",
    "is_mlflow_dir",
    "load_mlflow_dir",
    "mlflow_model_file",
    "read_mlflow_dir",
]
