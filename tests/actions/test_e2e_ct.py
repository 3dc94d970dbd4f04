"""End to end: the continuous-training starter workflow (`mlgate init --ct`) through the harness,
job by job on fresh machines, on the example repository with a bare origin, against the GitHub
API emulator; then the release workflow takes the candidate to production."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.actions.harness import JobRun, Runner
from tests.actions.test_e2e_workflows import explain, trained_in_ci
from tests.support.github_emulator.events import load as load_event
from tests.support.repos import commit_all, git


def ct_repository(repo: Path) -> str:
    """The example trains in CI (train.command) and pipeline.release trains, gates, registers."""
    trained_in_ci(repo, f"[{sys.executable}, train.py]")
    config = repo / "mlgate.yaml"
    config.write_text(re.sub(r"release: \[.*\]", "release: [train, data, model, register]",
                             config.read_text()))
    return commit_all(repo, "release: train, gates, register", push=True)


def workflows(where: Path) -> tuple[Path, Path]:
    """The CT and release workflows as `mlgate init --ct` and `mlgate init` write them."""
    from mlgate.init_command import render_ct, render_files

    ct, release = where / "ml-ct.yml", where / "ml-release.yml"
    ct.write_text(render_ct()[".github/workflows/ml-ct.yml"])
    release.write_text(render_files("churn", "main", None)[".github/workflows/ml-release.yml"])
    return ct, release


def dispatch_event(emulator: Any, data: str) -> dict[str, Any]:
    """GitHub's own repository_dispatch example, as a data pipeline's ``new-data`` event."""
    event = load_event("repository_dispatch")
    event.update(action="new-data", client_payload={"data": data})
    # The example's repository is octo-repo on master; these runs are on main, the default
    # branch (where repository_dispatch always runs), so mlgate trusts their code.
    event["repository"].update(full_name=emulator.repository, default_branch="main")
    return event


def repository(emulator: Any) -> dict[str, Any]:
    """The ``repository`` object every event payload carries (what mlgate reads of it)."""
    return {"full_name": emulator.repository, "default_branch": "main"}


def run_ct(repo: Path, emulator: Any, setup: Any, workflow: Path, run_id: int,
           event_name: str, event: dict[str, Any],
           inputs: dict[str, Any] | None = None) -> tuple[dict[str, JobRun], Runner]:
    head = git("rev-parse", "HEAD", cwd=repo)
    emulator.add_run(run_id, head_sha=head, event=event_name)
    runner = Runner(repo, github={
        "sha": head, "event_name": event_name, "event": event, "run_id": str(run_id),
        "ref": "refs/heads/main", "api_url": emulator.url, "token": emulator.token,
        "repository": emulator.repository},
        input_overrides={"setup": {"venv": str(setup.venv), "python-version": "",
                                   "cache": "true"}},
        fresh_jobs=True)
    return runner.run_workflow(workflow, inputs), runner


def origin_tags(repo: Path) -> list[str]:
    out = git("ls-remote", "--tags", str(repo.parent / "origin.git"), cwd=repo)
    return sorted(line.split("refs/tags/", 1)[1] for line in out.splitlines()
                  if "^{}" not in line)


def requests_issue(emulator: Any) -> list[dict[str, Any]]:
    return [i for i in emulator.issues.values()
            if i["body"].startswith("<!-- mlgate:approval-request:churn:production -->")]


@pytest.mark.slow
def test_continuous_training_end_to_end(churn_repo: Path, github_emulator,
                                        setup_from_checkout, tmp_path: Path) -> None:
    repo = churn_repo
    ct_repository(repo)
    ct, release = workflows(tmp_path)
    setup = setup_from_checkout

    # 1. A data pipeline says "new data": train, gate, register, staging, ask for approval.
    jobs, runner = run_ct(repo, github_emulator, setup, ct, 901, "repository_dispatch",
                          dispatch_event(github_emulator, "data/train.csv"))
    log = explain(runner)
    assert [j.outcome for j in jobs.values()] == ["success"] * 5, log
    assert jobs["decide"].outputs["train"] == "true"
    assert "data changed: no verified production version of churn yet" in log
    assert jobs["register"].outputs["version"] == "v0.1.0"
    staging_tag = jobs["staging"].outputs["tag"]
    assert staging_tag.startswith("churn#staging#")
    assert {"churn@v0.1.0", staging_tag} <= set(origin_tags(repo))
    [issue] = requests_issue(github_emulator)
    assert issue["title"] == "Approve churn v0.1.0 for production"
    assert f"`{staging_tag}`" in issue["body"] and "| model | pass |" in issue["body"]
    assert "gh workflow run ml-release.yml -f version=v0.1.0" in issue["body"]
    assert "actions/runs/901" in issue["body"]

    # 2. The schedule, nothing new: no training, no version, the request left as it is.
    before = origin_tags(repo)
    jobs, runner = run_ct(repo, github_emulator, setup, ct, 902, "schedule",
                          {"schedule": "23 4 * * *", "repository": repository(github_emulator)})
    log = explain(runner)
    assert jobs["decide"].outcome == "success", log
    assert jobs["decide"].outputs["train"] == "false"
    assert "data unchanged: data/train.csv is at sha256 " in log
    assert all(jobs[j].outcome == "skipped"
               for j in ("train", "register", "staging", "request-approval"))
    assert origin_tags(repo) == before
    assert not github_emulator.requests("PATCH", "*/issues/*")

    # 3. New rows arrive: a new version, and the same request now asks for it.
    train = repo / "data" / "train.csv"
    lines = train.read_text().splitlines()
    train.write_text("\n".join([*lines, *lines[1:41]]) + "\n")
    commit_all(repo, "new training data", push=True)
    jobs, runner = run_ct(repo, github_emulator, setup, ct, 903, "repository_dispatch",
                          dispatch_event(github_emulator, "data/train.csv"))
    log = explain(runner)
    assert [j.outcome for j in jobs.values()] == ["success"] * 5, log
    assert jobs["register"].outputs["version"] == "v0.2.0"
    [again] = requests_issue(github_emulator)
    assert again["number"] == issue["number"]
    assert again["title"] == "Approve churn v0.2.0 for production"
    assert "-f version=v0.2.0" in again["body"]
    assert any("v0.2.0 replaces v0.1.0" in c["body"]
               for c in github_emulator.comments_on(issue["number"]))

    # 4. The approval goes through the release workflow: v0.2.0, no training, to production.
    def reviewers_approve(job: str, environment: str) -> None:
        if environment == "production":
            github_emulator.add_run_approval(904, "alice", comment="ship it",
                                             environments=["production"])

    head = git("rev-parse", "HEAD", cwd=repo)
    github_emulator.add_run(904, head_sha=head, event="workflow_dispatch")
    approve = Runner(repo, github={
        "sha": head, "event_name": "workflow_dispatch", "run_id": "904",
        "event": {"inputs": {"version": "v0.2.0"}, "ref": "refs/heads/main",
                  "repository": repository(github_emulator)},
        "api_url": github_emulator.url, "token": github_emulator.token,
        "repository": github_emulator.repository},
        input_overrides={"setup": {"venv": str(setup.venv), "python-version": "",
                                   "cache": "true"}},
        on_environment=reviewers_approve, fresh_jobs=True)
    jobs = approve.run_workflow(release, {"version": "v0.2.0"})
    log = explain(approve)
    assert [j.outcome for j in jobs.values()] == ["success"] * 4, log
    assert {s.id: s.outcome for s in jobs["train"].steps}["train"] == "skipped"
    assert {s.id: s.outcome for s in jobs["register"].steps}["release"] == "skipped"
    production = [t for t in origin_tags(repo) if t.startswith("churn#production#")]
    assert len(production) == 1
    git("fetch", "--quiet", "origin", "+refs/tags/*:refs/tags/*", cwd=repo)
    message = git("tag", "-l", "--format=%(contents)", production[0], cwd=repo)
    record = json.loads(message[message.index("{"):])
    assert record["version"] == "v0.2.0" and "alice" in json.dumps(record["approvals"])

    # 5. A worse model (5 % of the rows), forced by hand: the gate against production's
    # champion stops it; nothing is registered, nobody is asked.
    config = repo / "mlgate.yaml"
    config.write_text(config.read_text().replace(
        f"command: [{sys.executable}, train.py]",
        f"command: [{sys.executable}, train.py, --fraction, '0.05']"))
    commit_all(repo, "train on less data", push=True)
    before = origin_tags(repo)
    patches = len(github_emulator.requests("PATCH", "*/issues/*"))
    jobs, runner = run_ct(repo, github_emulator, setup, ct, 905, "workflow_dispatch",
                          {"inputs": {"force": True}, "repository": repository(github_emulator)},
                          {"force": True})
    log = explain(runner)
    assert jobs["decide"].outputs["train"] == "true", log
    assert jobs["train"].outcome == "success", log
    assert jobs["register"].outcome == "failure", log
    steps = {s.id: s for s in jobs["register"].steps}
    assert steps["release"].outputs.get("status") == "fail", log
    assert jobs["staging"].outcome == jobs["request-approval"].outcome == "skipped"
    assert origin_tags(repo) == before
    assert len(github_emulator.requests("PATCH", "*/issues/*")) == patches
