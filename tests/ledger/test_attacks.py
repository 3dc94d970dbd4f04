"""The ledger against an attacker with push rights or a local claim (issue: trust chain).

Every attack is made with plain git on a real repository with a bare origin, the way a
colleague with push rights would: hand-written annotated tags, edited notes, copied records.
Each must be refused or ignored, with a one-line reason, by ``status``, ``history``, ``verify``,
the champion lookup and ``promote``; honest entries keep working.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlgate.errors import InputError
from mlgate.ledger.champion import load_stage_artifact
from mlgate.ledger.record import canonical_digest
from mlgate.result import Status
from tests.ledger.conftest import (
    bound_evidence,
    ml,
    new_candidate,
    record,
    register_and_stage,
    tags,
)
from tests.support.repos import GITHUB_APPROVALS, LOCAL_APPROVALS, commit_all, git


@pytest.fixture
def prod(repo: Path) -> Path:
    """v0.1.0 in staging and production (honest), v0.2.0 registered and in staging only."""
    register_and_stage(repo)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice")
    assert out.code == 0, out.stdout + out.stderr
    new_candidate(repo, seed=7)
    register_and_stage(repo)
    assert stages(repo) == {"staging": "v0.2.0", "production": "v0.1.0"}
    return repo


def status_doc(repo: Path) -> dict[str, Any]:
    out = ml(repo, "status", "--json", str(repo.parent / "status.json"))
    assert out.code == 0, out.stdout + out.stderr
    doc: dict[str, Any] = json.loads((repo.parent / "status.json").read_text())
    return doc["gates"][0]["data"]["artifacts"]["churn"]


def stages(repo: Path) -> dict[str, str]:
    found: dict[str, str] = status_doc(repo)["stages"]
    return found


def invalid(repo: Path) -> dict[str, str]:
    return {e["tag"]: e["reason"] for e in status_doc(repo).get("invalid", [])}


def forge_tag(repo: Path, name: str, commit: str, rec: dict[str, Any] | None,
              summary: str = "forged") -> None:
    """An annotated tag written by hand with ``git tag -a``."""
    body = summary if rec is None else (
        f"{summary}\n\n" + json.dumps({"format": "mlgate.ledger/v1", **rec}, indent=2))
    (repo.parent / "forged-msg").write_text(body + "\n")
    git("tag", "--annotate", "--cleanup=verbatim", "-F", str(repo.parent / "forged-msg"),
        name, commit, cwd=repo)


def add_note_entry(repo: Path, commit: str, tag: str, entry: dict[str, Any]) -> str:
    """Add an evidence entry to the note on ``commit`` with ``git notes``; returns its digest."""
    text = git("notes", "--ref=mlgate", "show", commit, cwd=repo, check=False)
    doc = json.loads(text) if text else {"format": "mlgate.evidence/v1", "tags": {}}
    doc["tags"][tag] = entry
    (repo.parent / "note.json").write_text(json.dumps(doc))
    git("notes", "--ref=mlgate", "add", "-f", "-F", str(repo.parent / "note.json"), commit,
        cwd=repo)
    return canonical_digest(entry)


def note_entry(repo: Path, tag: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(git("notes", "--ref=mlgate", "show", f"{tag}^{{commit}}",
                                           cwd=repo))["tags"][tag]
    return entry


def commit_of(repo: Path, tag: str) -> str:
    return git("rev-parse", f"{tag}^{{commit}}", cwd=repo)


def champion_version(repo: Path) -> str | None:
    found = load_stage_artifact(repo, "churn", "production")
    return found.version if found else None


# 1. forged rollback -------------------------------------------------------------------------


def test_forged_rollback_to_a_version_never_in_production(prod: Path) -> None:
    """`event: rollback` for v0.2.0, which was never in production: ignored everywhere."""
    v2 = commit_of(prod, "churn@v0.2.0")
    rec = record(prod, "churn#staging#3")  # an honest assignment of v0.2.0, as a template
    rec.update(event="rollback", stage="production", counter=9, reason="hotfix",
               rolled_back_from="v0.1.0")
    forge_tag(prod, "churn#production#9", v2, rec)
    assert stages(prod)["production"] == "v0.1.0"
    assert champion_version(prod) == "v0.1.0"
    why = invalid(prod)["churn#production#9"]
    assert "churn#production!#8 is missing" in why
    out = ml(prod, "verify", "churn#production#9")
    assert out.code == 1 and "FAIL" in out.stdout
    assert ml(prod, "verify", "churn#production").code == 0  # the honest one still verifies


def test_forged_rollback_pair_to_a_version_never_in_production(prod: Path) -> None:
    """Even with both halves written by hand and consistent, the target was never there."""
    v1, v2 = commit_of(prod, "churn@v0.1.0"), commit_of(prod, "churn@v0.2.0")
    base = record(prod, "churn#staging#3")
    for key in ("approvals", "artifact", "gates", "rules"):
        base.pop(key, None)
    undo = {**base, "event": "unassign", "stage": "production", "counter": 5,
            "version": "v0.1.0", "commit": v1, "replaced_by": "v0.2.0", "reason": "hotfix"}
    undo["evidence"] = add_note_entry(prod, v1, "churn#production!#5",
                                      {"event": "unassign", "reason": "hotfix"})
    redo = {**base, "event": "rollback", "stage": "production", "counter": 6,
            "version": "v0.2.0", "commit": v2, "rolled_back_from": "v0.1.0", "reason": "hotfix"}
    redo["evidence"] = add_note_entry(prod, v2, "churn#production#6",
                                      {"event": "rollback", "reason": "hotfix"})
    forge_tag(prod, "churn#production!#5", v1, undo)
    forge_tag(prod, "churn#production#6", v2, redo)
    assert stages(prod)["production"] == "v0.1.0"
    why = invalid(prod)
    assert "v0.2.0 was never validly assigned to production" in why["churn#production#6"]
    assert champion_version(prod) == "v0.1.0"


# 2. bare stage tag --------------------------------------------------------------------------


def test_bare_stage_tag_decides_nothing(prod: Path) -> None:
    git("tag", "-a", "-m", "x", "churn#production#5", commit_of(prod, "churn@v0.2.0"),
        cwd=prod)
    assert stages(prod)["production"] == "v0.1.0"
    assert "carries no mlgate record" in invalid(prod)["churn#production#5"]
    assert champion_version(prod) == "v0.1.0"
    # a lightweight tag is no better
    git("tag", "churn#production#6", commit_of(prod, "churn@v0.2.0"), cwd=prod)
    assert "lightweight tag" in invalid(prod)["churn#production#6"]
    assert champion_version(prod) == "v0.1.0"
    # and promote's stage order still sees v0.2.0 as not in production: it may be promoted
    out = ml(prod, "promote", "--version", "v0.2.0", "--to", "production",
             "--approved-by", "bob")
    assert out.code == 0, out.stdout + out.stderr
    assert "churn#production#7" in tags(prod)
    assert stages(prod)["production"] == "v0.2.0"


# 3. consistent forgery ----------------------------------------------------------------------


def test_copied_promotion_record_with_another_version(prod: Path) -> None:
    """Copy production#2's JSON for v0.2.0 and add a matching note entry: the copied approval
    was given for v0.1.0 (and, outside a test's few seconds, predates v0.2.0's time in
    staging), so the assignment is invalid."""
    v2 = commit_of(prod, "churn@v0.2.0")
    rec = record(prod, "churn#production#2")
    entry = note_entry(prod, "churn#production#2")
    rec.update(version="v0.2.0", commit=v2, counter=5,
               artifact=record(prod, "churn@v0.2.0")["artifact"])
    rec["evidence"] = add_note_entry(prod, v2, "churn#production#5", entry)
    forge_tag(prod, "churn#production#5", v2, rec)
    assert stages(prod)["production"] == "v0.1.0"
    assert ("approvals given for another promotion than churn@v0.2.0 to production: alice "
            "(churn@v0.1.0 to production)") in invalid(prod)["churn#production#5"]
    assert champion_version(prod) == "v0.1.0"


def test_note_entry_that_says_something_else(prod: Path) -> None:
    """A record whose note entry exists but differs from it (other approvals): invalid."""
    v2 = commit_of(prod, "churn@v0.2.0")
    rec = record(prod, "churn#production#2")
    rec.update(version="v0.2.0", commit=v2, counter=5,
               artifact=record(prod, "churn@v0.2.0")["artifact"])
    add_note_entry(prod, v2, "churn#production#5",
                   {"event": "assign", "checks": [], "approvals": []})
    forge_tag(prod, "churn#production#5", v2, rec)
    assert "is not the recorded" in invalid(prod)["churn#production#5"]
    assert champion_version(prod) == "v0.1.0"


def test_dates_come_from_the_record_and_must_agree_with_the_tag(repo: Path) -> None:
    """Soak is measured between valid records' times; a record dated later than its tag (to
    fake a long soak) is invalid, and so is one dated in the future."""
    text = (repo / "mlgate.yaml").read_text().replace("soak: 0s", "soak: 1h")
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, "production soaks 1h in staging", push=True)
    register_and_stage(repo)
    v1 = commit_of(repo, "churn@v0.1.0")
    rec = record(repo, "churn#staging#1")
    rec.update(stage="production", counter=2, time="2999-01-01T00:00:00Z",
               approvals=[{"login": "alice", "state": "approved", "time": "2999-01-01T00:00:00Z",
                           "source": "local", "comment": "", "url": ""}])
    rec["evidence"] = add_note_entry(repo, v1, "churn#production#2",
                                     {"event": "assign", "checks": [],
                                      "approvals": rec["approvals"]})
    forge_tag(repo, "churn#production#2", v1, rec)
    why = invalid(repo)["churn#production#2"]
    assert "dated in the future" in why and "away from its record's time" in why
    assert "production" not in stages(repo)


# 4. policy source ---------------------------------------------------------------------------


def test_local_approval_cannot_stand_in_for_github(repo: Path) -> None:
    text = (repo / "mlgate.yaml").read_text().replace(LOCAL_APPROVALS, GITHUB_APPROVALS)
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, "production needs a GitHub environment review", push=True)
    register_and_stage(repo)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "local", "--approved-by", "alice")
    assert out.code == 2
    assert "--approvals local: the policy of production takes approvals from 'github'" in (
        out.error_line)
    assert not [t for t in tags(repo) if "production" in t]
    # a hand-made record claiming a local approval for that stage is invalid too
    v1 = commit_of(repo, "churn@v0.1.0")
    rec = record(repo, "churn#staging#1")
    approval = {"login": "alice", "state": "approved", "time": rec["time"], "source": "local",
                "comment": "", "url": ""}
    rec.update(stage="production", counter=2, approvals=[approval])
    rec["evidence"] = add_note_entry(repo, v1, "churn#production#2",
                                     {"event": "assign", "checks": [], "approvals": [approval]})
    forge_tag(repo, "churn#production#2", v1, rec)
    assert "takes them from 'github' only" in invalid(repo)["churn#production#2"]


def test_the_work_trees_policy_does_not_judge(repo: Path) -> None:
    """Editing mlgate.yaml locally (or in a pull request) does not change the rules."""
    register_and_stage(repo)
    text = (repo / "mlgate.yaml").read_text().replace("[alice, bob]", "[alice, bob, mallory]")
    (repo / "mlgate.yaml").write_text(text)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "mallory")
    assert out.code == 2
    assert "differs from the one on the default branch (main)" in out.error_line
    # committed on a branch but not merged: still main's rules
    git("checkout", "--quiet", "-b", "loosen", cwd=repo)
    commit_all(repo, "let mallory approve")
    git("push", "--quiet", "origin", "loosen", cwd=repo)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "mallory")
    assert out.code == 2 and "default branch (main)" in out.error_line


def test_a_policy_from_another_branch_does_not_count(repo: Path) -> None:
    """A record that names a policy blob committed only on a side branch is invalid."""
    register_and_stage(repo)
    git("checkout", "--quiet", "-b", "loose", cwd=repo)
    text = (repo / "mlgate.yaml").read_text().replace("[alice, bob]", "[alice, bob, mallory]")
    (repo / "mlgate.yaml").write_text(text)
    side = commit_all(repo, "mallory may approve", push=False)
    blob = git("rev-parse", f"{side}:mlgate.yaml", cwd=repo)
    git("checkout", "--quiet", "main", cwd=repo)
    v1 = commit_of(repo, "churn@v0.1.0")
    rec = record(repo, "churn#staging#1")
    approval = {"login": "mallory", "state": "approved", "time": rec["time"],
                "source": "local", "comment": "", "url": ""}
    rec.update(stage="production", counter=2, approvals=[approval],
               policy={"path": "mlgate.yaml", "blob": blob, "commit": side})
    rec["evidence"] = add_note_entry(repo, v1, "churn#production#2",
                                     {"event": "assign", "checks": [], "approvals": [approval]})
    forge_tag(repo, "churn#production#2", v1, rec)
    assert "not on the default branch" in invalid(repo)["churn#production#2"]


# 5. one person, many approvers --------------------------------------------------------------


def test_one_person_counts_once_and_blank_logins_are_refused(repo: Path) -> None:
    text = (repo / "mlgate.yaml").read_text().replace(
        "min: 1\n        approvers: [alice, bob]", "min: 2\n        approvers: [alice, bob]")
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, "production needs two approvals", push=True)
    register_and_stage(repo)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice", "Alice", " ALICE ")
    assert out.code == 1
    assert "needs 2 approval(s) from distinct people and has 1 (alice)" in out.stdout
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice", "  ")
    assert out.code == 2 and "--approved-by: an empty login" in out.error_line
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice", "BOB")
    assert out.code == 0, out.stdout
    assert stages(repo)["production"] == "v0.1.0"


def test_local_approvals_need_an_approvers_list(repo: Path) -> None:
    text = (repo / "mlgate.yaml").read_text().replace("        approvers: [alice, bob]\n", "")
    (repo / "mlgate.yaml").write_text(text)
    out = ml(repo, "status")
    assert out.code == 2
    assert "ledger.stages.production.approvals: local approvals are names typed" in (
        out.error_line)


# 6. evidence laundering ---------------------------------------------------------------------


def test_the_passing_report_of_another_model_is_refused(repo: Path, tmp_path: Path) -> None:
    other = bound_evidence(repo, tmp_path / "old-model")  # about the current candidate
    new_candidate(repo, seed=11)  # a new (say, worse) candidate is committed
    out = ml(repo, "register", "--evidence", *map(str, other))
    assert out.code == 1
    assert "evidence bound to the artifact" in out.stdout
    assert "it judged model sha256:" in out.stdout and "not the artifact" in out.stdout
    assert not [t for t in tags(repo) if t.startswith("churn@")]


def test_evidence_about_other_data_is_refused(repo: Path, tmp_path: Path) -> None:
    evidence = bound_evidence(repo, tmp_path / "before")
    rows = (repo / "data" / "holdout.csv").read_text().splitlines()
    (repo / "data" / "holdout.csv").write_text("\n".join(rows[:-100]) + "\n")
    commit_all(repo, "drop hard rows from the holdout", push=True)
    out = ml(repo, "register", "--evidence", *map(str, evidence))
    assert out.code == 1
    assert "it read data/holdout.csv as sha256:" in out.stdout
    assert "but the registered commit holds" in out.stdout


def test_register_without_evidence_for_a_gated_first_stage(repo: Path) -> None:
    """staging requires data and model: no version is written (and stranded) without them."""
    out = ml(repo, "register")
    assert out.code == 1
    assert "staging (the first stage) requires data, model" in out.stdout
    assert tags(repo) == []


def test_register_reads_this_commits_results(repo: Path) -> None:
    """Without --evidence, register takes this commit's results from results_dir."""
    results = repo / ".mlgate" / "results" / "pr"
    evidence = bound_evidence(repo, results)
    head = git("rev-parse", "HEAD", cwd=repo)
    for path in evidence:  # stamp them as produced on this commit
        doc = json.loads(path.read_text())
        doc["gates"][0]["meta"] = {"commit": head, "time": "2030-01-01T00:00:00Z"}
        path.write_text(json.dumps(doc))
    out = ml(repo, "register")
    assert out.code == 0, out.stdout + out.stderr
    assert set(record(repo, "churn@v0.1.0")["gates"]) == {"data", "model"}


