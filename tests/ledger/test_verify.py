"""``mlgate verify`` recomputes digests, checks the evidence notes and re-checks the policy.

Tampering is done the way it would happen to a real repository: a version tag force-moved to
another commit keeping its message (so it claims the old, approved digest), evidence edited in
``refs/notes/mlgate``, and a stage tag written by hand with plain ``git tag``, bypassing policy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.errors import InputError
from mlgate.ledger.champion import load_stage_artifact
from tests.ledger.conftest import ml, register_and_stage
from tests.support.repos import commit_all, git


@pytest.fixture
def promoted(repo: Path, evidence: list[Path]) -> Path:
    register_and_stage(repo, evidence)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production", "--approved-by", "bob")
    assert out.code == 0, out.stdout
    return repo


def test_verify_passes_on_honest_tags(promoted: Path) -> None:
    out = ml(promoted, "verify", "churn@v0.1.0")
    assert out.code == 0, out.stdout
    assert "FAIL" not in out.stdout
    out = ml(promoted, "verify", "churn#production", "--json", str(promoted.parent / "v.json"))
    assert out.code == 0, out.stdout
    doc = json.loads((promoted.parent / "v.json").read_text())["gates"][0]
    names = {c["name"] for c in doc["checks"]}
    assert {"tagged commit", "v0.1.0: artifact digest", "v0.1.0: evidence",
            "policy: minimum approvals", "policy: no self-approval", "policy: stage order",
            "evidence"} <= names
    assert doc["data"]["outputs"]["tag"] == "churn#production#2"


def test_verify_catches_a_moved_version_tag(promoted: Path) -> None:
    message = git("for-each-ref", "--format=%(contents)", "refs/tags/churn@v0.1.0", cwd=promoted)
    model = promoted / "models" / "candidate.skops"
    model.write_bytes(model.read_bytes() + b"\0backdoor")
    commit_all(promoted, "swap the model")
    (promoted.parent / "msg").write_text(message)
    git("tag", "--force", "--annotate", "--cleanup=verbatim", "-F", str(promoted.parent / "msg"),
        "churn@v0.1.0", "HEAD", cwd=promoted)

    out = ml(promoted, "verify", "churn@v0.1.0")
    assert out.code == 1
    assert "FAIL  tagged commit" in out.stdout and "(tag moved)" in out.stdout
    assert "FAIL  artifact digest" in out.stdout and "tampered or moved tag" in out.stdout
    assert "FAIL  evidence" in out.stdout  # the evidence note is on the original commit
    # the model gate's champion lookup refuses the swapped bytes too
    with pytest.raises(InputError, match="none is valid, so there is no trustworthy champion"):
        load_stage_artifact(promoted, "churn", "production")


def test_verify_catches_edited_evidence(promoted: Path) -> None:
    commit = git("rev-parse", "churn@v0.1.0^{commit}", cwd=promoted)
    note = json.loads(git("notes", "--ref=mlgate", "show", commit, cwd=promoted))
    model = next(g for g in note["tags"]["churn@v0.1.0"]["gates"] if g["gate"] == "model")
    model["checks"][0]["value"] = 0.99  # a better AUC than was measured
    (promoted.parent / "note.json").write_text(json.dumps(note))
    git("notes", "--ref=mlgate", "add", "-f", "-F", str(promoted.parent / "note.json"), commit,
        cwd=promoted)
    out = ml(promoted, "verify", "churn@v0.1.0")
    assert out.code == 1
    assert "FAIL  evidence" in out.stdout and "model: report digest" in out.stdout


def test_verify_rechecks_policy_of_a_hand_made_promotion(repo: Path, evidence: list[Path]) -> None:
    register_and_stage(repo, evidence)
    record = json.loads(git("for-each-ref", "--format=%(contents)", "refs/tags/churn#staging#1",
                            cwd=repo).partition("\n\n")[2])
    record.update(stage="production", counter=2, approvals=[])
    (repo.parent / "msg").write_text("Promote churn v0.1.0 to production\n\n"
                                     + json.dumps(record))
    git("tag", "-a", "-F", str(repo.parent / "msg"), "churn#production#2", "churn@v0.1.0^{}",
        cwd=repo)
    out = ml(repo, "verify", "churn#production#2")
    assert out.code == 1
    assert "FAIL  policy: minimum approvals" in out.stdout
    assert "has 0 (read from the approvals recorded in churn#production#2)" in out.stdout
    assert "FAIL  evidence" in out.stdout and "no evidence for churn#production#2" in out.stdout


def test_verify_of_a_tag_without_record(repo: Path) -> None:
    git("tag", "-a", "-m", "made by hand", "churn@v5.0.0", cwd=repo)
    out = ml(repo, "verify", "churn@v5.0.0")
    assert out.code == 1 and "carries no mlgate record" in out.stdout
