"""Thin, fast access to git through plumbing commands.

The ledger reads every tag with one ``git for-each-ref`` (so ``status`` on 10,000 tags stays
well under half a second) and writes with ``git tag``, ``git notes`` and one atomic push. Every
git failure becomes a :class:`GitError` carrying git's own message; callers turn the ones that
mean "bad input" into :class:`~mlgate.errors.InputError` lines.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import InputError

NOTES_REF = "refs/notes/mlgate"
_FS, _RS = "\x1f", "\x1e"


class GitError(Exception):
    """A git command failed; ``stderr`` holds git's message."""

    def __init__(self, args: list[str], code: int, stderr: str, stdout: str = "") -> None:
        self.args_list = args
        self.code = code
        self.stderr = stderr.strip()
        self.stdout = stdout.strip()
        super().__init__(f"git {' '.join(args)}: {self.stderr or f'exit {code}'}")


def git(
    repo: Path,
    *args: str,
    stdin: str | bytes | None = None,
    env: dict[str, str] | None = None,
    binary: bool = False,
) -> str:
    """Run ``git -C repo ARGS`` and return stdout (text unless ``binary``)."""
    full_env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=data,
        capture_output=True,
        env=full_env,
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(
            list(args),
            proc.returncode,
            proc.stderr.decode(errors="replace"),
            proc.stdout.decode(errors="replace"),
        )
    if binary:
        return proc.stdout  # type: ignore[return-value]
    return proc.stdout.decode(errors="replace")


def git_bytes(repo: Path, *args: str) -> bytes:
    out = git(repo, *args, binary=True)
    assert isinstance(out, bytes)
    return out


def ensure_repo(repo: Path) -> Path:
    """The top-level directory of the work tree at ``repo``; InputError when it is not one."""
    if not repo.exists():
        raise InputError("directory does not exist", repo)
    try:
        top = git(repo, "rev-parse", "--show-toplevel").strip()
    except GitError as exc:
        raise InputError(f"not a git repository ({exc.stderr.splitlines()[-1]})", repo) from exc
    return Path(top)


@dataclass(frozen=True)
class TagRef:
    """An annotated tag as read by ``for-each-ref``: name, peeled commit, tagger and time."""

    name: str
    commit: str
    time: int
    tagger: str
    email: str
    message: str | None = None


def read_tags(repo: Path, with_messages: bool = False) -> list[TagRef]:
    """Every annotated tag in one ``for-each-ref`` call; lightweight tags are skipped."""
    fields = [
        "%(refname:lstrip=2)",
        "%(objecttype)",
        "%(*objectname)",
        "%(taggerdate:raw)",
        "%(taggername)",
        "%(taggeremail)",
    ]
    if with_messages:
        fields.append("%(contents)")
    fmt = "%1f".join(fields) + "%1e"
    out = git(repo, "for-each-ref", f"--format={fmt}", "refs/tags")
    tags: list[TagRef] = []
    for record in out.split(_RS):
        record = record.lstrip("\n")
        if not record:
            continue
        parts = record.split(_FS)
        if len(parts) < 6 or parts[1] != "tag":
            continue
        raw_date = parts[3].split(" ", 1)[0]
        tags.append(
            TagRef(
                name=parts[0],
                commit=parts[2],
                time=int(raw_date) if raw_date.isdigit() else 0,
                tagger=parts[4],
                email=parts[5].strip("<>"),
                message=parts[6] if with_messages and len(parts) > 6 else None,
            )
        )
    return tags


def read_tag_commits(repo: Path) -> list[TagRef]:
    """Annotated tags and their commits only (no tagger, no time), via ``show-ref -d``.

    With packed refs (any clone, or after ``git gc``) git answers from the peeled values in
    ``packed-refs`` without opening a single tag object, which is what keeps ``status`` fast.
    """
    try:
        out = git(repo, "show-ref", "--tags", "--dereference")
    except GitError as exc:
        if exc.code == 1 and not exc.stderr:  # no tags at all
            return []
        raise
    peeled: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition(" ")
        if ref.endswith("^{}"):
            peeled[ref[len("refs/tags/"):-3]] = sha
    return [TagRef(name, commit, 0, "", "") for name, commit in peeled.items()]


