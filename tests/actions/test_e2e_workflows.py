"""End to end: the reusable PR gate workflow, then the release workflow, job by job and step by
step through the harness, on the example repository, against the GitHub API emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.actions.harness import ROOT, Runner
from tests.support.repos import git

WORKFLOWS = ROOT / ".github" / "workflows"


def explain(runner: Runner) -> str:
    return "\n".join(runner.log)


@pytest.mark.slow
def test_pr_gate_then_release(churn_repo: Path, github_emulator, setup_from_checkout) -> None:
    head = git("rev-parse", "HEAD", cwd=churn_repo)
    origin = churn_repo.parent / "origin.git"
    # The release jobs say cache: "false"; here the prepared venv stands in for an
    # install, so every setup takes it as restored (cache: "true").
    setup = {"venv": str(setup_from_checkout.venv), "python-version": "", "cache": "true"}
    common = {"api_url": github_emulator.url, "token": github_emulator.token,
              "repository": github_emulator.repository, "actor": "octocat"}

    # 1. The pull request: data gate, model gate, one sticky comment, a check run, a status.
    github_emulator.add_pull(5, head_sha=head)
    event = {"action": "opened", "number": 5,
             "pull_request": {"number": 5, "head": {"sha": head, "ref": "feature"}},
             "repository": {"full_name": github_emulator.repository}}
    pr = Runner(churn_repo, github={**common, "sha": head, "event_name": "pull_request",
                                    "event": event, "ref": "refs/pull/5/merge",
                                    "run_id": "101"},
                input_overrides={"setup": setup})
    jobs = pr.run_workflow(WORKFLOWS / "ml-pr-gate.yml")
    gate = jobs["gate"]
    assert gate.outcome == "success", explain(pr)
    assert gate.outputs["status"] == "pass"
    ran = {s.id: s.outcome for s in gate.steps}
    # mlgate.yaml's pipeline.pr decides: [data, model, load]; no training section, no training.
    assert ran["data"] == ran["model"] == ran["load"] == ran["report"] == "success"
    assert ran["train"] == "skipped"
    assert jobs["train"].outcome == "success"
    assert {s.id: s.outcome for s in jobs["train"].steps}["train"] == "skipped"
    comments = github_emulator.comments_on(5)
    assert len(comments) == 1
    assert [c["conclusion"] for c in github_emulator.check_runs.values()] == ["success"]
    assert github_emulator.statuses_for(head)
    assert "mlgate validate-data" in pr.summary and "mlgate gate-model" in pr.summary

    # 2. The release after merge: register, staging, then production once a reviewer approved.
    github_emulator.add_environment("production", reviewers=["alice"])
    waited: list[str] = []

    def reviewers_approve(job: str, environment: str) -> None:
        waited.append(environment)
        if environment == "production":
            github_emulator.add_run_approval(202, "alice", comment="ship it",
                                             environments=["production"])

    release = Runner(churn_repo, github={**common, "sha": head, "event_name": "push",
                                         "event": {"ref": "refs/heads/main", "after": head},
                                         "run_id": "202"},
                     input_overrides={"setup": setup}, on_environment=reviewers_approve)
    jobs = release.run_workflow(WORKFLOWS / "ml-release.yml")  # name, artifact: mlgate.yaml
    assert [j.outcome for j in jobs.values()] == ["success"] * 4, explain(release)
    assert list(jobs) == ["train", "register", "staging", "production"]
    assert waited == ["staging", "production"]
    # ledger.bump (minor) decides, not a workflow default; no train section, no training.
    assert jobs["register"].outputs == {"name": "churn", "version": "v0.1.0",
                                        "tag": "churn@v0.1.0"}
    staging_tag, production_tag = jobs["staging"].outputs["tag"], jobs["production"].outputs["tag"]
    assert staging_tag.startswith("churn#staging#")
    assert production_tag.startswith("churn#production#")

    # The ledger is in the bare origin, and production's tag names its approver.
    tags = git("ls-remote", "--tags", str(origin), cwd=churn_repo)
    for tag in ("churn@v0.1.0", staging_tag, production_tag):
        assert f"refs/tags/{tag}" in tags
    git("fetch", "--quiet", "origin", "+refs/tags/*:refs/tags/*", cwd=churn_repo)
    message = git("tag", "-l", "--format=%(contents)", production_tag, cwd=churn_repo)
    record = json.loads(message[message.index("{"):])
    assert "alice" in json.dumps(record)
    assert "ship it" in json.dumps(record)
    # Deployment statuses for both environments were reported.
    environments = {d["environment"] for d in github_emulator.deployments.values()}
    assert {"staging", "production"} <= environments


@pytest.mark.slow
def test_release_without_approval_never_reaches_production(
        churn_repo: Path, github_emulator, setup_from_checkout) -> None:
    """Nobody approved the production environment's deployment: promote refuses, no tag."""
    head = git("rev-parse", "HEAD", cwd=churn_repo)
    release = Runner(churn_repo, github={
        "sha": head, "event_name": "push", "run_id": "303", "api_url": github_emulator.url,
        "token": github_emulator.token, "repository": github_emulator.repository},
        input_overrides={"setup": {"venv": str(setup_from_checkout.venv),
                                   "python-version": "", "cache": "true"}})
    github_emulator.add_run(303, head_sha=head)
    jobs = release.run_workflow(WORKFLOWS / "ml-release.yml",
                                {"model": "churn", "artifact": "models/candidate.skops"})
    assert jobs["register"].outcome == "success", explain(release)
    assert jobs["staging"].outcome == "success", explain(release)
    assert jobs["production"].outcome == "failure"
    promote = next(s for s in jobs["production"].steps if s.id == "promote")
    assert promote.outputs["status"] == "fail"
    tags = git("ls-remote", "--tags", str(churn_repo.parent / "origin.git"), cwd=churn_repo)
    assert "churn@v0.1.0" in tags and "churn#staging#" in tags
    assert "#production#" not in tags


