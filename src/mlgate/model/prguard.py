"""Refuse to unpickle model files that a run whose code is not the default branch's brought in.

Unpickling runs code, and a pull request (or a comment on one, a merge queue entry, a push to
another branch: see :mod:`mlgate.trust`) can swap in a malicious pickle. ``allow_pickle`` itself
is read from the default branch in such runs (:func:`mlgate.trust.check_unchanged`); on top of
that, the pickle must be one the default branch already holds:

* when the event payload names the pull request's base and head (``pull_request*`` events),
  any pickle in ``git diff base...head`` is refused;
* otherwise (``issue_comment``, ``merge_group``, ``workflow_run``, pushes and dispatches on
  other refs, ``MLGATE_UNTRUSTED=1``) the file must be byte for byte the default branch's.

A second opt-in that the run's own code cannot set lifts this: the ``--allow-pickle-from-pr``
flag in the workflow file or ``MLGATE_ALLOW_PICKLE_FROM_PR=1`` in the job environment. When it
cannot be told whether the pickle is the default branch's, we fail closed.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

from mlgate.errors import InputError
from mlgate.github.context import GitHubContext
from mlgate.trust import RunTrust, locate_default_branch, run_trust

OPT_IN_ENV = "MLGATE_ALLOW_PICKLE_FROM_PR"
OPT_IN_HINT = f"pass --allow-pickle-from-pr in the workflow or set {OPT_IN_ENV}=1 in the job"
WHY = "unpickling runs the file's code"
LFS_POINTER = re.compile(rb"^version https://git-lfs\S*\noid sha256:([0-9a-f]{64})\nsize (\d+)\n")


def pr_opt_in_from_env() -> bool:
    """True when the job environment explicitly allows pickles this run's code changed."""
    return os.environ.get(OPT_IN_ENV, "").strip().lower() in ("1", "true", "yes")


def check_pickle_from_default_branch(path: Path) -> None:
    """Raise InputError unless ``path`` is a pickle the default branch already holds.

    In a trusted run (the default branch's own code) this does nothing.
    """
    trust = run_trust()
    if not trust.untrusted:
        return
    directory = Path(os.path.realpath(path.absolute().parent))
    top = _git_toplevel(directory, path, trust)
    try:
        relative = (directory / path.name).relative_to(top)
    except ValueError as exc:
        raise InputError(
            f"refusing to unpickle a file outside the repository: this run's code is not the "
            f"default branch's ({trust.reason}); {OPT_IN_HINT}",
            path,
        ) from exc
    # GITHUB_* variables mean something only in GitHub Actions (other CIs: MLGATE_UNTRUSTED).
    ctx = GitHubContext.from_env() if os.environ.get("GITHUB_ACTIONS") else GitHubContext()
    if ctx.event_name.startswith("pull_request"):
        _check_pull_request(path, relative.as_posix(), top, trust, ctx)
    else:
        _check_default_branch(path, relative.as_posix(), top, trust)


def _check_pull_request(
    path: Path, relative: str, top: Path, trust: RunTrust, ctx: GitHubContext
) -> None:
    base, head = _pr_shas(ctx)
    if relative in _changed_files(top, base, head):
        raise InputError(
            f"refusing to unpickle a file changed by this pull request ({base[:7]}...{head[:7]}):"
            f" this run's code is not the default branch's ({trust.reason}), and {WHY}, so "
            f"allow_pickle is not enough; use .skops, or {OPT_IN_HINT}",
            path,
        )


def _check_default_branch(path: Path, relative: str, top: Path, trust: RunTrust) -> None:
    try:
        branch = locate_default_branch(top, None, what="pickles it may load", trust=trust)
    except InputError as exc:
        raise InputError(f"{exc.message}; refusing to unpickle ({OPT_IN_HINT})", path) from exc
    theirs = _git(["rev-parse", "--verify", "--quiet", f"{branch.commit}:{relative}"], top)
    if theirs.returncode != 0:
        what = f"that is not on the default branch ({branch.name})"
    elif _same_content(path, theirs.stdout.strip(), top):
        return
    else:
        what = f"that differs from the default branch ({branch.name})"
    raise InputError(
        f"refusing to unpickle a file {what}: this run's code is not the default branch's "
        f"({trust.reason}), and {WHY}, so allow_pickle is not enough; use .skops, "
        f"or {OPT_IN_HINT}",
        path,
    )


def _same_content(path: Path, blob: str, top: Path) -> bool:
    """Whether the file's bytes are the blob's (no git filters: what is loaded is the bytes),
    or the blob is a Git LFS pointer to exactly these bytes."""
    ours = _git(["hash-object", "--no-filters", "--", str(path)], top)
    if ours.returncode == 0 and ours.stdout.strip() == blob:
        return True
    size = _git(["cat-file", "-s", blob], top)
    if size.returncode != 0 or not size.stdout.strip().isdigit() or int(size.stdout) > 1024:
        return False
    pointer = subprocess.run(["git", "cat-file", "blob", blob], cwd=top, capture_output=True,
                             check=False)
    match = LFS_POINTER.match(pointer.stdout) if pointer.returncode == 0 else None
    if match is None or int(match.group(2)) != path.stat().st_size:
        return False
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == match.group(1).decode()


def _pr_shas(ctx: GitHubContext) -> tuple[str, str]:
    where = os.environ.get("GITHUB_EVENT_PATH", "") or "GITHUB_EVENT_PATH"
    try:
        pr = ctx.event["pull_request"]
        base, head = str(pr["base"]["sha"]), str(pr["head"]["sha"])
    except (KeyError, TypeError) as exc:
        raise InputError(
            f"{ctx.event_name} run but the event payload gives no pull_request.base.sha/head.sha,"
            f" so the files it changed are unknown; refusing to unpickle ({OPT_IN_HINT})",
            where,
        ) from exc
    return base, head


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _git_toplevel(directory: Path, path: Path, trust: RunTrust) -> Path:
    proc = _git(["rev-parse", "--show-toplevel"], directory)
    if proc.returncode != 0:
        raise InputError(
            f"this run's code is not the default branch's ({trust.reason}) and the model file "
            "is not in a git checkout, so it cannot be shown to be the default branch's; "
            f"refusing to unpickle ({OPT_IN_HINT})",
            path,
        )
    return Path(proc.stdout.strip()).resolve()


def _changed_files(top: Path, base: str, head: str) -> set[str]:
    proc = _git(["diff", "--name-only", "--no-renames", f"{base}...{head}"], top)
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "git failed"
        raise InputError(
            f"cannot list the files changed by the pull request (git diff {base[:7]}...{head[:7]}:"
            f" {detail}; check out with fetch-depth: 0); refusing to unpickle ({OPT_IN_HINT})",
            top,
        )
    return {line.strip() for line in proc.stdout.splitlines() if line.strip()}
