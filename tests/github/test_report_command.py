"""``mlgate report`` end to end against the emulator: comment, check run, status, deployments."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from mlgate.report import write_json
from mlgate.result import CheckResult, GateResult, Status
from tests.support.cli import run_mlgate
from tests.support.github_emulator import GitHubEmulator
from tests.support.github_emulator.fixtures import PR_HEAD

HEAD = PR_HEAD  # the pull request of the pr_event fixture
EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"


def results(tmp_path: Path, *, failing: int = 0, name: str = "model.json") -> Path:
    gate = GateResult(gate="model", checks=[CheckResult("auc", Status.PASS, "auc ok", 0.9, 0.8)])
    for i in range(failing):
        gate.add(CheckResult(f"slice {i}", Status.FAIL, f"slice {i} too low",
                             location={"file": "data/holdout.csv", "line": i + 2}))
    gate.add(CheckResult("note", Status.WARN, "without location"))
    path = tmp_path / name
    write_json(path, [gate], "gate-model")
    return path


def test_sticky_comment_created_once_then_updated(
    tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int
) -> None:
    github_emulator.add_comment(pr_event, "octocat", "unrelated human comment")
    first = run_mlgate(["report", "--results", results(tmp_path), "--pr-comment"])
    assert first.code == 0, first.stderr
    second = run_mlgate(["report", "--results", results(tmp_path, failing=1), "--pr-comment"])
    assert second.code == 1, second.stderr  # exit code follows the gates
    ours = [c for c in github_emulator.comments_on(pr_event)
            if c["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1
    body = ours[0]["body"]
    assert body.startswith("<!-- mlgate:ml-pr-gate:default -->")  # no artifact named: default
    assert "slice 0 too low" in body  # the second run's content
    assert "/actions/runs/555" in body
    assert len(github_emulator.requests("POST", "/repos/*/issues/12/comments")) == 1
    assert len(github_emulator.requests("PATCH", "/repos/*/issues/comments/*")) == 1


def test_one_comment_per_artifact(tmp_path: Path, github_emulator: GitHubEmulator,
                                  pr_event: int) -> None:
    for artifact in ("churn", "fraud", "churn"):
        out = run_mlgate(["report", "--results", results(tmp_path), "--pr-comment",
                          "--artifact", artifact])
        assert out.code == 0, out.stderr
    assert len(github_emulator.comments_on(pr_event)) == 2


def test_check_run_follows_gates_with_annotations(
    tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int
) -> None:
    out = run_mlgate(["report", "--results", results(tmp_path, failing=120), "--check-run",
                      "--json", tmp_path / "out.json"])
    assert out.code == 1
    (run,) = github_emulator.check_runs.values()
    assert run["name"] == "mlgate"  # no mlgate.yaml and no --artifact: just "mlgate"
    assert run["head_sha"] == HEAD  # the PR head, not the merge commit in GITHUB_SHA
    assert run["conclusion"] == "failure"
    assert run["output"]["title"].startswith("120 of 122 checks failed")
    notes = github_emulator.annotations(run["id"])
    assert len(notes) == 120  # batched by 50: one POST + two PATCHes
    assert {n["path"] for n in notes} == {"data/holdout.csv"}
    assert notes[0]["start_line"] == 2 and notes[0]["annotation_level"] == "failure"
    assert len(github_emulator.requests("PATCH", "/repos/*/check-runs/*")) == 2
    report = json.loads((tmp_path / "out.json").read_text())
    github_gate = next(g for g in report["gates"] if g["gate"] == "github")
    assert github_gate["data"]["outputs"]["check_run_id"] == run["id"]


def test_check_run_success_and_neutral(tmp_path: Path, github_emulator: GitHubEmulator,
                                       pr_event: int) -> None:
    passing = tmp_path / "pass.json"
    write_json(passing, [GateResult("data", [CheckResult("rows", Status.PASS)])], "x")
    warning = tmp_path / "warn.json"
    write_json(warning, [GateResult("data", [CheckResult("drift", Status.WARN)])], "x")
    assert run_mlgate(["report", "--results", passing, "--check-run"]).code == 0
    assert run_mlgate(["report", "--results", warning, "--check-run"]).code == 0
    assert [r["conclusion"] for r in github_emulator.check_runs.values()] == ["success", "neutral"]


def test_huge_summary_is_trimmed_to_github_limit(
    tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int
) -> None:
    gate = GateResult("data", [CheckResult(f"c{i}", Status.PASS, "x" * 300) for i in range(400)])
    path = tmp_path / "big.json"
    write_json(path, [gate], "x")
    out = run_mlgate(["report", "--results", path, "--check-run", "--pr-comment"])
    assert out.code == 0, out.stderr
    (run,) = github_emulator.check_runs.values()
    assert len(run["output"]["summary"]) <= 65535
    assert "trimmed" in run["output"]["summary"]


def test_commit_status(tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int) -> None:
    out = run_mlgate(["report", "--results", results(tmp_path, failing=2), "--commit-status"])
    assert out.code == 1
    (status,) = github_emulator.statuses_for(HEAD)
    assert status["state"] == "failure"
    assert status["context"] == "mlgate"
    assert status["description"] == "failed: model: 2 failed"
    assert status["target_url"].endswith("/actions/runs/555")


def test_results_directory_from_mlgate_run(tmp_path: Path, github_emulator: GitHubEmulator,
                                           pr_event: int) -> None:
    results_dir = tmp_path / "pr"
    results(results_dir, name="model.json")
    write_json(results_dir / "report.json",
               [GateResult("data", [CheckResult("rows", Status.PASS)])], "run")
    out = run_mlgate(["report", "--results", results_dir, "--check-run"])
    assert out.code == 0, out.stderr
    (run,) = github_emulator.check_runs.values()
    summary = run["output"]["summary"]  # report.json wins over the per-stage files
    assert "rows" in summary and "slice 0" not in summary


def test_config_section_switches_targets_on(tmp_path: Path, github_emulator: GitHubEmulator,
                                            pr_event: int) -> None:
    config = tmp_path / "mlgate.yaml"
    config.write_text("version: 1\nproject: churn\ngithub:\n  pr_comment: false\n"
                      "  commit_status: true\n  status_context: ml/churn\n")
    out = run_mlgate(["report", "--results", results(tmp_path), "--config", config])
    assert out.code == 0, out.stderr
    assert github_emulator.comments_on(pr_event) == []
    assert len(github_emulator.check_runs) == 1  # check_run defaults to true
    assert [s["context"] for s in github_emulator.statuses_for(HEAD)] == ["ml/churn"]


def test_deployment_lifecycle(tmp_path: Path, github_emulator: GitHubEmulator,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SHA", HEAD)
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    report = results(tmp_path)
    for env, state in (("staging", "in_progress"), ("staging", None), ("production", None)):
        args = ["report", "--results", report, "--deployment", env]
        if state:
            args += ["--deployment-state", state]
        out = run_mlgate(args)
        assert out.code == 0, out.stderr
    deployments = list(github_emulator.deployments.values())
    assert [d["environment"] for d in deployments] == ["staging", "production"]
    assert deployments[1]["production_environment"] is True
    staging = github_emulator.deployment_statuses[deployments[0]["id"]]
    assert [s["state"] for s in staging] == ["success", "in_progress"]  # newest first
    assert staging[0]["log_url"].endswith("/actions/runs/77")
    # A second staging success makes the first deployment inactive.
    other = tmp_path / "o"
    other.mkdir()
    monkeypatch.setenv("GITHUB_SHA", "d" * 40)
    assert run_mlgate(["report", "--results", report, "--deployment", "staging"]).code == 0
    assert github_emulator.deployment_statuses[deployments[0]["id"]][0]["state"] == "inactive"


def test_failed_gates_record_failed_deployment(tmp_path: Path, github_emulator: GitHubEmulator,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SHA", HEAD)
    out = run_mlgate(["report", "--results", results(tmp_path, failing=1),
                      "--deployment", "production"])
    assert out.code == 1
    (dep,) = github_emulator.deployments.values()
    assert github_emulator.deployment_statuses[dep["id"]][0]["state"] == "failure"


# -- bad input: exit 2 and one line naming what to fix -------------------------------------------


def test_no_token(tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int) -> None:
    out = run_mlgate(["report", "--results", results(tmp_path), "--pr-comment"],
                     env={"GITHUB_TOKEN": None})
    assert out.code == 2
    assert out.error_line.startswith("mlgate: error: GITHUB_TOKEN: no GitHub token")
    assert github_emulator.log == []


def test_missing_permission_names_permissions_entry(
    tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int
) -> None:
    token = github_emulator.restricted_token(checks="read")
    out = run_mlgate(["report", "--results", results(tmp_path), "--check-run"],
                     env={"GITHUB_TOKEN": token})
    assert out.code == 2
    assert "POST /repos/octo-org/churn/check-runs" in out.error_line
    assert "Resource not accessible by integration" in out.error_line
    assert "`checks: write`" in out.error_line and "permissions:" in out.error_line
    assert token not in out.stdout + out.stderr


@pytest.mark.parametrize(("flags", "token", "call", "entry"), [
    # The reads a feature makes before its write name the write: one edit fixes the step.
    (["--pr-comment"], {"pull_requests": "none", "issues": "none"},
     "GET /repos/octo-org/churn/pulls/12", "pull-requests: write"),
    (["--pr-comment"], {"pull_requests": "read", "issues": "none"},
     "POST /repos/octo-org/churn/issues/12/comments", "pull-requests: write"),
    (["--deployment", "production"], {"deployments": "none"},
     "GET /repos/octo-org/churn/deployments", "deployments: write"),
    (["--deployment", "production"], {"deployments": "read"},
     "POST /repos/octo-org/churn/deployments", "deployments: write"),
    (["--commit-status"], {"statuses": "read"},
     f"POST /repos/octo-org/churn/statuses/{HEAD}", "statuses: write"),
    (["--check-run"], {"checks": "none"}, "POST /repos/octo-org/churn/check-runs",
     "checks: write"),
])
def test_403_names_the_permission_the_feature_needs(
    tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int, flags: list[str],
    token: dict[str, str], call: str, entry: str
) -> None:
    restricted = github_emulator.restricted_token(**token)
    out = run_mlgate(["report", "--results", results(tmp_path), *flags],
                     env={"GITHUB_TOKEN": restricted})
    assert out.code == 2, out.stdout + out.stderr
    assert out.error_line.startswith(f"mlgate: error: GitHub API {call}: GitHub answered 403 ")
    assert out.error_line.endswith(f"add `{entry}` to the workflow's `permissions:`")


def test_pr_comment_on_an_updated_comment_names_write(
    tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int
) -> None:
    assert run_mlgate(["report", "--results", results(tmp_path), "--pr-comment"]).code == 0
    restricted = github_emulator.restricted_token(pull_requests="read", issues="none")
    out = run_mlgate(["report", "--results", results(tmp_path, failing=1), "--pr-comment"],
                     env={"GITHUB_TOKEN": restricted})
    assert out.code == 2
    assert "PATCH /repos/octo-org/churn/issues/comments/" in out.error_line
    assert out.error_line.endswith("add `pull-requests: write` to the workflow's `permissions:`")


def test_pr_that_no_longer_exists(tmp_path: Path, github_emulator: GitHubEmulator) -> None:
    out = run_mlgate(["report", "--results", results(tmp_path), "--pr-comment", "--pr", "404"])
    assert out.code == 2
    assert "pull request #404 does not exist in octo-org/churn" in out.error_line
    assert "GET /repos/octo-org/churn/pulls/404" in out.error_line


def test_github_down(tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    out = run_mlgate(["report", "--results", results(tmp_path), "--check-run"],
                     env={"GITHUB_API_URL": closed, "MLGATE_GITHUB_BACKOFF_S": "0.01"})
    assert out.code == 2
    assert f"cannot reach GitHub at {closed} after 4 attempt(s)" in out.error_line
    assert "POST /repos/octo-org/churn/check-runs" in out.error_line


@pytest.mark.parametrize("url", ["not a url", "ftp://x", "http://", "https://:443",
                                 "http://api.example:port", "http://[1:2/"])
def test_malformed_github_api_url_is_bad_input(
    tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int, url: str
) -> None:
    out = run_mlgate(["report", "--results", results(tmp_path), "--check-run"],
                     env={"GITHUB_API_URL": url})
    assert out.code == 2, out.stderr  # was 3: an internal error from inside requests
    assert out.error_line == (f"mlgate: error: GITHUB_API_URL: expected an http(s) URL with a "
                              f"host, like https://api.github.com, got {url!r}")
    assert github_emulator.requests() == []  # refused before any call


def test_github_api_url_with_credentials_is_refused_without_echoing_them(
    tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int
) -> None:
    url = github_emulator.url.replace("http://", "http://x-access-token:hunter2secret@")
    out = run_mlgate(["report", "--results", results(tmp_path), "--check-run"],
                     env={"GITHUB_API_URL": url})
    assert out.code == 2
    assert out.error_line.startswith("mlgate: error: GITHUB_API_URL: must not contain "
                                     "credentials")
    assert "hunter2secret" not in out.stdout + out.stderr
    assert github_emulator.requests() == []


def test_github_500s_exhaust_retries(tmp_path: Path, github_emulator: GitHubEmulator,
                                     pr_event: int) -> None:
    github_emulator.inject("POST", "/repos/*/check-runs", 503, times=10)
    out = run_mlgate(["report", "--results", results(tmp_path), "--check-run"],
                     env={"MLGATE_GITHUB_BACKOFF_S": "0.01"})
    assert out.code == 2
    assert "answered 503 'Service Unavailable'" in out.error_line
    assert len(github_emulator.requests("POST", "/repos/*/check-runs")) == 4


def test_comment_without_pull_request(tmp_path: Path, github_emulator: GitHubEmulator) -> None:
    out = run_mlgate(["report", "--results", results(tmp_path), "--pr-comment"])
    assert out.code == 2
    assert out.error_line == ("mlgate: error: --pr-comment: no pull request: run on a "
                              "pull_request event or pass --pr N")


def test_results_not_found(tmp_path: Path) -> None:
    out = run_mlgate(["report", "--results", tmp_path / "nope"])
    assert out.code == 2
    assert out.error_line.endswith("nope: no such file or directory")


def test_results_not_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    out = run_mlgate(["report", "--results", bad])
    assert out.code == 2
    assert "x.json: not an mlgate report" in out.error_line


def test_bad_deployment_environment(tmp_path: Path, github_emulator: GitHubEmulator) -> None:
    out = run_mlgate(["report", "--results", results(tmp_path), "--deployment", "../prod",
                      "--sha", HEAD])
    assert out.code == 2
    assert out.error_line.startswith("mlgate: error: --deployment: not a valid environment")


def test_summary_printed_outside_actions(tmp_path: Path, clean_github_env: None) -> None:
    out = run_mlgate(["report", "--results", results(tmp_path, failing=1), "--summary"])
    assert out.code == 1
    assert "## ❌ mlgate: fail" in out.stdout


@pytest.mark.parametrize("change", [
    lambda g: g.update(gate={"x": 1}),
    lambda g: g["checks"][0].update(status="maybe"),
    lambda g: g["checks"][0].update(name=["a", "list"]),
    lambda g: g.update(tables=[{"title": 3, "columns": [], "rows": []}]),
])
def test_a_report_of_the_wrong_shape_is_bad_input(tmp_path: Path, change: Any) -> None:
    """Reports come from anywhere (--results, --evidence): a wrong shape is exit 2, not a crash."""
    path = results(tmp_path)
    doc = json.loads(path.read_text())
    change(doc["gates"][0])
    path.write_text(json.dumps(doc))
    out = run_mlgate(["report", "--results", str(path), "--summary"])
    assert out.code == 2, out.stderr
    assert out.error_line.startswith(f"mlgate: error: {path}: malformed mlgate report: ")


@pytest.mark.parametrize("field", ["number", "pull_request.number"])
def test_an_event_payload_number_that_is_not_one(tmp_path: Path, github_emulator: GitHubEmulator,
                                                 field: str) -> None:
    payload = json.loads((EVENTS / "pull_request.synchronize.json").read_text())
    if field == "number":
        payload["number"], payload["pull_request"]["number"] = "abc", None
    else:
        payload["pull_request"]["number"] = "12; rm -rf /"
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    out = run_mlgate(["report", "--results", str(results(tmp_path)), "--pr-comment"],
                     env=github_emulator.env(GITHUB_EVENT_NAME="pull_request",
                                             GITHUB_EVENT_PATH=str(event)))
    assert out.code == 2, out.stderr
    assert out.error_line.startswith(
        f"mlgate: error: GITHUB_EVENT_PATH: event payload field {field}: expected a number")


def test_names_follow_the_artifact_not_the_gates(tmp_path: Path, github_emulator: GitHubEmulator,
                                                 pr_event: int) -> None:
    """Turning the load test on must not make a second comment or rename the required check:
    both are named after the artifact (mlgate.yaml's project), whatever gates ran."""
    (tmp_path / "mlgate.yaml").write_text("version: 1\nproject: churn\n")
    two = tmp_path / "two"
    write_json(two / "report.json", [GateResult("data", [CheckResult("rows", Status.PASS)]),
                                     GateResult("model", [CheckResult("auc", Status.PASS)])],
               "run")
    three = tmp_path / "three"
    write_json(three / "report.json", [GateResult(g, [CheckResult("ok", Status.PASS)])
                                       for g in ("data", "model", "load")], "run")
    for results_dir in (two, three):
        out = run_mlgate(["report", "--results", results_dir, "--pr-comment", "--check-run"],
                         cwd=tmp_path)
        assert out.code == 0, out.stderr
    assert len(github_emulator.comments_on(pr_event)) == 1
    assert {r["name"] for r in github_emulator.check_runs.values()} == {"mlgate / churn"}
    (comment,) = github_emulator.comments_on(pr_event)
    assert comment["body"].startswith("<!-- mlgate:ml-pr-gate:churn -->")


def test_verdict_lands_on_the_gated_commit_when_the_head_moves(
        tmp_path: Path, github_emulator: GitHubEmulator, pr_event: int) -> None:
    """A push while the gates ran: the PR's head is now another commit, but this run's check
    run and status belong to the commit the event named, which is what was gated."""
    github_emulator.add_pull(pr_event, "beef" + "0" * 36)  # the PR moved on
    out = run_mlgate(["report", "--results", results(tmp_path), "--pr-comment", "--check-run",
                      "--commit-status"])
    assert out.code == 0, out.stderr
    (run,) = github_emulator.check_runs.values()
    assert run["head_sha"] == HEAD
    assert [s["context"] for s in github_emulator.statuses_for(HEAD)] == ["mlgate"]
    assert github_emulator.statuses_for("beef" + "0" * 36) == []