# 7. status contradicting its report ---------------------------------------------------------


def test_a_tag_claiming_pass_over_a_failing_report(repo: Path, tmp_path: Path) -> None:
    failing = bound_evidence(repo, tmp_path / "failing", model_status=Status.FAIL)
    assert ml(repo, "register", "--evidence", *map(str, failing)).code == 1  # refused honestly
    # the attacker writes the version by hand: the tag says pass, the stored report says fail
    passing = bound_evidence(repo, tmp_path / "passing")
    assert ml(repo, "register", "--evidence", *map(str, passing), "--no-push").code == 0
    rec = record(repo, "churn@v0.1.0")
    reports = [json.loads(p.read_text())["gates"][0] for p in failing]
    from mlgate.result import GateResult

    rec["gates"]["model"]["digest"] = GateResult.from_dict(reports[1]).digest()
    head = commit_of(repo, "churn@v0.1.0")
    rec["evidence"] = add_note_entry(repo, head, "churn@v0.1.0",
                                     {"event": "register", "gates": reports})
    git("tag", "-d", "churn@v0.1.0", cwd=repo)
    forge_tag(repo, "churn@v0.1.0", head, rec)
    out = ml(repo, "verify", "churn@v0.1.0")
    assert out.code == 1
    assert "model: the tag records pass but its report says fail" in out.stdout
    assert "churn@v0.1.0" in invalid(repo)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "staging", "--no-push")
    assert out.code == 1 and "the version's record is not valid" in out.stdout


