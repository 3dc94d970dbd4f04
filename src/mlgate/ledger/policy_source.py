"""Which stage policy judges the ledger: the default branch's mlgate.yaml, never a work tree.

A pull request, or anyone's local checkout, can edit mlgate.yaml; the rules a promotion must
pass are only those the team merged. So every write reads the ``ledger:`` section from the
default branch (as the shared remote has it) and records *which* file it used (path, blob id,
the default-branch commit, the digest of its stages). The validating reader later loads that
exact blob again and confirms that the commit is on the default branch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.config import DEFAULT_CONFIG, load_config_text
from mlgate.default_branch import DefaultBranch, default_branch, read_file
from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.policy import LedgerConfig, ledger_config


@dataclass(frozen=True)
class PolicyRef:
    """The policy a ledger event was judged by, as recorded in its tag."""

    path: str
    blob: str
    commit: str
    branch: str
    digest: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "blob": self.blob, "commit": self.commit,
                "branch": self.branch, "digest": self.digest}


@dataclass(frozen=True)
class PolicyInForce:
    """The default branch's ledger policy, and where it came from (None: no mlgate.yaml on the
    default branch, so no stages and no rules)."""

    config: LedgerConfig
    ref: PolicyRef | None
    branch: DefaultBranch
    path: str = "mlgate.yaml"  # where the config sits in the repository


def config_path_in_repo(repo: Path, config: Path | None) -> str:
    """The repository path of the config (``--config`` or ``mlgate.yaml`` at the top)."""
    if config is None:
        return DEFAULT_CONFIG
    resolved = config.resolve()
    top = repo.resolve()
    if not resolved.is_relative_to(top):
        raise InputError("the ledger policy must be a file of this repository (it is read from "
                         "the default branch)", config)
    return resolved.relative_to(top).as_posix()


def policy_in_force(repo: Path, path: str, remote: str) -> PolicyInForce:
    """The ledger policy on the default branch at ``path``."""
    branch = default_branch(repo, remote)
    found = read_file(repo, branch, path)
    label = f"{branch.name}:{path}"
    if found is None:
        return PolicyInForce(LedgerConfig(where=f"{label}:ledger"), None, branch, path)
    config = policy_from_bytes(found.content, label)
    ref = PolicyRef(path, found.blob, branch.commit, branch.name, config.digest)
    return PolicyInForce(config, ref, branch, path)


def policy_from_bytes(content: bytes, label: str) -> LedgerConfig:
    """Parse a config blob (validated like any mlgate.yaml) into its ledger settings."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", label) from exc
    return ledger_config(load_config_text(text, label))


def ensure_work_tree_agrees(work_tree: LedgerConfig | None, in_force: PolicyInForce,
                            path: str) -> None:
    """Refuse a write when the work tree's ``ledger:`` differs from the default branch's: the
    user would believe their edited rules apply, and they do not."""
    if work_tree is None:
        return
    ours = (work_tree.name, work_tree.raw)
    theirs = (in_force.config.name, in_force.config.raw)
    if ours == theirs:
        return
    where = in_force.branch.name
    raise InputError(
        f"the ledger policy here differs from the one on the default branch ({where}); "
        f"promotions are judged by {where}'s {path} only: commit the change and merge it into "
        f"{where} (and push it) first, or undo it",
        work_tree.where,
    )


def blob_id(content: bytes) -> str:
    """The git (SHA-1) object id of a file's bytes, as ``git hash-object`` computes it."""
    header = b"blob %d\0" % len(content)
    return hashlib.sha1(header + content, usedforsecurity=False).hexdigest()


def on_default_branch(repo: Path, branch: DefaultBranch, commit: str) -> bool:
    """Whether ``commit`` is the default branch's tip or one of its ancestors."""
    return commit == branch.commit or gitio.is_ancestor(repo, commit, branch.commit)
