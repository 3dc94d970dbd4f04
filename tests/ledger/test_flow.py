"""register → staging → approval → production, read back by mlgate and by the real gto."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mlgate.ledger.champion import load_stage_artifact
from mlgate.result import Status
from tests.ledger.conftest import (
    bound_evidence,
    gto_history,
    gto_show,
    ml,
    new_candidate,
    record,
    register_and_stage,
    remote_refs,
    tags,
)
from tests.support.repos import commit_all, git


def test_register_records_artifact_gates_and_notes(repo: Path, evidence: list[Path]) -> None:
    out = ml(repo, "register", "churn", "--evidence", *map(str, evidence), "--json",
             str(repo.parent / "reg.json"))
    assert out.code == 0, out.stderr
    assert tags(repo) == ["churn@v0.1.0"]  # first version: minor bump from v0.0.0
    rec = record(repo, "churn@v0.1.0")
    blob = (repo / "models" / "candidate.skops").read_bytes()
    assert rec["artifact"] == {"path": "models/candidate.skops", "size": len(blob),
                               "sha256": "sha256:" + hashlib.sha256(blob).hexdigest()}
    train = (repo / "data" / "train.csv").read_bytes()
    assert rec["data"]["sha256"] == "sha256:" + hashlib.sha256(train).hexdigest()
    assert set(rec["gates"]) == {"data", "model"}
    assert rec["gates"]["model"]["status"] == "pass"
    assert rec["gates"]["model"]["digest"].startswith("sha256:")
    assert rec["actor"] == "Test User" and rec["commit"] == git("rev-parse", "HEAD", cwd=repo)
    # full evidence in notes, and both tag and notes reached origin
    note = json.loads(git("notes", "--ref=mlgate", "show", "HEAD", cwd=repo))
    assert [g["gate"] for g in note["tags"]["churn@v0.1.0"]["gates"]] == ["data", "model"]
    refs = remote_refs(repo)
    assert "refs/tags/churn@v0.1.0" in refs and "refs/notes/mlgate" in refs
    report = json.loads((repo.parent / "reg.json").read_text())
    assert report["gates"][0]["data"]["outputs"]["version"] == "v0.1.0"


def test_register_versions_bump_and_explicit(repo: Path, evidence: list[Path]) -> None:
    proof = ["--evidence", *map(str, evidence)]  # the same files at every commit below
    assert ml(repo, "register", "--version", "v1.4.2", "--no-push", *proof).code == 0
    git("commit", "--allow-empty", "-m", "next", cwd=repo)
    assert ml(repo, "register", "--bump", "patch", "--no-push", *proof).code == 0
    git("commit", "--allow-empty", "-m", "next", cwd=repo)
    assert ml(repo, "register", "--bump", "major", "--no-push", *proof).code == 0
    assert tags(repo) == ["churn@v1.4.2", "churn@v1.4.3", "churn@v2.0.0"]
    assert "refs/tags/churn@v1.4.2" not in remote_refs(repo)  # --no-push stays local


def wrote(out_text: str) -> list[str]:
    """The lines where the CLI says what it wrote."""
    return [ln.strip() for ln in out_text.splitlines() if ln.strip().startswith("wrote ")]


def test_register_and_promote_print_the_tag_and_whether_it_was_pushed(
        repo: Path, evidence: list[Path]) -> None:
    head = git("rev-parse", "--short=12", "HEAD", cwd=repo)
    out = ml(repo, "register", "--evidence", *map(str, evidence))
    assert out.code == 0, out.stderr
    assert wrote(out.stdout) == [f"wrote tag churn@v0.1.0 on {head}, pushed to origin"]
    assert "refs/tags/churn@v0.1.0" in remote_refs(repo)  # it says so because it is so
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "staging", "--no-push")
    assert out.code == 0, out.stderr
    assert wrote(out.stdout) == [
        "wrote tag churn#staging#1 (churn v0.1.0 in staging), local only, not pushed"]
    assert "refs/tags/churn#staging#1" not in remote_refs(repo)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice", "--quiet")
    assert out.code == 0 and out.stdout == ""  # --quiet: nothing but errors
    assert "refs/tags/churn#production#2" in remote_refs(repo)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production")
    assert out.code == 2 and wrote(out.stdout) == []  # already there: nothing written


def test_full_promotion_flow_and_gto_agrees(repo: Path, evidence: list[Path]) -> None:
    version = register_and_stage(repo, evidence)
    # production needs one approval from alice or bob (examples/churn/mlgate.yaml)
    refused = ml(repo, "promote", "churn", "--version", version, "--to", "production")
    assert refused.code == 1
    assert "minimum approvals" in refused.stdout and "needs 1 approval" in refused.stdout
    assert "(read from local approvals (--approved-by/--denied-by))" in refused.stdout
    assert "churn#production#2" not in tags(repo)

    out = ml(repo, "promote", "churn", "--version", version, "--to", "production",
             "--approved-by", "alice", "--approval-comment", "metrics look good")
    assert out.code == 0, out.stdout + out.stderr
    assert tags(repo) == ["churn#production#2", "churn#staging#1", "churn@v0.1.0"]
    rec = record(repo, "churn#production#2")
    assert rec["version"] == version and rec["stage"] == "production"
    [approval] = rec["approvals"]
    assert (approval["login"], approval["state"], approval["source"], approval["comment"]) == (
        "alice", "approved", "local", "metrics look good")
    assert rec["rules"]["no self-approval"] == "pass"

    status = ml(repo, "status", "--json", str(repo.parent / "s.json"))
    assert status.code == 0
    data = json.loads((repo.parent / "s.json").read_text())["gates"][0]["data"]
    assert data["artifacts"]["churn"] == {"latest": "v0.1.0",
                                          "stages": {"staging": "v0.1.0",
                                                     "production": "v0.1.0"}}
    # the real gto reads the same registry from our tags (with JSON messages)
    shown = gto_show(repo)
    assert shown["churn"]["version"] == "v0.1.0"
    assert shown["churn"]["stage"] == {"staging": "v0.1.0", "production": "v0.1.0"}
    events = {(e["event"], e.get("stage")) for e in gto_history(repo)}
    assert {("registration", None), ("assignment", "staging"),
            ("assignment", "production")} <= {(ev, st if st else None) for ev, st in events}

    history = ml(repo, "history", "churn")
    assert history.code == 0 and "alice" in history.stdout
    champion = load_stage_artifact(repo, "churn", "production")
    assert champion is not None and champion.version == version
    assert champion.content == (repo / "models" / "candidate.skops").read_bytes()
    assert load_stage_artifact(repo, "churn", "canary") is None
    assert load_stage_artifact(repo, "unknown", "production") is None


def test_policy_refusals_name_the_rule(repo: Path, evidence: list[Path]) -> None:
    git("commit", "--allow-empty", "-m", "x", cwd=repo)
    assert ml(repo, "register", "--evidence", *map(str, evidence)).code == 0

    order = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
               "--approved-by", "alice")
    assert order.code == 1
    assert "stage order" in order.stdout and "must be in staging" in order.stdout

    assert ml(repo, "promote", "--version", "v0.1.0", "--to", "staging").code == 0
    stranger = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
                  "--approved-by", "mallory")
    assert stranger.code == 1 and "allowed approvers" in stranger.stdout
    assert "mallory may not approve" in stranger.stdout

    # the commit author (Test User <test.user@example.com>) cannot approve their own change
    config = (repo / "mlgate.yaml").read_text().replace("[alice, bob]",
                                                        "[alice, bob, test.user]")
    (repo / "mlgate.yaml").write_text(config)
    commit_all(repo, "test.user may approve", push=True)
    selfish = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
                 "--approved-by", "test.user")
    assert selfish.code == 1 and "no self-approval" in selfish.stdout
    assert "authored the registered commit" in selfish.stdout
    # ... nor can whoever triggers the run
    actor = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
               "--approved-by", "bob", "--actor", "bob")
    assert actor.code == 1 and "bob triggered this promotion" in actor.stdout

    denied = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
                "--approved-by", "alice", "--denied-by", "bob", "--approval-comment", "no")
    assert denied.code == 1 and "denied by bob" in denied.stdout
    assert not [t for t in tags(repo) if "production" in t]


def test_gates_must_have_passed_for_the_artifact(repo: Path, tmp_path: Path) -> None:
    data, _ = bound_evidence(repo, tmp_path / "ok")
    # staging (the first stage) needs data and model: no version is written without both
    out = ml(repo, "register", "--evidence", str(data))
    assert out.code == 1 and "required gates" in out.stdout
    assert "no passing result of model for this artifact" in out.stdout
    assert tags(repo) == []

    _, failing = bound_evidence(repo, tmp_path / "failing", model_status=Status.FAIL)
    out = ml(repo, "register", "--evidence", str(data), str(failing))
    assert out.code == 1 and "model failed" in out.stdout  # failing candidates never register
    assert tags(repo) == []

    # a stage that requires a gate the version never ran refuses the promotion
    text = (repo / "mlgate.yaml").read_text().replace(
        "gates: [data, model]\n      soak: 0s", "gates: [data, model, load]\n      soak: 0s")
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, "production also needs the load test", push=True)
    register_and_stage(repo)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice")
    assert out.code == 1 and "required gates" in out.stdout
    assert "no result recorded for load" in out.stdout


def test_soak_time(repo: Path, evidence: list[Path]) -> None:
    config = (repo / "mlgate.yaml").read_text().replace("soak: 0s", "soak: 1h")
    (repo / "mlgate.yaml").write_text(config)
    commit_all(repo, "production needs a 1h soak in staging", push=True)
    version = register_and_stage(repo)
    out = ml(repo, "promote", "--version", version, "--to", "production",
             "--approved-by", "alice")
    assert out.code == 1 and "soak time" in out.stdout and "requires 3600s" in out.stdout


def test_rollback_is_a_new_assignment(repo: Path, evidence: list[Path]) -> None:
    v1 = register_and_stage(repo, evidence)
    assert ml(repo, "promote", "--version", v1, "--to", "production",
              "--approved-by", "alice").code == 0
    new_candidate(repo, seed=1)
    v2 = register_and_stage(repo)
    assert ml(repo, "promote", "--version", v2, "--to", "production",
              "--approved-by", "bob").code == 0
    assert gto_show(repo)["churn"]["stage"]["production"] == v2
    before = tags(repo)

    # only the policy's rollback.actors may roll production back
    out = ml(repo, "rollback", "--stage", "production", "--reason", "p95 latency doubled")
    assert out.code == 1 and "Test User may not roll back production" in out.stdout
    assert tags(repo) == before
    out = ml(repo, "rollback", "--stage", "production", "--reason", "p95 latency doubled",
             "--actor", "release-bot")
    assert out.code == 0, out.stderr
    assert wrote(out.stdout) == [f"wrote tags churn#production!#5 and churn#production#6 "
                                 f"(churn {v1} back in production), pushed to origin"]
    after = tags(repo)
    assert set(before) < set(after)  # nothing deleted, two tags added
    assert sorted(set(after) - set(before)) == ["churn#production!#5", "churn#production#6"]
    assert record(repo, "churn#production#6")["reason"] == "p95 latency doubled"
    assert record(repo, "churn#production#6")["rolled_back_from"] == v2
    assert gto_show(repo)["churn"]["stage"]["production"] == v1
    status = ml(repo, "status", "churn", "--json", str(repo.parent / "s.json"))
    assert status.code == 0
    doc = json.loads((repo.parent / "s.json").read_text())["gates"][0]["data"]
    assert doc["artifacts"]["churn"]["stages"] == {"staging": v2, "production": v1}
    champion = load_stage_artifact(repo, "churn", "production")
    assert champion is not None and champion.version == v1
    # pushed atomically to origin too
    refs = remote_refs(repo)
    assert "refs/tags/churn#production!#5" in refs and "refs/tags/churn#production#6" in refs
    # no earlier version left: a clear refusal
    again = ml(repo, "rollback", "--stage", "production", "--reason", "again",
               "--actor", "alice")
    assert again.code == 2 and "no previous version" in again.error_line
    # a new promotion of v2 after the fix works and is current again
    assert ml(repo, "promote", "--version", v2, "--to", "production",
              "--approved-by", "alice").code == 0
    assert gto_show(repo)["churn"]["stage"]["production"] == v2


def test_ci_checkout_without_tags_reads_the_remote_ledger(repo: Path, evidence: list[Path],
                                                          tmp_path: Path) -> None:
    """actions/checkout fetches no tags or notes: promote and --fetch read origin's ledger."""
    register_and_stage(repo, evidence)
    ci = tmp_path / "ci"
    git("clone", "--quiet", "--no-tags", "--depth", "1",
        "file://" + git("remote", "get-url", "origin", cwd=repo), str(ci), cwd=tmp_path)
    git("config", "user.name", "CI", cwd=ci)
    git("config", "user.email", "ci@example.com", cwd=ci)
    assert tags(ci) == []
    out = ml(ci, "promote", "--version", "v0.1.0", "--to", "production", "--approved-by", "bob")
    assert out.code == 0, out.stdout + out.stderr
    out = ml(repo, "status", "--fetch", "--json", str(tmp_path / "s.json"))
    assert out.code == 0
    doc = json.loads((tmp_path / "s.json").read_text())["gates"][0]["data"]
    assert doc["artifacts"]["churn"]["stages"]["production"] == "v0.1.0"
    assert ml(repo, "verify", "churn#production").code == 0  # notes came with --fetch
