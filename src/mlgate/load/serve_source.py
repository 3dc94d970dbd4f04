"""What ``mlgate serve`` loads: a model file, or a ledger version read from git.

Serving ``NAME@vX.Y.Z`` or ``NAME#STAGE`` loads the artifact's bytes from the registered
commit, and only when the ledger entry is valid (with signed artifacts required on the
default branch, that includes the artifact's signature). ``--require-signature`` holds a model
*file* to the same standard: it is served only when its bytes are a valid, signed version's.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.errors import InputError
from mlgate.model.loading import reject_uri

if TYPE_CHECKING:
    from mlgate.ledger.champion import StageArtifact

_VERSION_REF = re.compile(r"^(?P<name>[^@#\s]+)@(?P<version>v[0-9][^\s]*)$")
_STAGE_REF = re.compile(r"^(?P<name>[^@#\s]+)#(?P<stage>[A-Za-z0-9][A-Za-z0-9/_-]*)$")


@dataclass(frozen=True)
class ServedModel:
    """What to load and how to name it; ``from_ledger``: bytes of a registered version."""

    path: Path
    label: str
    from_ledger: bool = False
    name: str | None = None  # the model's name (a ledger version's); None: the file's stem
    artifact: StageArtifact | None = None  # the ledger entry read (version, tag, sha256)


def is_ledger_ref(spec: str) -> bool:
    """Whether ``spec`` names a ledger version (``NAME@vX.Y.Z``) or stage (``NAME#STAGE``)."""
    return bool(_VERSION_REF.match(spec) or _STAGE_REF.match(spec))


@contextlib.contextmanager
def model_to_serve(spec: str, require_signature: bool, repo: Path | None = None,
                   config: Path | None = None) -> Iterator[ServedModel]:
    """The model file (or directory) for ``--model SPEC``; a ledger version is written to a
    private temporary file that lives while the caller loads it. ``repo`` (default: the
    working directory) holds the ledger, ``config`` its mlgate.yaml (default: the top's)."""
    reject_uri(spec, "--model")
    path = Path(spec)
    if path.is_dir():  # a model directory (MLflow): the loader decides whether it can load it
        if require_signature:
            raise InputError("--require-signature checks the bytes of a registered model "
                             "file; a directory cannot be checked", spec)
        yield ServedModel(path, path.name)
        return
    if path.is_file():
        label = path.name
        if require_signature:
            label = _signed_file(path)
        yield ServedModel(path, label)
        return
    version, stage = _VERSION_REF.match(spec), _STAGE_REF.match(spec)
    if version is None and stage is None:
        raise InputError("model file not found (nor a ledger version NAME@vX.Y.Z or NAME#STAGE)",
                         spec)
    from mlgate.ledger.artifacts import as_file
    from mlgate.ledger.champion import load_stage_artifact, load_version_artifact

    repo = repo or Path.cwd()
    if version is not None:
        found = load_version_artifact(repo, version["name"], version["version"], config=config)
    else:
        assert stage is not None
        staged = load_stage_artifact(repo, stage["name"], stage["stage"], config=config)
        if staged is None:
            raise InputError(f"no version of {stage['name']!r} is in stage {stage['stage']!r}",
                             spec)
        found = staged
    with as_file(found.content, found.path) as copy:
        yield ServedModel(copy, f"{found.name}@{found.version}", from_ledger=True,
                          name=found.name, artifact=found)


def _signed_file(path: Path) -> str:
    from mlgate.ledger.champion import find_registered, signatures_required

    repo = Path.cwd()
    if not signatures_required(repo):
        raise InputError("--require-signature: the default branch's mlgate.yaml has no "
                         "ledger.artifact_signing, so no signature could vouch for it",
                         "--require-signature")
    found = find_registered(repo, path.read_bytes())
    if found is None:
        raise InputError("refusing to serve: these bytes are not a valid, signed registered "
                         "artifact (changed after signing, or never registered)", path)
    return f"{path.name} ({found.name}@{found.version})"
