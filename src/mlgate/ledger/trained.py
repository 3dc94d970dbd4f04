"""A trained artifact that is not committed becomes a commit of its own, so the ledger keeps it.

Why a commit: every reader of the ledger (the champion comparison, ``mlgate serve NAME@v1``,
verification) reads the artifact's bytes from the tagged commit and checks them against the
recorded sha256. A model trained in CI exists only in the work tree, so ``register`` writes a
commit whose tree is HEAD's with the artifact added (or replaced), whose only parent is HEAD,
and tags that commit. The branch does not move and nothing in the work tree changes; the
commit travels with the tag when it is pushed. Its dates are HEAD's committer date, so the
same bytes on the same HEAD give the same commit (a retried release finds it registered).
The gates ran on HEAD, whose files are the new commit's files except the artifact, so the
evidence binds to it as it would to HEAD.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mlgate.ledger import gitio


def artifact_commit(repo: Path, head: str, rel: str, content: bytes, note: str) -> str:
    """A commit whose tree is ``head``'s with ``rel`` set to ``content``; its sha."""
    blob = gitio.git(repo, "hash-object", "-w", "--stdin", stdin=content).strip()
    mode = "100644"
    existing = gitio.git(repo, "ls-tree", head, "--", rel).strip()
    if existing and existing.split()[0] == "100755":
        mode = "100755"
    fd, index = tempfile.mkstemp(prefix="mlgate-index-")
    os.close(fd)
    os.unlink(index)  # git creates the index file itself
    env = {"GIT_INDEX_FILE": index}
    try:
        gitio.git(repo, "read-tree", head, env=env)
        gitio.git(repo, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{rel}", env=env)
        tree = gitio.git(repo, "write-tree", env=env).strip()
    finally:
        Path(index).unlink(missing_ok=True)
    date = gitio.git(repo, "show", "-s", "--format=%cI", head).strip()
    stamp = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    message = f"mlgate: {rel} trained on {head[:12]}\n\n{note}\n"
    return gitio.git(repo, "commit-tree", tree, "-p", head, "-m", message, env=stamp).strip()
