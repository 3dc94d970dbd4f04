"""The artifact currently serving a stage, for the model gate's champion comparison.

Only a valid ledger entry names the champion (a hand-written or forged stage tag is ignored,
see :mod:`mlgate.ledger.validate`). The bytes come from the registered commit, never from the
work tree, and must still have the sha256 the version recorded.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.policy_source import config_path_in_repo
from mlgate.ledger.record import sha256_hex
from mlgate.ledger.validate import Entry, Ledger


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
    ignored: list[str] = field(default_factory=list)


def fetch_missing_notes(repo: Path, remote: str) -> None:
    """Fetch the ledger from ``remote`` when this clone has tags but no evidence notes.

    A CI checkout (actions/checkout with ``fetch-depth: 0``) brings branches and tags but not
    ``refs/notes/mlgate``; without the notes no version is valid and the champion could not be
    found. Nothing is fetched when the notes are here (a local clone keeps what it has) or
    there is no such remote. A fetch that fails changes nothing: the entries then lack their
    evidence, and validation says so and how to fetch it.
    """
    from mlgate.ledger.publish import sync

    if gitio.rev_parse(repo, gitio.NOTES_REF) is None and gitio.remote_exists(repo, remote):
        with contextlib.suppress(InputError):
            sync(repo, remote)


def load_stage_artifact(repo: Path, name: str, stage: str, remote: str = "origin",
                        config: Path | None = None) -> StageArtifact | None:
    """The version valid entries put in ``stage`` (None when the stage never had one).

    A stage whose entries are all invalid is an InputError, not "no champion": silently
    falling back to an older champion file would let whoever broke the ledger weaken the gate.
    """
    repo = gitio.ensure_repo(Path(repo))
    fetch_missing_notes(repo, remote)
    with Ledger(repo, remote=remote, config_path=_config_path(repo, config)) as ledger:
        if name not in ledger.index.artifacts:
            return None
        view = ledger.stage(name, stage)
        if view.entry is None or view.version is None:
            if view.ignored:
                first = view.ignored[0]
                raise InputError(
                    f"{stage} has {len(view.ignored)} ledger entr"
                    f"{'y' if len(view.ignored) == 1 else 'ies'} and none is valid, so there is "
                    f"no trustworthy champion ({first.tag}: {first.reason}); repair the ledger "
                    "or compare with a file (--champion FILE)", f"{name}#{stage}")
            return None
        version = ledger.version(name, view.version)
        ignored = [f"{e.tag}: {e.reason}" for e in view.ignored]
    found = _read(repo, name, view.version, stage, view.entry.tag, version)
    return replace(found, ignored=ignored)


def load_version_artifact(repo: Path, name: str, version: str, remote: str = "origin",
                          config: Path | None = None) -> StageArtifact:
    """``NAME@version``'s artifact, only when the version is valid (its signature included,
    when the default branch requires signed artifacts); InputError naming why not."""
    repo = gitio.ensure_repo(Path(repo))
    fetch_missing_notes(repo, remote)
    with Ledger(repo, remote=remote, config_path=_config_path(repo, config)) as ledger:
        entry = ledger.version(name, version)
        if not entry.valid:
            raise InputError(f"{entry.tag} is not a valid ledger version: {entry.reason}",
                             entry.tag)
    return _read(repo, name, version, "", entry.tag, entry)


def find_registered(repo: Path, content: bytes, remote: str = "origin",
                    config: Path | None = None) -> StageArtifact | None:
    """The valid version whose artifact is exactly ``content`` (None when there is none)."""
    digest = sha256_hex(content)
    repo = gitio.ensure_repo(Path(repo))
    fetch_missing_notes(repo, remote)
    with Ledger(repo, remote=remote, config_path=_config_path(repo, config)) as ledger:
        for name, state in ledger.index.artifacts.items():
            for version in reversed(state.versions_sorted()):
                entry = ledger.version(name, version)
                artifact = (entry.record or {}).get("artifact") or {}
                if artifact.get("sha256") == digest and entry.valid:
                    return _read(repo, name, version, "", entry.tag, entry)
    return None


def signatures_required(repo: Path, remote: str = "origin", config: Path | None = None) -> bool:
    """Whether the default branch requires signed artifacts (``ledger.artifact_signing``)."""
    repo = gitio.ensure_repo(Path(repo))
    with Ledger(repo, remote=remote, config_path=_config_path(repo, config)) as ledger:
        return ledger.signing_anchors().artifacts is not None


def _config_path(repo: Path, config: Path | None) -> str:
    try:
        return config_path_in_repo(repo, config)
    except InputError:
        return "mlgate.yaml"  # a config outside the repository: the default place


def _read(repo: Path, name: str, version: str, stage: str, tag: str,
          entry: Entry) -> StageArtifact:
    rec = entry.record or {}
    path, expected = str(rec["artifact"]["path"]), str(rec["artifact"]["sha256"])
    content = gitio.blob_bytes(repo, entry.commit, path)
    if content is None or sha256_hex(content) != expected:
        raise InputError(f"{path} at {entry.commit[:12]} changed while it was read", tag)
    return StageArtifact(name, version, stage, tag, entry.commit, path, expected, content)