# 8. one bad tag breaks no one ---------------------------------------------------------------


@pytest.mark.parametrize("rec", [
    "{ not json",
    json.dumps({"format": "mlgate.ledger/v1", "event": "register", "approvals": "alice"}),
    json.dumps({"format": "mlgate.ledger/v1", "event": "assign", "name": "other",
                "version": "v1.0.0", "stage": "production", "counter": 1, "commit": "0" * 40,
                "approvals": [{"login": 42, "state": "approved"}]}),
    "[" * 5000 + "]" * 5000,
])
def test_a_broken_tag_of_another_artifact_breaks_no_one(prod: Path, rec: str) -> None:
    head = git("rev-parse", "HEAD", cwd=prod)
    (prod.parent / "bad").write_text(f"broken\n\n{rec}\n")
    git("tag", "-a", "-F", str(prod.parent / "bad"), "other@v1.0.0", head, cwd=prod)
    git("tag", "-a", "-F", str(prod.parent / "bad"), "other#production#1", head, cwd=prod)
    assert stages(prod) == {"staging": "v0.2.0", "production": "v0.1.0"}
    assert champion_version(prod) == "v0.1.0"
    for args in (["status"], ["history"], ["status", "other"], ["history", "other"],
                 ["verify", "churn#production"]):
        out = ml(prod, *args)
        assert out.code == 0, (args, out.stdout, out.stderr)
    out = ml(prod, "verify", "other@v1.0.0")
    assert out.code == 1 and "record" in out.stdout
    out = ml(prod, "verify", "other#production#1")
    assert out.code == 1
    out = ml(prod, "status", "other", "--json", str(prod.parent / "o.json"))
    doc = json.loads((prod.parent / "o.json").read_text())["gates"][0]["data"]["artifacts"]
    assert doc["other"]["latest"] is None and doc["other"]["stages"] == {}


