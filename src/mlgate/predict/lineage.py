"""The lineage record of a batch run, and where it is kept.

One JSON document per run (``format: mlgate.batch/v1``): which verified ledger entry scored
(name, version, the tag it was resolved through, commit, artifact sha256), the input and output
digests and row counts, the status and digest of each gate, and the predictions' statistics (a
reference profile, :mod:`mlgate.data.reference_profile`, of the prediction columns) that the
next batch is compared with. It is written next to the output and, like the ledger's evidence,
as a git note on the version's commit, under its own ref (``refs/notes/mlgate-batch``): batch
runs are not ledger events, and a ref of their own keeps the ledger's notes (whose entries tags
vouch for by digest) exactly as the release path wrote them.

The note is ``{"format": "mlgate.batch/v1", "runs": [record, ...]}``, oldest first. When the
run pushes, the remote's ref is fetched first (a local ref that diverged takes the remote's note
where both have one) and the push is retried when another run won the race, so no pushed
record is lost.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from mlgate.data.reference_profile import ReferenceProfile
from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.gitio import GitError
from mlgate.predict.settings import NOTES_REF

FORMAT = "mlgate.batch/v1"
PUSH_ATTEMPTS = 3
_REMOTE_COPY = "refs/mlgate/remote-batch-notes"


def read_runs(repo: Path, commit: str) -> list[dict[str, Any]]:
    """The runs recorded on ``commit`` (oldest first); a note that is not ours reads as none."""
    text = gitio.read_note(repo, commit, NOTES_REF)
    if not text:
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    runs = doc.get("runs") if isinstance(doc, dict) and doc.get("format") == FORMAT else None
    return [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []


def previous_predictions(repo: Path, commit: str, artifact_sha256: str
                         ) -> tuple[ReferenceProfile, dict[str, Any]] | None:
    """The predictions' profile of the newest recorded run of the same artifact, with that run.

    Runs of another artifact are skipped (a new version predicts differently by design). A
    record whose profile does not parse or check is skipped too: anyone who may push can write
    notes, and a broken one must not stop batch scoring; it can at worst weaken this one
    comparison, while the data gate still judges the batch against the training reference.
    """
    from mlgate.data.reference_profile import from_document

    for run in reversed(read_runs(repo, commit)):
        model = run.get("model") or {}
        if not isinstance(model, dict) or model.get("sha256") != artifact_sha256:
            continue
        with contextlib.suppress(InputError):
            return from_document(run.get("predictions"), f"{NOTES_REF} on {commit[:12]}"), run
    return None


def record_in_git(repo: Path, commit: str, record: dict[str, Any], push: bool,
                  remote: str) -> None:
    """Append ``record`` to the note on ``commit``; with ``push``, publish it to ``remote``
    (InputError naming the remote when it refuses; the local ref is then put back)."""
    env = gitio.identity_env(repo, "mlgate")
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        before = gitio.rev_parse(repo, NOTES_REF)
        if push:
            _take_remote(repo, remote)
        runs = read_runs(repo, commit)
        doc = {"format": FORMAT, "runs": [*runs, record]}
        text = json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n"
        try:
            gitio.write_note(repo, commit, text, env, NOTES_REF)
            if not push:
                return
            gitio.git(repo, "push", "--porcelain", "--quiet", remote,
                      f"{NOTES_REF}:{NOTES_REF}")
            return
        except GitError as exc:
            gitio.restore_ref(repo, NOTES_REF, before)
            raced = any(w in f"{exc.stdout}\n{exc.stderr}"
                        for w in ("non-fast-forward", "fetch first", "rejected"))
            if push and raced and attempt < PUSH_ATTEMPTS:
                continue
            raise InputError(f"cannot record the batch run in git ({exc.stderr.strip()[:200]});"
                             " nothing was written", f"{NOTES_REF} at {remote}") from exc


def _take_remote(repo: Path, remote: str) -> None:
    """Start from the remote's batch notes (when it has any): the push is then a
    fast-forward unless another run pushed in between."""
    try:
        listed = gitio.git(repo, "ls-remote", remote, NOTES_REF)
        if not listed.strip():
            return
        gitio.git(repo, "fetch", "--no-tags", remote, f"+{NOTES_REF}:{_REMOTE_COPY}")
    except GitError as exc:
        raise InputError(f"cannot fetch the batch records: {exc.stderr.strip()[:200]}",
                         f"remote {remote}") from exc
    theirs = gitio.rev_parse(repo, _REMOTE_COPY)
    ours = gitio.rev_parse(repo, NOTES_REF)
    if theirs is None or ours == theirs:
        return
    if ours is None or gitio.is_ancestor(repo, ours, theirs):
        gitio.git(repo, "update-ref", NOTES_REF, theirs)
    elif not gitio.is_ancestor(repo, theirs, ours):  # local-only runs: keep theirs per commit
        gitio.git(repo, "notes", f"--ref={NOTES_REF}", "merge", "--quiet",
                  "--strategy=theirs", _REMOTE_COPY, env=gitio.identity_env(repo, "mlgate"))