@pytest.mark.slow
def test_release_skips_production_when_staging_fails(
        churn_repo: Path, github_emulator, setup_from_checkout) -> None:
    """Without the gates' evidence no version is registered (staging, the first stage, requires
    them, so none is left stranded), and neither stage starts (needs)."""
    head = git("rev-parse", "HEAD", cwd=churn_repo)
    push = {"ref": "refs/heads/main", "after": head, "repository": {"default_branch": "main"}}
    release = Runner(churn_repo, github={
        "sha": head, "event_name": "push", "event": push, "run_id": "404",
        "api_url": github_emulator.url,
        "token": github_emulator.token, "repository": github_emulator.repository},
        input_overrides={"setup": {"venv": str(setup_from_checkout.venv),
                                   "python-version": "", "cache": "true"}})
    jobs = release.run_workflow(WORKFLOWS / "ml-release.yml",
                                {"model": "churn", "artifact": "models/candidate.skops",
                                 "gates": "false"})
    assert jobs["register"].outcome == "failure", explain(release)
    assert "staging (the first stage) requires data, model" in explain(release)
    assert jobs["staging"].outcome == "skipped"
    assert jobs["production"].outcome == "skipped"
    assert "churn@" not in git("tag", "--list", cwd=churn_repo)


@pytest.mark.slow
def test_pr_gate_red_on_a_broken_copy(churn_repo: Path, github_emulator,
                                      setup_from_checkout) -> None:
    """A dropped column: the data gate fails, the PR still gets its comment and a failed check
    run, and the job fails at the verdict."""
    holdout = churn_repo / "data" / "holdout.csv"
    lines = holdout.read_text().splitlines()
    drop = lines[0].split(",").index("tenure_months")
    holdout.write_text("\n".join(",".join(c for i, c in enumerate(ln.split(",")) if i != drop)
                                 for ln in lines) + "\n")
    head = git("rev-parse", "HEAD", cwd=churn_repo)
    github_emulator.add_pull(6, head_sha=head)
    event = {"action": "synchronize", "number": 6,
             "pull_request": {"number": 6, "head": {"sha": head, "ref": "feature"}}}
    pr = Runner(churn_repo, github={
        "sha": head, "event_name": "pull_request", "event": event, "run_id": "505",
        "api_url": github_emulator.url, "token": github_emulator.token,
        "repository": github_emulator.repository},
        input_overrides={"setup": {"venv": str(setup_from_checkout.venv),
                                   "python-version": "", "cache": "true"}})
    # The caller asks to skip the model gate, but this is a pull request and the default
    # branch's pipeline.pr requires it: the input is overruled (a warning), the gate runs.
    gate = pr.run_workflow(WORKFLOWS / "ml-pr-gate.yml", {"model-gate": "false"})["gate"]
    assert gate.outcome == "failure"
    steps = {s.id: s for s in gate.steps}
    assert steps["plan"].outputs["model"] == "true"
    assert "the default branch's pipeline.pr requires it" in explain(pr)
    assert steps["data"].outputs["status"] == "fail"
    assert steps["model"].outputs["status"] == "error"  # the column it needs is gone
    assert steps["report"].outcome == "success"  # published despite the failure
    assert steps["report"].outputs["status"] == "fail"
    assert gate.steps[-1].outcome == "failure"  # the verdict
    assert len(github_emulator.comments_on(6)) == 1
    assert [c["conclusion"] for c in github_emulator.check_runs.values()] == ["failure"]
    assert gate.outputs["status"] == "fail"


