"""Writing to the ledger: tags + evidence note, pushed in one ``git push --atomic``.

A write is a transaction: sync with the remote, plan against the fresh state, create the tags
and the note locally, push them atomically. When the remote refuses because another promotion
won the race (tag exists, or the notes ref moved), the local tags are removed, the notes ref is
put back, and the whole plan is recomputed from the re-fetched state (bounded retries). Any
other refusal (a hook, permissions) removes the local writes and fails with git's reason, so
nothing half-written ever remains.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.gitio import NOTES_REF, GitError
from mlgate.result import GateResult

if TYPE_CHECKING:
    from mlgate.ledger.validate import Ledger

NOTES_FORMAT = "mlgate.evidence/v1"
_REMOTE_NOTES = "refs/mlgate/remote-notes"
_RETRYABLE = ("already exists", "non-fast-forward", "fetch first", "stale info",
              "cannot lock ref", "failed to update ref", "reference already exists",
              "incorrect old value")


@dataclass
class NewTag:
    """A tag to create; ``time`` (unix seconds) overrides the tagger date when set."""

    name: str
    commit: str
    message: str
    time: int | None = None


@dataclass
class Plan:
    """What one write adds: tags, and evidence per tag for the note on ``commit``."""

    tags: list[NewTag] = field(default_factory=list)
    notes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # commit->tag->doc
    result: GateResult | None = None  # a refusal (policy failure) instead of a write
    signatures: dict[str, dict[str, Any]] = field(default_factory=dict)  # tag -> keyless bundle


class PushRejected(Exception):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def transact(
    repo: Path,
    remote: str,
    push: bool,
    retries: int,
    build: Callable[[Ledger], Plan],
    actor: str,
    config_path: str = "mlgate.yaml",
    sign_key: Path | None = None,
    attest: Callable[[Plan, Ledger], None] | None = None,
) -> tuple[Plan, int]:
    """Run ``build`` against the fresh, validated ledger and write its plan (its tags signed
    with ``sign_key`` when given, and ``attest`` adding keyless signatures to the plan before
    anything is written); returns (plan, attempts)."""
    from mlgate.ledger.validate import Ledger

    if push and not gitio.remote_exists(repo, remote):
        raise InputError(f"remote {remote!r} does not exist (set ledger.remote or use --no-push)",
                         repo)
    env = gitio.identity_env(repo, actor)
    attempts = max(1, retries)
    for attempt in range(1, attempts + 1):
        if push:
            sync(repo, remote)
        with Ledger(repo, remote=remote, config_path=config_path) as ledger:
            plan = build(ledger)
            if attest is not None and plan.tags and (plan.result is None or plan.result.passed):
                attest(plan, ledger)
        if plan.result is not None and not plan.result.passed:
            return plan, attempt
        old_notes = gitio.rev_parse(repo, NOTES_REF)
        created: list[str] = []
        try:
            for tag in plan.tags:
                if gitio.rev_parse(repo, f"refs/tags/{tag.name}"):
                    raise InputError("tag exists already", tag.name)
                tag_env = dict(env)
                if tag.time is not None:
                    tag_env["GIT_COMMITTER_DATE"] = f"{tag.time} +0000"
                gitio.create_tag(repo, tag.name, tag.commit, tag.message, tag_env, sign_key)
                created.append(tag.name)
            for commit, entries in plan.notes.items():
                signed = {t: plan.signatures[t] for t in entries if t in plan.signatures}
                _add_note(repo, commit, entries, env, signed)
            if push:
                _push(repo, remote, [t.name for t in plan.tags])
        except PushRejected as exc:
            _undo(repo, created, old_notes)
            if exc.retryable and attempt < attempts:
                continue
            if exc.retryable:
                raise InputError(
                    f"push lost the race {attempts} time(s) to concurrent ledger writes; "
                    f"nothing was written, run the command again ({exc})",
                    f"remote {remote}",
                ) from exc
            raise InputError(f"the remote rejected the push; nothing was written ({exc})",
                             f"remote {remote}") from exc
        except GitError as exc:
            _undo(repo, created, old_notes)
            raise InputError(f"git failed; nothing was written ({exc.stderr})", repo) from exc
        except BaseException:
            _undo(repo, created, old_notes)
            raise
        return plan, attempt
    raise AssertionError("unreachable")


def sync(repo: Path, remote: str) -> None:
    """Fetch the remote's tags, evidence notes and default branch (where the policy lives);
    fast-forward the local notes ref."""
    try:
        heads = gitio.git(repo, "ls-remote", "--symref", remote, "HEAD", NOTES_REF)
        specs = ["refs/tags/*:refs/tags/*"]
        has_notes = any(line.endswith("\t" + NOTES_REF) for line in heads.splitlines())
        if has_notes:
            specs.append(f"+{NOTES_REF}:{_REMOTE_NOTES}")
        branch = _remote_default_branch(heads)
        if branch:
            specs.append(f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
        gitio.git(repo, "fetch", "--no-tags", remote, *specs)
    except GitError as exc:
        lines = [ln.strip() for ln in exc.stderr.splitlines()
                 if any(w in ln for w in ("rejected", "error", "fatal"))]
        detail = "; ".join(lines)
        if "clobber" in detail:
            detail += ("; a local tag differs from the remote's (written with --no-push?): "
                       "delete it locally or push it under another version")
        raise InputError(f"cannot fetch the ledger: {detail or exc}",
                         f"remote {remote}") from exc
    if branch and gitio.rev_parse(repo, f"refs/remotes/{remote}/HEAD") is None:
        with contextlib.suppress(GitError):
            gitio.git(repo, "symbolic-ref", f"refs/remotes/{remote}/HEAD",
                      f"refs/remotes/{remote}/{branch}")
    if not has_notes:
        return
    theirs = gitio.rev_parse(repo, _REMOTE_NOTES)
    ours = gitio.rev_parse(repo, NOTES_REF)
    if theirs is None or ours == theirs:
        return
    if ours is None or gitio.is_ancestor(repo, ours, theirs):
        gitio.git(repo, "update-ref", NOTES_REF, theirs)
    elif not gitio.is_ancestor(repo, theirs, ours):
        gitio.git(repo, "notes", f"--ref={NOTES_REF}", "merge", "--quiet",
                  "--strategy=theirs", _REMOTE_NOTES,
                  env=gitio.identity_env(repo, "mlgate"))


def _remote_default_branch(ls_remote: str) -> str | None:
    """The branch the remote's HEAD points at, from ``ls-remote --symref`` output."""
    for line in ls_remote.splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            return line[len("ref: refs/heads/"):-len("\tHEAD")]
    return None


