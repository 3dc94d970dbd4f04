"""GitHub Actions step files: outputs, job summary and ::error annotations."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from mlgate.report.github_files import emit_annotations, write_step_outputs, write_step_summary
from mlgate.result import CheckResult, GateResult, Status
from tests.support.cli import run_mlgate


def parse_output_file(text: str) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT the way the runner does (name=value and heredoc blocks)."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            out[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def test_outputs_single_and_multiline(tmp_path: Path) -> None:
    target = tmp_path / "out"
    env = {"GITHUB_OUTPUT": str(target)}
    write_step_outputs({"status": "pass", "notes": "a\nb=c"}, env)
    write_step_outputs({"tag": "churn@v1.0.0"}, env)
    parsed = parse_output_file(target.read_text())
    assert parsed == {"status": "pass", "notes": "a\nb=c", "tag": "churn@v1.0.0"}


def test_nothing_written_outside_actions(tmp_path: Path) -> None:
    write_step_outputs({"status": "pass"}, {})
    write_step_summary([GateResult("x")], "t", {})
    stream = io.StringIO()
    emit_annotations([GateResult("x", [CheckResult("c", Status.FAIL, "bad")])], stream, {})
    assert stream.getvalue() == ""
    assert list(tmp_path.iterdir()) == []


def test_summary_appends_markdown(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("previous step\n")
    write_step_summary([GateResult("data", [CheckResult("c", Status.PASS)])], "mlgate x",
                       {"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text()
    assert text.startswith("previous step\n## ✅ mlgate x: pass")


def test_annotations_escape_and_locate() -> None:
    stream = io.StringIO()
    result = GateResult("data", [
        CheckResult("a,b", Status.FAIL, "50% bad\nsecond line",
                    location={"file": "data/x.csv", "line": 7}),
        CheckResult("w", Status.WARN, "careful"),
        CheckResult("ok", Status.PASS, "fine"),
    ])
    emit_annotations([result], stream, {"GITHUB_ACTIONS": "true"})
    lines = stream.getvalue().splitlines()
    assert lines == [
        "::error file=data/x.csv,line=7,title=data%3A a%2Cb::50%25 bad%0Asecond line",
        "::warning title=data%3A w::careful",
    ]


@pytest.fixture
def failing_config(tmp_path: Path) -> Path:
    """A repo whose pipeline runs a stage that fails (the data gate on a missing column)."""
    (tmp_path / "mlgate.yaml").write_text("version: 1\nproject: churn\npipeline:\n  pr: []\n")
    return tmp_path


def test_cli_writes_outputs_summary_and_json(failing_config: Path) -> None:
    out, summary = failing_config / "gh_out", failing_config / "gh_summary"
    result = run_mlgate(
        ["run", "--stage", "pr", "--json", "r.json"], cwd=failing_config,
        env={"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary),
             "GITHUB_ACTIONS": "true"},
    )
    assert result.code == 0, result.stderr
    assert parse_output_file(out.read_text()) == {"status": "pass", "report": "r.json"}
    assert "mlgate run" in summary.read_text()
    doc = json.loads((failing_config / "r.json").read_text())
    assert doc["command"] == "run" and doc["status"] == "pass"
    reports = failing_config / ".mlgate" / "results" / "pr"
    assert {p.name for p in reports.iterdir()} >= {"report.json", "report.md", "report.xml"}