@pytest.mark.slow
def test_pr_gate_on_a_broken_config_reports_the_error(churn_repo: Path, github_emulator,
                                                      setup_from_checkout) -> None:
    """mlgate.yaml with a typo: the gate stops on bad input (exit 2), and the pull request
    still gets its comment and a failed check run that say what to fix, on the right line."""
    config = churn_repo / "mlgate.yaml"
    text = config.read_text()
    config.write_text(text.replace("  max_drift_share: 0.5", "  max_drift_shares: 0.5"))
    line = next(i for i, ln in enumerate(config.read_text().splitlines(), 1)
                if "max_drift_shares" in ln)
    head = git("rev-parse", "HEAD", cwd=churn_repo)
    github_emulator.add_pull(7, head_sha=head)
    event = {"action": "synchronize", "number": 7,
             "pull_request": {"number": 7, "head": {"sha": head, "ref": "feature"}}}
    pr = Runner(churn_repo, github={
        "sha": head, "event_name": "pull_request", "event": event, "run_id": "506",
        "api_url": github_emulator.url, "token": github_emulator.token,
        "repository": github_emulator.repository},
        input_overrides={"setup": {"venv": str(setup_from_checkout.venv),
                                   "python-version": ""}})
    gate = pr.run_workflow(WORKFLOWS / "ml-pr-gate.yml", {})["gate"]
    assert gate.outcome == "failure"
    steps = {s.id: s for s in gate.steps}
    assert steps["data"].outputs["status"] == "error"
    assert steps["report"].outcome == "success", explain(pr)
    runs = list(github_emulator.check_runs.values())
    assert len(runs) == 1, explain(pr)
    (run,) = runs
    assert run["conclusion"] == "failure"
    assert "max\\_drift\\_shares" in run["output"]["summary"] or (
        "max_drift_shares" in run["output"]["summary"])
    [note] = [a for a in github_emulator.annotations(run["id"]) if a["path"] == "mlgate.yaml"]
    assert note["start_line"] == line
    assert "Additional properties are not allowed" in note["message"]
    (comment,) = github_emulator.comments_on(7)
    assert "data stopped before it could judge anything" in comment["body"].replace("\\", "")


