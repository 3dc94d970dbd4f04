"""Refuse to unpickle model files that the current pull request changed.

``allow_pickle: true`` in ``mlgate.yaml`` is not enough on a pull request: the same pull
request can edit ``mlgate.yaml`` and swap in a malicious pickle, and unpickling runs code in
the CI job. So in a ``pull_request`` run we diff ``base...head`` (SHAs from the webhook
payload at ``GITHUB_EVENT_PATH``) and refuse any pickle the pull request touched, unless a
second opt-in that the pull request cannot set by itself is given: the ``--allow-pickle-from-pr``
flag in the workflow file or ``MLGATE_ALLOW_PICKLE_FROM_PR=1`` in the job environment.
When the changed files cannot be determined we fail closed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mlgate.bounded import loads_json
from mlgate.errors import InputError

PR_EVENTS = ("pull_request", "pull_request_target")
OPT_IN_ENV = "MLGATE_ALLOW_PICKLE_FROM_PR"
OPT_IN_HINT = f"pass --allow-pickle-from-pr in the workflow or set {OPT_IN_ENV}=1 in the job"


def pr_opt_in_from_env() -> bool:
    """True when the job environment explicitly allows pickles changed by the pull request."""
    return os.environ.get(OPT_IN_ENV, "").strip().lower() in ("1", "true", "yes")


def in_pull_request() -> bool:
    return os.environ.get("GITHUB_EVENT_NAME", "") in PR_EVENTS


def check_pickle_not_changed_by_pr(path: Path) -> None:
    """Raise InputError when ``path`` is a file the running pull request changed.

    Outside a pull-request run this does nothing.
    """
    if not in_pull_request():
        return
    base, head = _pr_shas()
    top = _git_toplevel(path)
    changed = _changed_files(top, base, head)
    try:
        relative = path.resolve().relative_to(top).as_posix()
    except ValueError as exc:
        raise InputError(
            f"refusing to unpickle a file outside the repository in a pull-request run; "
            f"{OPT_IN_HINT}",
            path,
        ) from exc
    if relative in changed:
        raise InputError(
            f"refusing to unpickle a file changed by this pull request ({base[:7]}...{head[:7]}): "
            f"allow_pickle in mlgate.yaml is not enough because the pull request can edit it; "
            f"use .skops, or {OPT_IN_HINT}",
            path,
        )


def _pr_shas() -> tuple[str, str]:
    event_path = os.environ.get("GITHUB_EVENT_PATH", "")
    where = event_path or "GITHUB_EVENT_PATH"
    try:
        payload = loads_json(Path(event_path).read_bytes(), where, "event payload")
        pr = payload["pull_request"]
        base, head = str(pr["base"]["sha"]), str(pr["head"]["sha"])
    except (OSError, InputError, KeyError, TypeError) as exc:
        raise InputError(
            "pull-request run but the event payload gives no pull_request.base.sha/head.sha, "
            f"so the files it changed are unknown; refusing to unpickle ({OPT_IN_HINT})",
            where,
        ) from exc
    return base, head


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _git_toplevel(path: Path) -> Path:
    proc = _git(["rev-parse", "--show-toplevel"], path.resolve().parent)
    if proc.returncode != 0:
        raise InputError(
            "pull-request run but the model file is not in a git checkout, so it cannot be "
            f"shown to be unchanged by the pull request; refusing to unpickle ({OPT_IN_HINT})",
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
