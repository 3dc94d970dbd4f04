"""Each composite action, run step by step as the runner would, on the example repository:
green on the example, red on a broken copy, with the outputs and job summary it promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.actions.harness import ROOT, Runner
from tests.support.repos import git, use_local_approvals

ACTIONS = ROOT / "actions"


@pytest.fixture
def runner(churn_repo: Path) -> Runner:
    return Runner(churn_repo, github={"sha": git("rev-parse", "HEAD", cwd=churn_repo)})


def explain(runner: Runner) -> str:
    return "\n".join(runner.log)


def test_validate_data_green(runner: Runner) -> None:
    run = runner.run_action(ACTIONS / "validate-data")
    assert run.ok, explain(runner)
    assert run.outputs["status"] == "pass"
    assert run.outputs["exit-code"] == "0"
    report = Path(run.outputs["report"])
    assert report.parent == runner.temp / "mlgate-results"
    assert json.loads(report.read_text())  # the JSON report is there
    assert "mlgate validate-data" in runner.summary  # the job summary


def drop_column(csv: Path, column: str) -> None:
    lines = csv.read_text().splitlines()
    drop = lines[0].split(",").index(column)
    csv.write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop)
                             for line in lines) + "\n")


def test_validate_data_red_on_a_dropped_column(runner: Runner, churn_repo: Path) -> None:
    drop_column(churn_repo / "data" / "holdout.csv", "monthly_charges")
    run = runner.run_action(ACTIONS / "validate-data")
    assert not run.ok
    assert run.outputs["status"] == "fail"
    assert run.outputs["exit-code"] == "1"
    assert "monthly_charges" in explain(runner)
    # fail-on-gate: false lets the job go on (to the report), the status still says fail.
    run = runner.run_action(ACTIONS / "validate-data", {"fail-on-gate": "false"})
    assert run.ok, explain(runner)
    assert run.outputs["status"] == "fail"


def test_validate_data_bad_input_is_an_error(runner: Runner) -> None:
    run = runner.run_action(ACTIONS / "validate-data", {"data": "data/missing.csv"})
    assert not run.ok
    assert run.outputs["status"] == "error"
    assert run.outputs["exit-code"] == "2"
    assert "data/missing.csv" in explain(runner)


@pytest.mark.slow
def test_gate_model_green_and_red(runner: Runner, churn_repo: Path) -> None:
    run = runner.run_action(ACTIONS / "gate-model")
    assert run.ok, explain(runner)
    assert run.outputs["status"] == "pass"
    # A model trained on 5% of the rows is worse than the champion: the gate blocks it.
    from tests.support.repos import train_candidate

    train_candidate(churn_repo, churn_repo / "models" / "candidate.skops", fraction=0.05)
    run = runner.run_action(ACTIONS / "gate-model")
    assert not run.ok
    assert run.outputs["status"] == "fail"


@pytest.mark.slow
def test_load_test_green_and_red(runner: Runner) -> None:
    # The example's `load:` section serves the candidate with `mlgate serve`.
    inputs = {"rate": "20", "duration": "1s"}
    run = runner.run_action(ACTIONS / "load-test", inputs)
    assert run.ok, explain(runner)
    assert run.outputs["status"] == "pass"
    run = runner.run_action(ACTIONS / "load-test", {**inputs, "slo": "p50<0.001ms\n"})
    assert not run.ok
    assert run.outputs["status"] == "fail"


def test_register_and_promote(runner: Runner, churn_repo: Path) -> None:
    use_local_approvals(churn_repo)  # no GitHub environment reviews in this test
    for gate in ("validate-data", "gate-model"):
        assert runner.run_action(ACTIONS / gate).ok, explain(runner)
    run = runner.run_action(ACTIONS / "register", {"name": "churn", "bump": "patch"})
    assert run.ok, explain(runner)
    assert run.outputs["version"] == "v0.0.1"
    assert run.outputs["tag"] == "churn@v0.0.1"
    origin = churn_repo.parent / "origin.git"
    assert "refs/tags/churn@v0.0.1" in git("ls-remote", "--tags", str(origin), cwd=churn_repo)
    run = runner.run_action(ACTIONS / "promote", {"version": "v0.0.1", "to": "staging"})
    assert run.ok, explain(runner)
    assert run.outputs["tag"].startswith("churn#staging#")
    # Production needs an approval the example's policy accepts: refused without it.
    run = runner.run_action(ACTIONS / "promote", {"version": "v0.0.1", "to": "production"})
    assert not run.ok
    assert run.outputs["status"] == "fail"
    run = runner.run_action(ACTIONS / "promote", {"version": "v0.0.1", "to": "production",
                                                  "approvals": "github"})
    assert not run.ok and run.outputs["status"] == "error"  # the policy says local
    assert "takes approvals from 'local' only" in explain(runner)
    run = runner.run_action(ACTIONS / "promote", {"version": "v0.0.1", "to": "production",
                                                  "approvals": "local",
                                                  "approved-by": "alice"})
    assert run.ok, explain(runner)
    assert "#production#" in git("ls-remote", "--tags", str(origin), cwd=churn_repo)


def test_register_red_on_a_missing_evidence_file(runner: Runner) -> None:
    run = runner.run_action(ACTIONS / "register", {"evidence": "nothing-here/*.json"})
    assert not run.ok
    assert run.outputs["status"] == "error"
    assert "nothing-here" in explain(runner)


def test_report_on_the_emulator(runner: Runner, churn_repo: Path, github_emulator) -> None:
    head = runner.github["sha"]
    github_emulator.add_pull(12, head_sha=head)
    event = {"action": "synchronize", "number": 12,
             "pull_request": {"number": 12, "head": {"sha": head, "ref": "feature"}},
             "repository": {"full_name": github_emulator.repository}}
    gh = Runner(churn_repo, github={
        "sha": head, "event_name": "pull_request", "event": event,
        "api_url": github_emulator.url, "token": github_emulator.token,
        "repository": github_emulator.repository, "ref": "refs/pull/12/merge"})
    assert gh.run_action(ACTIONS / "validate-data").ok, explain(gh)
    for _ in range(2):  # a second push edits the same sticky comment
        run = gh.run_action(ACTIONS / "report", {"pr-comment": "true", "check-run": "true",
                                                 "commit-status": "true"})
        assert run.ok, explain(gh)
        assert run.outputs["status"] == "pass"
    comments = github_emulator.comments_on(12)
    assert len(comments) == 1
    assert "validate-data" in comments[0]["body"] or "data" in comments[0]["body"]
    # The HTML report went up as an artifact and the comment links it.
    assert "Full report: [report.html](<https://github.com/" in comments[0]["body"]
    artifact = gh.artifacts_dir / "mlgate-report-harness"
    assert "Evidence" in (artifact / "report.html").read_text(encoding="utf-8")
    assert [c["conclusion"] for c in github_emulator.check_runs.values()] == ["success"] * 2
    assert github_emulator.statuses_for(head)


def test_report_red_without_permission(churn_repo: Path, github_emulator) -> None:
    head = git("rev-parse", "HEAD", cwd=churn_repo)
    token = github_emulator.restricted_token(checks="read")
    gh = Runner(churn_repo, github={"sha": head, "api_url": github_emulator.url,
                                    "token": token, "repository": github_emulator.repository})
    from mlgate.report import write_json
    from mlgate.result import CheckResult, GateResult, Status

    results = gh.temp / "mlgate-results"
    results.mkdir()
    write_json(results / "validate-data.json",
               [GateResult("data", [CheckResult("rows", Status.PASS)])], "validate-data")
    run = gh.run_action(ACTIONS / "report", {"check-run": "true"})
    assert not run.ok
    assert run.outputs["status"] == "error"
    assert "checks: write" in explain(gh)


# -- setup ------------------------------------------------------------------------------------
# The real, hash-checked install from the runner's layout is in test_setup.py (slow); these run
# the action on the fixture's environment, as on a restored cache.

def test_setup_cache_hit_skips_the_install(setup_from_checkout, tmp_path: Path) -> None:
    from mlgate import __version__

    runner = Runner(tmp_path, env={"PIP_NO_INDEX": "1"})
    run = runner.run_action(ACTIONS / "setup", {"python-version": "",
                                                "venv": str(setup_from_checkout.venv)})
    assert run.ok, explain(runner)
    assert run.outputs["cache-hit"] == "true"
    assert run.outputs["version"] == __version__
    assert run.outputs["bin"] == str(setup_from_checkout.venv / "bin")
    assert run.outputs["lock"] == str(ACTIONS / "setup" / "lock" / "base.txt")
    assert runner.job_path[0] == str(setup_from_checkout.venv / "bin")  # GITHUB_PATH
    assert "skip python" in explain(runner)  # no setup-python with python-version: ""
    assert "restored from the cache" in explain(runner)
    assert "pip" not in explain(runner)  # nothing was installed
    assert f"mlgate {__version__} is ready" in runner.summary


@pytest.mark.parametrize(("key", "cache", "why"), [
    ("another-tree", "true", "(another key)"),
    (None, "false", "(cache is false)"),
], ids=["another-key", "cache-false"])
def test_setup_reinstalls_an_environment_it_may_not_trust(
        setup_from_checkout, tmp_path: Path, key: str | None, cache: str, why: str) -> None:
    """An environment recorded for another tree, lock or version is never used as it is, and
    with cache: "false" (release jobs) not even one recorded for this very key."""
    import shutil

    venv = tmp_path / "venv"
    shutil.copytree(setup_from_checkout.venv, venv, symlinks=True)
    if key is not None:
        record = json.loads((venv / "mlgate-setup.json").read_text())
        (venv / "mlgate-setup.json").write_text(json.dumps({**record, "key": key}))
    runner = Runner(tmp_path, env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path)})
    run = runner.run_action(ACTIONS / "setup", {"python-version": "", "venv": str(venv),
                                                "cache": cache})
    # setup starts a fresh install, which cannot get the locked build backend here (no index).
    assert not run.ok
    assert f"not reusing the environment in {venv} {why}" in explain(runner)
    assert "restored from the cache" not in explain(runner)
    assert "install --require-hashes --only-binary :all: --target" in explain(runner)
    assert "installing the build backend failed" in explain(runner)


def test_setup_red_on_a_bad_source(setup_from_checkout, tmp_path: Path) -> None:
    runner = Runner(tmp_path)
    run = runner.run_action(ACTIONS / "setup", {"source": str(tmp_path / "no-such-dir"),
                                                "python-version": "", "cache": "false",
                                                "venv": str(setup_from_checkout.venv)})
    assert not run.ok
    assert run.outputs["version"] == ""
    assert "is not a checkout of mlgate (no pyproject.toml)" in explain(runner)


@pytest.mark.parametrize(("inputs", "message"), [
    ({"extras": "parquet,nope"}, "unknown extra(s) nope: this mlgate has "),
    ({"extras": "dev"}, "unknown extra(s) dev"),
    ({"version": "0.2.0", "source": "."}, "set version or source, not both"),
    ({"version": "latest; rm -rf /"}, "is not a version number"),
    ({"venv": "/tmp/v\nkey=forged"}, "a line break in"),
])
def test_setup_red_on_bad_inputs(tmp_path: Path, inputs: dict[str, str], message: str) -> None:
    runner = Runner(tmp_path, env={"PIP_NO_INDEX": "1"})
    run = runner.run_action(ACTIONS / "setup", {"python-version": "", "cache": "false",
                                                "venv": str(tmp_path / "venv"), **inputs})
    assert not run.ok
    assert [s.outcome for s in run.steps if s.id == "install"] == ["skipped"]
    assert message in explain(runner)