def read_evidence(repo: Path, commit: str) -> dict[str, Any]:
    """The evidence note on ``commit``: ``{"format": ..., "tags": {tag: document}}``."""
    text = gitio.read_note(repo, commit)
    if not text:
        return {"format": NOTES_FORMAT, "tags": {}}
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"evidence note is not JSON: {str(exc)[:120]}",
                         f"{NOTES_REF} on {commit[:12]}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("tags"), dict):
        raise InputError("evidence note has no 'tags' mapping", f"{NOTES_REF} on {commit[:12]}")
    return doc


def _add_note(repo: Path, commit: str, entries: dict[str, dict[str, Any]],
              env: dict[str, str], signatures: dict[str, dict[str, Any]] | None = None) -> None:
    try:
        doc = read_evidence(repo, commit)
    except InputError:  # someone wrote garbage there; its history stays in the notes ref
        doc = {"format": NOTES_FORMAT, "tags": {}}
    doc["format"] = NOTES_FORMAT
    doc["tags"].update(entries)
    if signatures:
        if not isinstance(doc.get("signatures"), dict):
            doc["signatures"] = {}
        doc["signatures"].update(signatures)
    gitio.write_note(repo, commit, json.dumps(doc, indent=1, sort_keys=True) + "\n", env)


def _push(repo: Path, remote: str, tags: list[str]) -> None:
    refs = [f"refs/tags/{t}:refs/tags/{t}" for t in tags]
    if gitio.rev_parse(repo, NOTES_REF):
        refs.append(f"{NOTES_REF}:{NOTES_REF}")
    try:
        gitio.git(repo, "push", "--atomic", "--porcelain", "--quiet", remote, *refs)
    except GitError as exc:
        text = f"{exc.stdout}\n{exc.stderr}"
        lines = [ln.strip() for ln in text.splitlines()
                 if ln.strip().startswith("!") or "rejected" in ln or "error" in ln
                 or "remote:" in ln]
        reason = "; ".join(dict.fromkeys(lines)) or text or "push failed"
        retryable = any(word in text for word in _RETRYABLE) and "hook declined" not in text
        raise PushRejected(reason, retryable) from exc


def _undo(repo: Path, created: list[str], old_notes: str | None) -> None:
    for name in created:
        gitio.delete_tag(repo, name)
    gitio.restore_ref(repo, NOTES_REF, old_notes)
