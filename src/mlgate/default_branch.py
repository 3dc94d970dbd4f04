"""The repository's default branch: where the rules that judge a run come from.

A pull request can edit any file in its work tree, including mlgate.yaml. So the settings that
decide trust (the ledger's stage policy, trusted model types, pickles, commands a load test
starts) are read from the default branch as the shared remote has it, never from the work tree
of the run. This module finds that branch and reads files from it; it never looks at the work
tree.

Which branch, in order: ``MLGATE_DEFAULT_BRANCH`` (set by a workflow), the event payload's
``repository.default_branch`` (GitHub Actions), ``refs/remotes/REMOTE/HEAD``, git's
``init.defaultBranch``, then ``main`` and ``master``. Which ref: the remote-tracking branch
``refs/remotes/REMOTE/NAME`` when it exists (what the team shares), else the local branch.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlgate.bounded import loads_json
from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.gitio import GitError

ENV_NAME = "MLGATE_DEFAULT_BRANCH"


@dataclass(frozen=True)
class DefaultBranch:
    """The default branch as this clone knows it: its name, the ref read, and its commit."""

    name: str
    ref: str
    commit: str


@dataclass(frozen=True)
class BranchFile:
    """A file as the default branch holds it: repository path, blob id and bytes."""

    path: str
    blob: str
    content: bytes


def branch_name(repo: Path, remote: str = "origin",
                env: Mapping[str, str] | None = None) -> str | None:
    """The default branch's name, or None when nothing says which branch it is."""
    source = env if env is not None else os.environ
    explicit = source.get(ENV_NAME, "").strip().removeprefix("refs/heads/")
    if explicit:
        return explicit
    from_event = _name_from_event(source)
    if from_event:
        return from_event
    head = _symbolic(repo, f"refs/remotes/{remote}/HEAD")
    prefix = f"refs/remotes/{remote}/"
    if head and head.startswith(prefix):
        return head[len(prefix):]
    candidates = []
    try:
        configured = gitio.git(repo, "config", "init.defaultBranch").strip()
        if configured:
            candidates.append(configured)
    except GitError:
        pass
    candidates += ["main", "master"]
    for name in candidates:
        if _resolve(repo, f"refs/remotes/{remote}/{name}") or _resolve(repo, f"refs/heads/{name}"):
            return name
    return None


def default_branch(repo: Path, remote: str = "origin",
                   env: Mapping[str, str] | None = None) -> DefaultBranch:
    """The default branch's ref and commit; InputError (naming how to fix it) when unknown."""
    name = branch_name(repo, remote, env)
    if name is None:
        raise InputError(
            "cannot tell the default branch (no origin/HEAD, main or master here): fetch it "
            f"(actions/checkout with fetch-depth: 0) or set {ENV_NAME}",
            repo,
        )
    for ref in (f"refs/remotes/{remote}/{name}", f"refs/heads/{name}"):
        commit = _resolve(repo, f"{ref}^{{commit}}")
        if commit:
            return DefaultBranch(name, ref, commit)
    raise InputError(
        f"the default branch {name!r} is not in this clone: fetch it "
        f"(git fetch {remote} {name}, or actions/checkout with fetch-depth: 0)",
        repo,
    )


def read_file(repo: Path, branch: DefaultBranch, path: str) -> BranchFile | None:
    """``path`` (relative to the repository's top) on the default branch; None when absent."""
    spec = f"{branch.commit}:{path}"
    blob = _resolve(repo, spec)
    if blob is None:
        return None
    content = gitio.blob_bytes(repo, branch.commit, path)
    return BranchFile(path, blob, content) if content is not None else None


def fetch(repo: Path, remote: str, name: str) -> None:
    """Bring the remote's default branch into ``refs/remotes/REMOTE/NAME`` (best effort: a
    caller that cannot fetch still reads what the clone has, and says so when that is
    nothing).

    A shallow clone (actions/checkout's default) gets the branch's tip only: without
    ``--depth`` git would download the branch's whole history to read one file. A complete
    clone is fetched without it, which would make it shallow.
    """
    depth = ["--depth=1"] if _is_shallow(repo) else []
    with contextlib.suppress(GitError):
        gitio.git(repo, "fetch", "--quiet", "--no-tags", *depth, remote,
                  f"+refs/heads/{name}:refs/remotes/{remote}/{name}")


def _is_shallow(repo: Path) -> bool:
    try:
        return gitio.git(repo, "rev-parse", "--is-shallow-repository").strip() == "true"
    except GitError:
        return False


def _name_from_event(env: Mapping[str, str]) -> str | None:
    if not env.get("GITHUB_ACTIONS"):
        return None
    path = env.get("GITHUB_EVENT_PATH", "").strip()
    if not path:
        return None
    try:
        payload = loads_json(Path(path).read_bytes(), path, "event payload")
    except (OSError, InputError):
        return None
    repository = payload.get("repository") if isinstance(payload, dict) else None
    name = repository.get("default_branch") if isinstance(repository, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def _symbolic(repo: Path, ref: str) -> str | None:
    try:
        return gitio.git(repo, "symbolic-ref", "--quiet", ref).strip() or None
    except GitError:
        return None


def _resolve(repo: Path, spec: str) -> str | None:
    return gitio.rev_parse(repo, spec)