def trained_in_ci(repo: Path, command: str) -> str:
    """The example with its candidate untracked and produced by ``train.command``; the commit."""
    import re

    git("rm", "--cached", "--quiet", "models/candidate.skops", cwd=repo)
    (repo / ".gitignore").write_text("models/candidate.skops\n.mlgate/\n")
    config = repo / "mlgate.yaml"
    text = re.sub(r"pr: \[.*\]", "pr: [train, data, model]", config.read_text())
    config.write_text(text + f"train:\n  command: {command}\n")
    git("add", "-A", cwd=repo)
    git("commit", "--quiet", "-m", "train the candidate in CI", cwd=repo)
    git("push", "--quiet", "origin", "HEAD:main", cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def pr_runner(repo: Path, github_emulator, setup_from_checkout, number: int, head: str,
              run_id: str) -> Runner:
    github_emulator.add_pull(number, head_sha=head)
    event = {"action": "synchronize", "number": number,
             "pull_request": {"number": number, "head": {"sha": head, "ref": "feature"}}}
    return Runner(repo, github={
        "sha": head, "event_name": "pull_request", "event": event, "run_id": run_id,
        "ref": f"refs/pull/{number}/merge", "api_url": github_emulator.url,
        "token": github_emulator.token, "repository": github_emulator.repository},
        input_overrides={"setup": {"venv": str(setup_from_checkout.venv),
                                   "python-version": "", "cache": "true",
                                   "requirements": ""}},
        fresh_jobs=True)


@pytest.mark.slow
def test_pr_gate_trains_in_its_own_job_and_gates_what_it_handed_over(
        churn_repo: Path, github_emulator, setup_from_checkout) -> None:
    """No model is committed: the training job trains and exports, the gate job (a fresh
    machine: the work tree reset, nothing left from the training job) receives the model as an
    artifact and gates it."""
    import sys

    head = trained_in_ci(churn_repo, f"[{sys.executable}, train.py]")
    pr = pr_runner(churn_repo, github_emulator, setup_from_checkout, 8, head, "601")
    jobs = pr.run_workflow(WORKFLOWS / "ml-pr-gate.yml")
    log = explain(pr)
    assert jobs["train"].outcome == "success", log
    assert {s.id: s.outcome for s in jobs["train"].steps}["train"] == "success"
    gate = jobs["gate"]
    assert gate.outcome == "success", log
    ran = {s.id: s for s in gate.steps}
    assert ran["train"].outputs["status"] == "pass"  # received, digests match the training's
    assert ran["model"].outputs["status"] == "pass"
    assert ran["load"].outcome == "skipped"  # not in this pipeline.pr
    assert "download-artifact: mlgate-trained" in log
    (comment,) = github_emulator.comments_on(8)
    assert "train" in comment["body"]
    assert [c["conclusion"] for c in github_emulator.check_runs.values()] == ["success"]


@pytest.mark.slow
def test_pr_gate_reports_a_failed_training(churn_repo: Path, github_emulator,
                                           setup_from_checkout) -> None:
    import sys

    head = trained_in_ci(churn_repo, f"[{sys.executable}, -c, 'raise SystemExit(4)']")
    pr = pr_runner(churn_repo, github_emulator, setup_from_checkout, 9, head, "602")
    jobs = pr.run_workflow(WORKFLOWS / "ml-pr-gate.yml")
    log = explain(pr)
    assert jobs["train"].outcome == "failure", log
    gate = jobs["gate"]
    ran = {s.id: s for s in gate.steps}
    assert ran["train"].outputs["status"] == "fail", log
    assert ran["data"].outcome == ran["model"].outcome == "skipped"
    assert ran["report"].outcome == "success"
    assert gate.outcome == "failure"
    (run,) = github_emulator.check_runs.values()
    assert run["conclusion"] == "failure"
    assert "exited with 4" in run["output"]["summary"] + json.dumps(
        github_emulator.annotations(run["id"]))


@pytest.mark.slow
def test_release_trains_then_registers_the_uncommitted_model(
        churn_repo: Path, github_emulator, setup_from_checkout) -> None:
    """pipeline.release trains: the train job exports, the register job (a fresh machine)
    receives, gates and registers the model as a commit of HEAD plus the artifact."""
    import re
    import sys

    head = trained_in_ci(churn_repo, f"[{sys.executable}, train.py]")
    config = churn_repo / "mlgate.yaml"
    config.write_text(re.sub(r"release: \[.*\]", "release: [train, data, model]",
                             config.read_text()))
    git("commit", "--quiet", "-am", "release trains", cwd=churn_repo)
    git("push", "--quiet", "origin", "HEAD:main", cwd=churn_repo)
    head = git("rev-parse", "HEAD", cwd=churn_repo)
    github_emulator.add_run(707, head_sha=head)
    push = {"ref": "refs/heads/main", "after": head, "repository": {"default_branch": "main"}}
    release = Runner(churn_repo, github={
        "sha": head, "event_name": "push", "event": push, "run_id": "707",
        "api_url": github_emulator.url,
        "token": github_emulator.token, "repository": github_emulator.repository},
        input_overrides={"setup": {"venv": str(setup_from_checkout.venv),
                                   "python-version": "", "cache": "true"}},
        fresh_jobs=True)
    jobs = release.run_workflow(WORKFLOWS / "ml-release.yml")
    log = explain(release)
    assert jobs["train"].outcome == "success", log
    assert jobs["register"].outcome == "success", log
    assert jobs["register"].outputs["tag"] == "churn@v0.1.0"
    origin = churn_repo.parent / "origin.git"
    git("fetch", "--quiet", "origin", "+refs/tags/*:refs/tags/*", cwd=churn_repo)
    tagged = git("rev-parse", "churn@v0.1.0^{commit}", cwd=churn_repo)
    assert git("rev-parse", f"{tagged}^", cwd=churn_repo) == head
    assert git("ls-tree", "--name-only", tagged, "models/", cwd=churn_repo).split() == [
        "models/candidate.skops", "models/champion.skops"]
    assert "refs/tags/churn@v0.1.0" in git("ls-remote", "--tags", str(origin), cwd=churn_repo)


def starter_workflows(repo: Path, where: Path) -> tuple[Path, Path]:
    """The PR and release workflows `mlgate init` writes for ``repo`` (which has a
    requirements.txt, so every setup step installs it), saved under ``where``."""
    from mlgate.init_command import render_files

    files = render_files("churn", "main", None, requirements="requirements.txt")
    paths = []
    for rel in (".github/workflows/ml-pr.yml", ".github/workflows/ml-release.yml"):
        path = where / Path(rel).name
        path.write_text(files[rel])
        paths.append(path)
    return paths[0], paths[1]


def with_requirements(repo: Path) -> None:
    """A project requirements file the setup steps install (already satisfied here)."""
    (repo / "requirements.txt").write_text("scikit-learn\npandas\n")
    git("add", "requirements.txt", cwd=repo)
    git("commit", "--quiet", "-m", "requirements", cwd=repo)
    git("push", "--quiet", "origin", "HEAD:main", cwd=repo)


@pytest.mark.slow
def test_starter_pr_workflow_trains_apart_and_gates_what_it_received(
        churn_repo: Path, github_emulator, setup_from_checkout, tmp_path: Path) -> None:
    """`mlgate init`'s PR workflow: the train job trains with the pull request's code, the gate
    job (a fresh machine) runs `mlgate run --stage pr --receive`, which gates exactly the
    handed-over model, and reports on the gated commit."""
    import sys

    with_requirements(churn_repo)
    head = trained_in_ci(churn_repo, f"[{sys.executable}, train.py]")
    pr_path, _ = starter_workflows(churn_repo, tmp_path)
    pr = pr_runner(churn_repo, github_emulator, setup_from_checkout, 11, head, "611")
    pr.input_overrides["setup"].pop("requirements", None)
    jobs = pr.run_workflow(pr_path)
    log = explain(pr)
    assert jobs["train"].outcome == "success", log
    assert {s.id: s.outcome for s in jobs["train"].steps}["train"] == "success"
    assert jobs["gate"].outcome == "success", log
    report = json.loads((churn_repo / ".mlgate/results/pr/report.json").read_text())["gates"]
    assert [r["gate"] for r in report] == ["train", "data", "model"]
    assert any(c["name"] == "received models/candidate.skops" and c["status"] == "pass"
               for c in report[0]["checks"])
    assert log.count("::group::install the project's requirements") >= 2  # both jobs
    (comment,) = github_emulator.comments_on(11)
    assert "```mermaid" in comment["body"]  # the charts
    assert "Full report: [report.html](<https://github.com/" in comment["body"]
    assert "data-figure=" in (pr.artifacts_dir / "mlgate-report-gate" / "report.html").read_text()
    (run,) = github_emulator.check_runs.values()
    assert run["conclusion"] == "success" and run["head_sha"] == head


@pytest.mark.slow
def test_starter_release_workflow_registers_once_then_promotes(
        churn_repo: Path, github_emulator, setup_from_checkout, tmp_path: Path) -> None:
    """`mlgate init`'s release workflow: one release path. `mlgate run --stage release` gates
    and registers (no second `mlgate register`), staging and production promote that version,
    production with the environment reviewer's approval."""
    import re
    import sys

    with_requirements(churn_repo)
    trained_in_ci(churn_repo, f"[{sys.executable}, train.py]")
    config = churn_repo / "mlgate.yaml"
    config.write_text(re.sub(r"release: \[.*\]", "release: [train, data, model, register]",
                             config.read_text()))
    git("commit", "--quiet", "-am", "release: train, gates, register", cwd=churn_repo)
    git("push", "--quiet", "origin", "HEAD:main", cwd=churn_repo)
    head = git("rev-parse", "HEAD", cwd=churn_repo)
    _, release_path = starter_workflows(churn_repo, tmp_path)

    def reviewers_approve(job: str, environment: str) -> None:
        if environment == "production":
            github_emulator.add_run_approval(808, "alice", comment="ship it",
                                             environments=["production"])

    github_emulator.add_run(808, head_sha=head)
    release = Runner(churn_repo, github={
        "sha": head, "event_name": "push", "run_id": "808",
        "event": {"ref": "refs/heads/main", "after": head,
                  "repository": {"default_branch": "main"}},
        "api_url": github_emulator.url, "token": github_emulator.token,
        "repository": github_emulator.repository},
        input_overrides={"setup": {"venv": str(setup_from_checkout.venv),
                                   "python-version": "", "cache": "true"}},
        on_environment=reviewers_approve, fresh_jobs=True)
    jobs = release.run_workflow(release_path)
    log = explain(release)
    assert [j.outcome for j in jobs.values()] == ["success"] * 4, log
    assert jobs["register"].outputs == {"version": "v0.1.0"}
    origin = churn_repo.parent / "origin.git"
    tags = git("ls-remote", "--tags", str(origin), cwd=churn_repo)
    assert "refs/tags/churn@v0.1.0" in tags
    assert "refs/tags/churn#staging#" in tags and "refs/tags/churn#production#" in tags
    assert "already registered" not in log
    git("fetch", "--quiet", "origin", "+refs/tags/*:refs/tags/*", cwd=churn_repo)
    tagged = git("rev-parse", "churn@v0.1.0^{commit}", cwd=churn_repo)
    assert git("rev-parse", f"{tagged}^", cwd=churn_repo) == head  # HEAD plus the trained model