def test_non_ascii_digits_are_not_versions(prod: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=prod)
    git("tag", "-a", "-m", "x", "churn@v0.1٣.0", head, cwd=prod)
    git("tag", "-a", "-m", "x", "churn#production#٣", head, cwd=prod)
    assert stages(prod)["production"] == "v0.1.0"
    out = ml(prod, "verify", "churn@v0.1٣.0")
    assert out.code == 2 and "expected NAME@vX.Y.Z" in out.error_line


def test_champion_lookup_refuses_a_stage_with_only_invalid_entries(repo: Path) -> None:
    """No silent fallback to an older champion file when the ledger was broken."""
    register_and_stage(repo)
    assert ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
              "--approved-by", "alice").code == 0
    head = commit_of(repo, "churn@v0.1.0")
    text = json.loads(git("notes", "--ref=mlgate", "show", head, cwd=repo))
    text["tags"]["churn@v0.1.0"]["gates"][1]["checks"][0]["value"] = 0.99
    (repo.parent / "n.json").write_text(json.dumps(text))
    git("notes", "--ref=mlgate", "add", "-f", "-F", str(repo.parent / "n.json"), head, cwd=repo)
    with pytest.raises(InputError, match="none is valid, so there is no trustworthy champion"):
        load_stage_artifact(repo, "churn", "production")


