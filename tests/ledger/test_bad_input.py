"""Every bad input exits 2 with one line naming what to fix, and leaves no tag behind."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.ledger.conftest import ml, register_and_stage, remote_refs, tags
from tests.support.repos import commit_all, git


@pytest.fixture
def staged(repo: Path, evidence: list[Path]) -> Path:
    register_and_stage(repo, evidence)
    return repo


@pytest.mark.parametrize(
    ("args", "where", "words"),
    [
        (["promote", "nosuch", "--version", "v0.1.0", "--to", "staging"], "NAME",
         "unknown artifact 'nosuch'"),
        (["promote", "churn", "--version", "v9.9.9", "--to", "production"], "--version",
         "version v9.9.9 of 'churn' does not exist (registered: v0.1.0)"),
        (["promote", "churn", "--version", "1.0", "--to", "production"], "--version",
         "not a version of the form vX.Y.Z"),
        (["promote", "churn", "--version", "v0.1.0", "--to", "canary"], "--to",
         "stage 'canary' is not in the policy"),
        (["promote", "churn", "--version", "v0.1.0", "--to", "staging"], "--to",
         "already in staging (churn#staging#1)"),
        (["register", "churn", "--version", "v0.1.0"], "churn@v0.1.0", "tag exists already"),
        (["register", "churn", "--artifact", "models/nope.skops"], "models/nope.skops",
         "artifact does not exist"),
        (["rollback", "churn", "--stage", "staging", "--reason", "x"], "--stage",
         "no previous version"),
        (["rollback", "churn", "--stage", "qa", "--reason", "x"], "--stage",
         "stage 'qa' is not in the policy"),
        (["verify", "churn@v3.0.0"], "churn@v3.0.0", "no such tag"),
        (["status", "nosuch"], "NAME", "unknown artifact"),
        (["register", "Bad Name!"], "NAME", "not a valid artifact name"),
        (["promote", "--version", "v0.1.0", "--to", "production", "--approvals", "github"],
         "--approvals", "the policy of production takes approvals from 'local' only"),
        (["promote", "--version", "v0.1.0", "--to", "production", "--approved-by", " "],
         "--approved-by", "an empty login cannot approve"),
    ],
)
def test_bad_input_exits_2_with_one_line(staged: Path, args: list[str], where: str,
                                         words: str) -> None:
    before = tags(staged)
    if args[0] == "register":  # a new commit so only the named problem is wrong
        git("commit", "--allow-empty", "-m", "next", cwd=staged)
    out = ml(staged, *args)
    assert out.code == 2, out.stdout + out.stderr
    assert out.error_line.startswith(f"mlgate: error: {where}: "), out.error_line
    assert words in out.error_line
    assert len(out.stderr.strip().splitlines()) == 1
    assert tags(staged) == before


def test_register_refuses_a_dirty_work_tree(repo: Path) -> None:
    (repo / "models" / "candidate.skops").write_bytes(b"changed but not committed")
    out = ml(repo, "register")
    assert out.code == 2 and "uncommitted changes (models/candidate.skops)" in out.error_line
    assert tags(repo) == []


def test_register_refuses_a_detached_head(repo: Path) -> None:
    git("checkout", "--quiet", "--detach", "HEAD", cwd=repo)
    out = ml(repo, "register")
    assert out.code == 2 and "HEAD is detached" in out.error_line


def test_register_refuses_an_uncommitted_artifact(repo: Path) -> None:
    (repo / "models" / "other.skops").write_bytes(b"untracked")
    out = ml(repo, "register", "--artifact", "models/other.skops")
    assert out.code == 2
    assert out.error_line == ("mlgate: error: models/other.skops: artifact is not committed at "
                              f"HEAD ({git('rev-parse', 'HEAD', cwd=repo)[:12]}); commit it, or "
                              "produce it with a train section whose outputs name it")


def test_register_refuses_a_commit_already_registered(repo: Path, evidence: list[Path]) -> None:
    assert ml(repo, "register", "--evidence", *map(str, evidence)).code == 0
    out = ml(repo, "register", "--evidence", *map(str, evidence))
    assert out.code == 2 and "already registered as churn@v0.1.0" in out.error_line


def test_not_a_repository_and_missing_remote(tmp_path: Path, repo: Path) -> None:
    out = ml(tmp_path, "status")
    assert out.code == 2 and "not a git repository" in out.error_line
    git("remote", "remove", "origin", cwd=repo)
    out = ml(repo, "register")
    assert out.code == 2 and "remote 'origin' does not exist" in out.error_line
    assert tags(repo) == []


def test_promote_needs_a_policy(repo: Path) -> None:
    (repo / "mlgate.yaml").unlink()
    commit_all(repo, "no config", push=True)
    assert ml(repo, "register", "churn", "--artifact", "models/candidate.skops").code == 0
    out = ml(repo, "promote", "churn", "--version", "v0.1.0", "--to", "staging")
    assert out.code == 2 and out.error_line.startswith("mlgate: error: --to: ")
    assert "stage 'staging' is not in the policy (main:mlgate.yaml:ledger.stages: none " in (
        out.error_line)


def test_bad_policy_config_names_the_field(repo: Path) -> None:
    text = (repo / "mlgate.yaml").read_text().replace("promotes_from: staging",
                                                      "promotes_from: qa")
    (repo / "mlgate.yaml").write_text(text)
    out = ml(repo, "status")
    assert out.code == 2
    assert "ledger.stages.production.promotes_from" in out.error_line and "'qa'" in out.error_line
    text = text.replace("soak: 0s", "soak: soon")
    (repo / "mlgate.yaml").write_text(text)
    out = ml(repo, "status")
    assert out.code == 2 and "soon" in out.error_line


def test_remote_rejecting_the_push_leaves_nothing(staged: Path) -> None:
    origin = Path(git("remote", "get-url", "origin", cwd=staged))
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'ledger is frozen for the release freeze' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    notes_before = git("rev-parse", "refs/notes/mlgate", cwd=staged)
    before_remote = remote_refs(staged)
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice")
    assert out.code == 2
    assert out.error_line.startswith("mlgate: error: remote origin: the remote rejected the push")
    assert "ledger is frozen" in out.error_line
    assert "churn#production#2" not in tags(staged)  # local tag removed
    assert git("rev-parse", "refs/notes/mlgate", cwd=staged) == notes_before  # notes restored
    assert remote_refs(staged) == before_remote


def test_local_tag_conflicting_with_origin(repo: Path, tmp_path: Path,
                                          evidence: list[Path]) -> None:
    """A version tagged locally (--no-push) that someone else pushed differently: clear stop."""
    proof = [str(p) for p in evidence]
    assert ml(repo, "register", "--no-push", "--evidence", *proof).code == 0
    other = tmp_path / "other"
    git("clone", "--quiet", git("remote", "get-url", "origin", cwd=repo), str(other),
        cwd=tmp_path)
    git("config", "user.name", "Other", cwd=other)
    git("config", "user.email", "other@example.com", cwd=other)
    git("commit", "--allow-empty", "-m", "theirs", cwd=other)
    git("push", "--quiet", "origin", "HEAD:refs/heads/other", cwd=other)
    assert ml(other, "register", "--artifact", "models/candidate.skops",
              "--evidence", *proof).code == 0
    git("commit", "--allow-empty", "-m", "ours", cwd=repo)
    out = ml(repo, "register", "--evidence", *proof)
    assert out.code == 2
    assert out.error_line.startswith("mlgate: error: remote origin: cannot fetch the ledger")
    assert "churn@v0.1.0" in out.error_line
