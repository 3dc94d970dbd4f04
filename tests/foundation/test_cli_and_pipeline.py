"""The command line's contract (help, exit codes) and the stage registry of `mlgate run`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlgate import pipeline
from mlgate.config import load_config
from mlgate.errors import InputError
from mlgate.result import CheckResult, GateResult, Status
from tests.support.cli import run_mlgate

EXPECTED_COMMANDS = ["run", "validate-data", "gate-model", "load-test", "serve", "register",
                     "promote", "rollback", "status", "history", "verify", "report", "init"]


def test_help_lists_every_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "mlgate", "--help"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0
    for command in EXPECTED_COMMANDS:
        assert f"    {command} " in proc.stdout or f"    {command}\n" in proc.stdout, command


def test_building_the_command_line_imports_no_heavy_library() -> None:
    """Every command pays for what the parser imports: scipy.stats alone cost 1-4 s of CPU
    per command when one subcommand's module imported it at the top (the canary's z-test)."""
    code = ("import sys; from mlgate.cli import build_parser; build_parser(); "
            "print(' '.join(m for m in ('scipy.stats', 'sklearn', 'great_expectations', "
            "'pandas', 'pyspark', 'matplotlib') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == ""


def test_usage_errors_exit_2_with_one_line() -> None:
    result = run_mlgate(["no-such-command"])
    assert result.code == 2
    assert result.error_line.startswith("mlgate: error: mlgate: argument COMMAND: invalid choice")
    assert "'no-such-command'" in result.error_line
    result = run_mlgate(["run", "--stage", "nightly"])
    assert result.code == 2
    assert result.error_line.startswith("mlgate: error: mlgate run: argument --stage")
    assert run_mlgate([]).code == 2


@pytest.fixture
def temporary_stages() -> dict[str, list[str]]:
    """Register real stage functions for the test and remove them afterwards."""
    calls: dict[str, list[str]] = {"ran": []}
    saved = pipeline.registered_stages()  # import the real stages first so they are restored

    def make(name: str, status: Status) -> None:
        @pipeline.stage(name)
        def _run(ctx: pipeline.RunContext) -> GateResult:
            calls["ran"].append(name)
            seen = [r.gate for r in ctx.previous]
            return GateResult(name, [CheckResult(f"{name} check", status, f"saw {seen}")])

    make("t-pass", Status.PASS)
    make("t-warn", Status.WARN)
    make("t-fail", Status.FAIL)
    make("t-boom", Status.ERROR)
    yield calls
    pipeline._STAGES.clear()
    pipeline._STAGES.update(saved)


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "mlgate.yaml"
    path.write_text("version: 1\nproject: churn\n")
    return path


def test_run_stops_at_first_failing_gate(tmp_path: Path,
                                         temporary_stages: dict[str, list[str]]) -> None:
    config = load_config(_config(tmp_path))
    config.raw["pipeline"] = {"pr": ["t-pass", "t-warn", "t-fail", "t-boom"]}
    results = pipeline.run_pipeline(config, "pr")
    assert temporary_stages["ran"] == ["t-pass", "t-warn", "t-fail"]
    assert [r.gate for r in results] == ["t-pass", "t-warn", "t-fail", "pipeline"]
    assert results[1].checks[0].message == "saw ['t-pass']"
    skipped = results[-1].checks[0]
    assert skipped.name == "t-boom skipped" and "t-fail failed" in skipped.message
    out = tmp_path / ".mlgate" / "results" / "pr"
    assert json.loads((out / "t-fail.json").read_text())["status"] == "fail"
    assert "t-boom skipped" in (out / "report.md").read_text()


def test_unknown_stage_is_input_error(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    config.raw["pipeline"] = {"pr": ["nope"]}
    with pytest.raises(InputError, match=r"pipeline\.pr: stage 'nope' is not available"):
        pipeline.run_pipeline(config, "pr")


def test_internal_errors_exit_3_without_traceback(
    tmp_path: Path, temporary_stages: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    @pipeline.stage("t-crash")
    def _crash(ctx: pipeline.RunContext) -> GateResult:
        raise RuntimeError("unexpected")

    (tmp_path / "mlgate.yaml").write_text("version: 1\nproject: churn\n")
    monkeypatch.setattr(pipeline.Config, "stages", lambda self, event: ["t-crash"])
    result = run_mlgate(["run"], cwd=tmp_path, env={"MLGATE_DEBUG": None})
    assert result.code == 3
    assert "internal error (RuntimeError: unexpected)" in result.error_line
    assert "Traceback" not in result.stderr


def test_a_stage_that_stops_on_bad_input_is_still_reported(
        tmp_path: Path, temporary_stages: dict[str, list[str]]) -> None:
    """The pull request must see which stage stopped and why: its result (an error check
    with the one-line message and, for file:line sources, a location) is written with the
    reports, the rest is marked skipped, and the run still ends in the InputError (exit 2)."""

    @pipeline.stage("t-bad")
    def _bad(ctx: pipeline.RunContext) -> GateResult:
        raise InputError("contract: expected a mapping", "contract.yaml:3")

    config = load_config(_config(tmp_path))
    config.raw["pipeline"] = {"pr": ["t-pass", "t-bad", "t-warn"]}
    with pytest.raises(InputError):
        pipeline.run_pipeline(config, "pr")
    out = tmp_path / ".mlgate" / "results" / "pr"
    report = json.loads((out / "report.json").read_text())
    assert [g["gate"] for g in report["gates"]] == ["t-pass", "t-bad", "pipeline"]
    [check] = report["gates"][1]["checks"]
    assert check["status"] == "error"
    assert check["message"] == "contract.yaml:3: contract: expected a mapping"
    assert check["location"] == {"file": "contract.yaml", "line": 3}
    assert "t-warn skipped" in (out / "report.md").read_text()
    assert "t-bad stopped on bad input" in (out / "report.md").read_text()


def test_a_command_that_stops_on_bad_input_still_writes_its_json(tmp_path: Path) -> None:
    out = run_mlgate(["validate-data", "--data", "missing.csv", "--json", "r.json"],
                     cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")})
    assert out.code == 2
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["status"] == "error" and doc["gates"][0]["gate"] == "data"
    assert doc["gates"][0]["checks"][0]["message"] == "missing.csv: data file not found"
    assert "data file not found" in (tmp_path / "summary.md").read_text()