ODD_VALUES: list[Any] = [None, 0, -1, 10**30, 1e308, "", " ", "x" * 5000, [], {}, True,
                         "٣", "a\nb", "../../etc/passwd", "/abs/path", {"nested": [1, {"a": 2}]}]


def test_no_tag_content_makes_any_command_crash(prod: Path) -> None:
    """Every field of a real version and stage record, replaced by values of the wrong type or
    shape, each in an artifact of its own: every command answers (exit 0 or 1), flags each
    entry, and the honest artifact is untouched."""
    head = git("rev-parse", "HEAD", cwd=prod)
    templates = {"@v1.0.0": record(prod, "churn@v0.2.0"),
                 "#production#1": record(prod, "churn#production#2")}
    made: list[str] = []
    for suffix, template in templates.items():
        nested = [("artifact", "path"), ("artifact", "sha256"), ("approvals", 0),
                  ("policy", "blob"), ("gates", "model")]
        keys: list[tuple[Any, ...]] = [(k,) for k in template] + nested
        for key in keys:
            for odd in ODD_VALUES[::3] if len(key) > 1 else ODD_VALUES:
                rec = json.loads(json.dumps(template))
                target = rec
                for part in key[:-1]:
                    target = target.get(part) if isinstance(target, dict) else None
                if not isinstance(target, dict | list) or (isinstance(target, list)
                                                          and not target):
                    continue  # this record has no such field
                target[key[-1]] = odd
                name = f"fz{len(made)}"
                forge_tag(prod, f"{name}{suffix}", head, {**rec, "name": name})
                made.append(f"{name}{suffix}")
    # and a few whole-message shapes
    for i, body in enumerate(["{", "{}", "[]", "null", '{"format": "mlgate.ledger/v1"}',
                              json.dumps({"format": "mlgate.ledger/v1", "event": "register",
                                          "version": "v1.0.0", "name": "x" * 300})]):
        (prod.parent / "raw").write_text(f"summary\n\n{body}\n")
        git("tag", "-a", "-F", str(prod.parent / "raw"), f"raw{i}@v1.0.0", head, cwd=prod)
        made.append(f"raw{i}@v1.0.0")
    assert len(made) > 150
    for args in (["status"], ["history"]):
        out = ml(prod, *args, "--json", str(prod.parent / "out.json"))
        assert out.code in (0, 1), (args, out.stderr[-2000:])
        assert "internal error" not in out.stderr
    assert stages(prod) == {"staging": "v0.2.0", "production": "v0.1.0"}
    history = json.loads((prod.parent / "out.json").read_text())["gates"][0]["data"]["events"]
    judged = {e["tag"]: e["valid"] for e in history}
    assert all(judged[t].startswith("no: ") for t in made), [t for t in made
                                                             if judged[t] == "yes"]
    for tag in made[::7]:
        out = ml(prod, "verify", tag)
        assert out.code in (1, 2) and "internal error" not in out.stderr, (tag, out.stderr)
