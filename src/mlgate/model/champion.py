"""Find the champion to compare with: a file, or the version serving a stage in the ledger.

A ledger reference (``production`` or ``churn#production``) is read from the registered commit
through :func:`mlgate.ledger.champion.load_stage_artifact`, which checks the bytes against the
recorded sha256; the bytes are written to a private temporary file with the same suffix and
then loaded through the one safe loader like any other model file.

An MLflow registry reference (``mlflow:models:/NAME@ALIAS`` or ``/NAME/VERSION``) is a branch of
its own: the version is downloaded by :mod:`mlgate.model.mlflow_registry` into the scratch
directory and loaded as an MLflow model directory. It is not treated as a ledger champion: the
registry's writers are not bound by this repository's rules, so a pickle from it gets the pickle
checks of any file from outside the repository.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import InputError
from mlgate.model.mlflow_model import is_mlflow_dir, mlflow_model_file
from mlgate.model.mlflow_registry import download_champion, is_mlflow_ref
from mlgate.provenance import ledger_input, registry_input

STAGE_REF = re.compile(r"^(?:(?P<name>[a-z0-9][a-z0-9-]*)#)?(?P<stage>[A-Za-z][A-Za-z0-9_-]*)$")


@dataclass
class ChampionSource:
    """Where the champion came from: a path to load and words for the report."""

    path: Path
    label: str
    from_ledger: bool = False
    # What the report records: a file entry for a file champion, else (for a ledger champion,
    # whose bytes live in a scratch file) the version tag and the sha256 of the bytes.
    evidence: dict[str, str] | None = None


def resolve_champion(
    ref: str | None,
    *,
    base_dir: Path,
    repo: Path,
    project: str | None,
    fallback: str | None,
    scratch: Path,
    where: str,
    config: Path | None = None,
    mlflow_tracking_uri: str | None = None,
) -> ChampionSource | None:
    """The champion for ``ref``; None when a ledger stage has no version and no fallback."""
    if not ref:
        return None
    if is_mlflow_ref(ref):
        return _from_mlflow_registry(ref, mlflow_tracking_uri, scratch, where)
    path = Path(ref) if Path(ref).is_absolute() else base_dir / ref
    if path.is_file() or is_mlflow_dir(path):
        return ChampionSource(path, f"file {ref}")
    match = STAGE_REF.match(ref)
    if match is None or Path(ref).suffix:
        raise InputError("champion file not found", path)
    name = match.group("name") or project
    stage = match.group("stage")
    if not name:
        raise InputError(
            f"champion {ref!r} names a ledger stage but no project is configured; "
            f"use NAME#{stage} or --config",
            where,
        )
    from mlgate.ledger.champion import load_stage_artifact

    artifact = load_stage_artifact(repo, name, stage, config=config)
    if artifact is None:
        if fallback:
            fb = Path(fallback) if Path(fallback).is_absolute() else base_dir / fallback
            if not (fb.is_file() or is_mlflow_dir(fb)):
                raise InputError("champion_file not found", fb)
            return ChampionSource(fb, f"file {fallback} (no {name}#{stage} in the ledger yet)")
        return None
    suffix = Path(artifact.path).suffix
    target = Path(tempfile.mkdtemp(prefix="champion-", dir=scratch)) / f"{name}{suffix}"
    target.write_bytes(artifact.content)
    ref = f"{name}@{artifact.version}"
    return ChampionSource(target, f"{ref} ({stage})", from_ledger=True,
                          evidence=ledger_input(ref, artifact.content))


def _from_mlflow_registry(
    ref: str, tracking_uri: str | None, scratch: Path, where: str
) -> ChampionSource:
    """A champion downloaded from an MLflow registry (no fallback: a missing alias is an error,
    since the reference names a registry that answered)."""
    found = download_champion(ref, tracking_uri, scratch, where)
    return ChampionSource(
        found.directory,
        f"{ref} (version {found.version})",
        evidence=registry_input(ref, found.version, mlflow_model_file(found.directory)),
    )
