"""A model trained in CI and never committed: ``register`` records it in a commit of its own
(HEAD plus the artifact), so the ledger still holds the bytes every reader checks."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest

from mlgate.ledger.champion import load_stage_artifact
from tests.ledger.conftest import record, remote_refs
from tests.support.cli import run_mlgate
from tests.support.repos import commit_all, git

TRAIN = f"train:\n  command: [{sys.executable}, train.py]\n"


@pytest.fixture
def trained_repo(repo: Path) -> Path:
    """The example with the candidate untracked (ignored) and produced by `train:`."""
    git("rm", "--cached", "--quiet", "models/candidate.skops", cwd=repo)
    (repo / ".gitignore").write_text("models/candidate.skops\n.mlgate/\n")
    text = (repo / "mlgate.yaml").read_text()
    text = re.sub(r"release: \[.*\]", "release: [train, data, model, register, promote]", text)
    (repo / "mlgate.yaml").write_text(text + TRAIN)
    commit_all(repo, "the candidate is trained in CI, not committed", push=True)
    return repo


def test_release_registers_an_uncommitted_trained_model(trained_repo: Path,
                                                        tmp_path: Path) -> None:
    repo = trained_repo
    head = git("rev-parse", "HEAD", cwd=repo)
    out = run_mlgate(["run", "--stage", "release"], cwd=repo)
    assert out.code == 0, out.stdout + out.stderr
    trained = (repo / "models" / "candidate.skops").read_bytes()
    tagged = git("rev-parse", "churn@v0.1.0^{commit}", cwd=repo)
    assert tagged != head
    assert git("rev-parse", f"{tagged}^", cwd=repo) == head, "its only parent is HEAD"
    changed = git("diff", "--name-only", head, tagged, cwd=repo).split()
    assert changed == ["models/candidate.skops"], "nothing but the artifact differs"
    assert git("rev-parse", "HEAD", cwd=repo) == head, "the branch did not move"
    assert git("status", "--porcelain", cwd=repo) == ""
    rec = record(repo, "churn@v0.1.0")
    assert rec["commit"] == tagged
    assert rec["artifact"]["sha256"] == "sha256:" + hashlib.sha256(trained).hexdigest()
    assert "train" in rec["gates"], "the training run is part of the evidence"
    assert "refs/tags/churn@v0.1.0" in remote_refs(repo)

    # A fresh clone (the next pull request's runner) reads the bytes from the ledger.
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo.parent / "origin.git"), str(clone), cwd=tmp_path)
    staged = load_stage_artifact(clone, "churn", "staging")
    assert staged is not None and staged.content == trained
    verify = run_mlgate(["verify", "churn@v0.1.0"], cwd=clone)
    assert verify.code == 0, verify.stdout + verify.stderr


def test_same_bytes_on_the_same_commit_are_registered_once(trained_repo: Path) -> None:
    repo = trained_repo
    assert run_mlgate(["run", "--stage", "release"], cwd=repo).code == 0
    results = repo / ".mlgate" / "results" / "release"
    again = run_mlgate(["register", "--evidence", results / "data.json", results / "model.json",
                        results / "train.json"], cwd=repo)
    assert again.code == 2
    assert "is already registered as churn@v0.1.0" in again.error_line


def test_an_uncommitted_artifact_without_train_is_refused(repo: Path) -> None:
    git("rm", "--cached", "--quiet", "models/candidate.skops", cwd=repo)
    (repo / ".gitignore").write_text("models/candidate.skops\n.mlgate/\n")
    commit_all(repo, "candidate untracked", push=True)
    out = run_mlgate(["register", "--bump", "patch"], cwd=repo)
    assert out.code == 2
    assert "is not committed at HEAD" in out.error_line
    assert "train section whose outputs name it" in out.error_line


def test_a_trained_output_that_was_never_produced(trained_repo: Path) -> None:
    (trained_repo / "models" / "candidate.skops").unlink()
    out = run_mlgate(["register", "--bump", "patch"], cwd=trained_repo)
    assert out.code == 2
    assert "run `mlgate train` first" in out.error_line
