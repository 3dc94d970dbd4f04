"""The artifact currently serving a stage, for the model gate's champion comparison.

The bytes come from the registered commit (``git cat-file blob COMMIT:PATH``), never from the
work tree, and their sha256 must match the version tag's record: a champion that does not
match what was approved is bad input, not a model to compare against.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.record import sha256_hex
from mlgate.ledger.state import Registry, load_registry
from mlgate.ledger.tags import version_tag


@dataclass(frozen=True)
class StageArtifact:
    """A version assigned to a stage, with the artifact bytes read from its commit."""

    name: str
    version: str
    stage: str
    tag: str
    commit: str
    path: str
    sha256: str
    content: bytes


def load_stage_artifact(repo: Path, name: str, stage: str) -> StageArtifact | None:
    """The version currently assigned to ``stage`` (None when there is none)."""
    repo = gitio.ensure_repo(Path(repo))
    registry = load_registry(repo, with_messages=True)
    state = registry.artifacts.get(name)
    if state is None:
        return None
    version = state.current(stage)
    if version is None:
        return None
    return read_version_artifact(registry, name, version, stage)


def read_version_artifact(
    registry: Registry, name: str, version: str, stage: str = ""
) -> StageArtifact:
    """The artifact of ``name@version`` read from its commit and checked against its record."""
    tag = version_tag(name, version)
    ref = registry.tags.get(tag)
    if ref is None:
        raise InputError(f"version {version} of {name!r} is not registered", tag)
    rec = registry.record(tag)
    if rec is None:
        raise InputError("tag carries no mlgate record (artifact path unknown)", tag)
    artifact = rec.get("artifact")
    if not isinstance(artifact, dict) or "path" not in artifact or "sha256" not in artifact:
        raise InputError("ledger record has no artifact path and sha256", tag)
    path, expected = str(artifact["path"]), str(artifact["sha256"])
    content = gitio.blob_bytes(registry.repo, ref.commit, path)
    if content is None:
        raise InputError(f"commit {ref.commit[:12]} does not contain {path}", tag)
    actual = sha256_hex(content)
    if actual != expected:
        raise InputError(
            f"{path} at {ref.commit[:12]} has {actual}, but the tag records {expected} "
            "(the tag was moved or rewritten)",
            tag,
        )
    return StageArtifact(name, version, stage, tag, ref.commit, path, actual, content)
