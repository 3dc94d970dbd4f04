"""Two clones promoting at the same time against one bare origin: exactly one wins each
counter, the loser re-fetches and retries (or fails clearly), and nothing half-written stays.

The race is made certain, not hoped for: origin's pre-receive hook holds the *first* push for
three seconds (``mkdir`` is atomic, so exactly one push sleeps), while the second push, planned
from the same fetched state, goes straight through. The sleeping push then loses on the ref
update and must recover.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ledger.conftest import bound_evidence, ml, new_candidate, remote_refs, tags
from tests.support.repos import git

pytestmark = pytest.mark.slow


def _clone(origin: Path, target: Path, user: str) -> Path:
    git("clone", "--quiet", str(origin), str(target), cwd=origin.parent)
    git("config", "user.name", user, cwd=target)
    git("config", "user.email", f"{user}@example.com", cwd=target)
    git("fetch", "--quiet", "origin", "refs/notes/mlgate:refs/notes/mlgate", cwd=target)
    return target


def _hold_first_push(origin: Path, lock: Path) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\ncat >/dev/null\nif mkdir '{lock}' 2>/dev/null; then sleep 3; fi\n"
                    "exit 0\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)


def _start(repo: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.Popen(
        [sys.executable, "-m", "mlgate", *args, "--repo", str(repo), "--json", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _finish(proc: subprocess.Popen[str], out: Path) -> tuple[int, str, dict[str, Any] | None]:
    stdout, stderr = proc.communicate(timeout=60)
    doc = json.loads(out.read_text()) if out.exists() else None
    return proc.returncode, stdout + stderr, doc


@pytest.fixture
def two_clones(repo: Path, evidence: list[Path], tmp_path: Path) -> tuple[Path, Path, Path]:
    """Origin with v0.1.0 and v0.2.0 registered (both passed their gates), and two clones."""
    assert ml(repo, "register", "--evidence", *map(str, evidence)).code == 0
    new_candidate(repo, seed=3)
    fresh = bound_evidence(repo, tmp_path / "evidence-v2")
    assert ml(repo, "register", "--evidence", *map(str, fresh)).code == 0
    origin = Path(git("remote", "get-url", "origin", cwd=repo))
    b = _clone(origin, tmp_path / "clone-b", "bob")
    _hold_first_push(origin, tmp_path / "first-push.lock")
    return repo, b, origin


def test_race_for_the_same_counter_both_land_in_order(two_clones: tuple[Path, Path, Path],
                                                      tmp_path: Path) -> None:
    a, b, _ = two_clones
    pa = _start(a, tmp_path / "a.json", "promote", "churn", "--version", "v0.1.0",
                "--to", "staging")
    pb = _start(b, tmp_path / "b.json", "promote", "churn", "--version", "v0.2.0",
                "--to", "staging")
    (ca, ta, da), (cb, tb, db) = _finish(pa, tmp_path / "a.json"), _finish(pb, tmp_path / "b.json")
    assert (ca, cb) == (0, 0), ta + tb
    assert da is not None and db is not None
    won = {d["gates"][0]["data"]["outputs"]["tag"] for d in (da, db)}
    assert won == {"churn#staging#1", "churn#staging#2"}  # one got N, the other N+1
    attempts = sorted(c["details"]["attempts"] for d in (da, db)
                      for c in d["gates"][0]["checks"] if c["name"] == "assigned")
    assert attempts == [1, 2]  # the loser really lost a push and retried
    refs = remote_refs(a)
    assert {"refs/tags/churn#staging#1", "refs/tags/churn#staging#2"} <= set(refs)
    # each clone holds exactly what origin holds for the tags it wrote: nothing half-written
    for clone in (a, b):
        git("fetch", "--quiet", "origin", "refs/tags/*:refs/tags/*", cwd=clone)
        assert tags(clone) == sorted(r.removeprefix("refs/tags/") for r in refs
                                     if r.startswith("refs/tags/") and not r.endswith("^{}"))
    # the evidence of both promotions survived in origin's notes
    git("fetch", "--quiet", "origin", "+refs/notes/mlgate:refs/notes/mlgate", cwd=a)
    notes = [json.loads(git("notes", "--ref=mlgate", "show", t + "^{commit}", cwd=a))["tags"]
             for t in ("churn@v0.1.0", "churn@v0.2.0")]
    assert "churn#staging#1" in notes[0] | notes[1] and "churn#staging#2" in notes[0] | notes[1]


def test_race_for_the_same_promotion_one_fails_clearly(two_clones: tuple[Path, Path, Path],
                                                       tmp_path: Path) -> None:
    a, b, _ = two_clones
    pa = _start(a, tmp_path / "a.json", "promote", "churn", "--version", "v0.2.0",
                "--to", "staging")
    pb = _start(b, tmp_path / "b.json", "promote", "churn", "--version", "v0.2.0",
                "--to", "staging")
    (ca, ta, _), (cb, tb, _) = _finish(pa, tmp_path / "a.json"), _finish(pb, tmp_path / "b.json")
    assert sorted((ca, cb)) == [0, 2], ta + tb
    loser = ta if ca == 2 else tb
    assert "already in staging (churn#staging#1)" in loser
    refs = remote_refs(a)
    assert [r for r in refs if r.startswith("refs/tags/churn#") and not r.endswith("^{}")] == [
        "refs/tags/churn#staging#1"]
    for clone in (a, b):
        assert [t for t in tags(clone) if "#" in t] == ["churn#staging#1"]
