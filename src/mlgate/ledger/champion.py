"""The artifact currently serving a stage, for the model gate's champion comparison.

Only a valid ledger entry names the champion (a hand-written or forged stage tag is ignored,
see :mod:`mlgate.ledger.validate`). The bytes come from the registered commit, never from the
work tree, and must still have the sha256 the version recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.policy_source import config_path_in_repo
from mlgate.ledger.record import sha256_hex
from mlgate.ledger.validate import Ledger


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


def load_stage_artifact(repo: Path, name: str, stage: str, remote: str = "origin",
                        config: Path | None = None) -> StageArtifact | None:
    """The version valid entries put in ``stage`` (None when the stage never had one).

    A stage whose entries are all invalid is an InputError, not "no champion": silently
    falling back to an older champion file would let whoever broke the ledger weaken the gate.
    """
    repo = gitio.ensure_repo(Path(repo))
    try:
        config_path = config_path_in_repo(repo, config)
    except InputError:
        config_path = "mlgate.yaml"  # a config outside the repository: the default place
    with Ledger(repo, remote=remote, config_path=config_path) as ledger:
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
    rec = version.record or {}
    path, expected = str(rec["artifact"]["path"]), str(rec["artifact"]["sha256"])
    content = gitio.blob_bytes(repo, version.commit, path)
    if content is None or sha256_hex(content) != expected:
        raise InputError(f"{path} at {version.commit[:12]} changed while it was read", version.tag)
    return StageArtifact(name, view.version, stage, view.entry.tag, version.commit, path,
                         expected, content, ignored)
