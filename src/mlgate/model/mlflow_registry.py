"""Champions from an MLflow model registry: ``mlflow:models:/NAME@ALIAS`` or ``/NAME/VERSION``.

The registry answers which version an alias points at; mlgate downloads that version's
artifacts (an MLflow model directory) into the gate's private scratch directory and loads them
like a local MLflow directory (:mod:`mlgate.model.mlflow_model`), under the same rules as any
model file. The evidence records the reference, the version it resolved to and the sha256 of
the model file that was loaded, since an alias moves.

MLflow is an optional extra (``pip install 'mlgate[mlflow]'``), imported only here and only when
such a reference is used. The tracking URI comes from ``model.mlflow_tracking_uri`` in
mlgate.yaml, else ``MLFLOW_TRACKING_URI``; there is no default (MLflow's own, a store in the
working directory, would silently be an empty registry). The config key is a trust setting: the
job's MLflow credentials go to that server, so a run whose code is not the default branch's
reads it from the default branch (checked by the caller before this module is reached).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlgate.errors import InputError
from mlgate.model.mlflow_model import is_mlflow_dir

PREFIX = "mlflow:"
TRACKING_URI_KEY = "model.mlflow_tracking_uri"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
EXTRA = "pip install 'mlgate[mlflow]'"
FORMS = "mlflow:models:/NAME@ALIAS or mlflow:models:/NAME/VERSION"
REF = re.compile(
    r"^mlflow:models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>[1-9][0-9]*))$"
)

# Tracking URIs without a scheme that are no local path (MLflow's own special names).
NAMED_URIS = ("databricks", "databricks-uc", "uc")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

# A gate in CI should fail in seconds when the registry is down, not after MLflow's default
# seven retries with exponential backoff (about four minutes). Set only when the job has not.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


@dataclass(frozen=True)
class RegistryModel:
    """A model version downloaded from the registry: where its MLflow directory is."""

    ref: str
    name: str
    version: str
    directory: Path


def is_mlflow_ref(ref: str | None) -> bool:
    """Whether a champion reference names an MLflow registry model (``mlflow:...``)."""
    return bool(ref) and str(ref).startswith(PREFIX)


def resolve_tracking_uri(value: str | None, base_dir: Path) -> str | None:
    """A tracking URI from mlgate.yaml, with a relative local path made relative to the file.

    Like every path in mlgate.yaml: a plain path (a file store) or ``sqlite:///relative.db`` is
    resolved against the config's directory; other URIs are kept as written.
    """
    if not value:
        return None
    if value.startswith("sqlite:///") and not value.startswith("sqlite:////"):
        rest = value[len("sqlite:///"):]
        if rest and not rest.startswith(":memory:"):
            return "sqlite:///" + str(base_dir / rest)
        return value
    if _is_plain_path(value) and not Path(value).is_absolute():
        return str(base_dir / value)
    return value


def _is_plain_path(uri: str) -> bool:
    """A tracking URI that is a local path (MLflow's file store), not a URI or special name."""
    return uri not in NAMED_URIS and SCHEME.match(uri) is None


def download_champion(
    ref: str, tracking_uri: str | None, scratch: Path, where: str
) -> RegistryModel:
    """Download the model version ``ref`` names into a new directory under ``scratch``.

    Every failure (no MLflow, no tracking URI, registry unreachable, model, alias or version
    unknown, artifacts that are no MLflow model) is an InputError naming ``ref``.
    """
    match = REF.match(ref)
    if match is None:
        raise InputError(f"champion {ref!r}: expected {FORMS}", where)
    name, alias, version = match.group("name", "alias", "version")
    uri = tracking_uri or os.environ.get(TRACKING_URI_ENV, "").strip()
    if not uri:
        raise InputError(
            f"champion {ref} needs an MLflow tracking URI: set {TRACKING_URI_ENV} or "
            f"{TRACKING_URI_KEY}",
            where,
        )
    _check_local_store(ref, uri, where)
    mlflow, client_class = _import_mlflow(ref, where)
    registry_uri = os.environ.get("MLFLOW_REGISTRY_URI", "").strip() or uri
    target = Path(tempfile.mkdtemp(prefix="mlflow-champion-", dir=scratch))
    with _bounded_mlflow():
        try:
            client = client_class(tracking_uri=uri, registry_uri=registry_uri)
            found = (client.get_model_version_by_alias(name, alias) if alias
                     else client.get_model_version(name, version))
            version = str(found.version)
            source = client.get_model_version_download_uri(name, version)
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=str(target), tracking_uri=uri
            )
        except Exception as exc:  # MLflow raises MlflowException, requests and store errors
            raise InputError(
                f"champion {ref}: {_describe(exc)} (MLflow registry {_redact(registry_uri)})",
                where,
            ) from exc
    directory = Path(local)
    if not is_mlflow_dir(directory):
        raise InputError(
            f"champion {ref}: version {version} of {name!r} has no MLmodel file in its "
            "artifacts, so it is no MLflow model mlgate can load",
            where,
        )
    return RegistryModel(ref, name, version, directory)


def _import_mlflow(ref: str, where: str) -> tuple[Any, Any]:
    try:
        import mlflow.artifacts
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise InputError(
            f"champion {ref} reads an MLflow registry, but MLflow cannot be imported "
            f"({type(exc).__name__}: {exc}): {EXTRA}",
            where,
        ) from exc
    return mlflow, MlflowClient


def _check_local_store(ref: str, uri: str, where: str) -> None:
    """Refuse a local store that does not exist: MLflow would create an empty one there."""
    path: str | None = None
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///"):].split("?", 1)[0]
        if not path or path.startswith(":memory:"):
            return
    elif uri.startswith("file:"):
        path = urlsplit(uri).path
    elif _is_plain_path(uri):
        path = uri  # MLflow's file store
    if path is not None and not Path(path).exists():
        raise InputError(
            f"champion {ref}: the MLflow tracking store {path} does not exist (check "
            f"{TRACKING_URI_ENV} / {TRACKING_URI_KEY})",
            where,
        )


@contextlib.contextmanager
def _bounded_mlflow() -> Iterator[None]:
    """MLflow with a short retry budget, no progress bars and no INFO chatter, restored after."""
    added = [key for key in HTTP_DEFAULTS if key not in os.environ]
    logger = logging.getLogger("mlflow")
    level = logger.level
    try:
        for key in added:
            os.environ[key] = HTTP_DEFAULTS[key]
        logger.setLevel(logging.WARNING)
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
        logger.setLevel(level)


def _describe(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    text = _redact(" ".join(str(message).split()))
    return text if len(text) <= 400 else text[:397] + "..."


def _redact(text: str) -> str:
    """Drop user info (``user:password@``) from URLs in ``text``: it may hold credentials."""
    return re.sub(r"(?<=://)[^/@\s]+@", "", text)