def tag_message(repo: Path, name: str) -> str:
    """The full message of one annotated tag."""
    return git(repo, "for-each-ref", "--format=%(contents)", f"refs/tags/{name}")


def rev_parse(repo: Path, ref: str) -> str | None:
    """The object id ``ref`` names, or None when it does not exist."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", ref).strip() or None
    except GitError:
        return None


def blob_bytes(repo: Path, commit: str, path: str) -> bytes | None:
    """The bytes of ``path`` in ``commit``, or None when the commit does not hold it."""
    try:
        return git_bytes(repo, "cat-file", "blob", f"{commit}:{path}")
    except GitError:
        return None


def repo_relative(repo: Path, path: str | Path) -> str:
    """``path`` as a path inside the repository: absolute, relative to the current directory
    when that lands inside the repository, else relative to the repository's top."""
    top = repo.resolve()
    candidate = Path(path)
    options = [candidate] if candidate.is_absolute() else [Path.cwd() / candidate,
                                                          top / candidate]
    for option in options:
        resolved = option.resolve()
        if resolved.is_relative_to(top) and (resolved.exists() or option is options[-1]):
            return resolved.relative_to(top).as_posix()
    raise InputError("path is outside the repository", path)


def head_branch(repo: Path) -> str | None:
    try:
        return git(repo, "symbolic-ref", "--quiet", "--short", "HEAD").strip()
    except GitError:
        return None


def dirty_files(repo: Path) -> list[str]:
    """Tracked files with uncommitted changes (untracked files do not affect a commit)."""
    out = git(repo, "status", "--porcelain", "--untracked-files=no")
    return [line[3:] for line in out.splitlines() if line.strip()]


def identity_env(repo: Path, actor: str) -> dict[str, str]:
    """Committer identity for ``git tag``/``git notes`` when git has none configured (CI)."""
    try:
        git(repo, "var", "GIT_COMMITTER_IDENT")
        return {}
    except GitError:
        email = f"{actor}@users.noreply.github.com"
        return {
            "GIT_COMMITTER_NAME": actor,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_NAME": actor,
            "GIT_AUTHOR_EMAIL": email,
        }


def create_tag(repo: Path, name: str, commit: str, message: str, env: dict[str, str],
               sign_key: Path | None = None) -> None:
    """An annotated tag; SSH-signed (git's ``gpg.format=ssh``) with ``sign_key`` when given."""
    signing = (["-c", "gpg.format=ssh", "-c", f"user.signingkey={sign_key}", "tag", "--sign"]
               if sign_key is not None else ["tag", "--annotate", "--no-sign"])
    git(repo, *signing, "--cleanup=verbatim", "--file=-", name, commit, stdin=message, env=env)


def delete_tag(repo: Path, name: str) -> None:
    with contextlib.suppress(GitError):
        git(repo, "update-ref", "-d", f"refs/tags/{name}")


def read_note(repo: Path, commit: str, ref: str = NOTES_REF) -> str | None:
    try:
        return git(repo, "notes", f"--ref={ref}", "show", commit)
    except GitError:
        return None


def write_note(repo: Path, commit: str, text: str, env: dict[str, str],
               ref: str = NOTES_REF) -> None:
    git(repo, "notes", f"--ref={ref}", "add", "--force", "--file=-", commit,
        stdin=text, env=env)


def restore_ref(repo: Path, ref: str, value: str | None) -> None:
    """Put ``ref`` back to ``value`` (delete it when ``value`` is None)."""
    try:
        if value is None:
            git(repo, "update-ref", "-d", ref)
        else:
            git(repo, "update-ref", ref, value)
    except GitError:
        pass


def remote_exists(repo: Path, remote: str) -> bool:
    try:
        git(repo, "remote", "get-url", remote)
        return True
    except GitError:
        return False


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    try:
        git(repo, "merge-base", "--is-ancestor", older, newer)
        return True
    except GitError:
        return False
