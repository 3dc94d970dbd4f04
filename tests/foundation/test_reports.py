"""Report rendering: markdown, JSON and JUnit XML parse back to the same facts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from mlgate.errors import InputError
from mlgate.report import read_json, render_junit, render_markdown, render_terminal, write_json
from mlgate.result import Chart, CheckResult, GateResult, Status, Table


def sample_results() -> list[GateResult]:
    data = GateResult(
        gate="data",
        checks=[
            CheckResult("contract: tenure_months min", Status.PASS, "ok", value=0, threshold=0),
            CheckResult("drift: monthly_charges psi", Status.FAIL, "drifted | badly",
                        value=np.float64(0.31), threshold=0.2,
                        details={"examples": [{"monthly_charges": 250.0}]},
                        location={"file": "data/holdout.csv", "line": 3}),
        ],
        tables=[Table("drift", ["column", "psi"], [["monthly_charges", 0.31]])],
        charts=[Chart("throughput", ["0s", "1s"], [10.0, 20.0], " rps")],
        evidence=["data.json"],
    )
    model = GateResult(gate="model", checks=[
        CheckResult("roc_auc >= 0.75", Status.WARN, "close", value=0.76, threshold=0.75),
        CheckResult("champion", Status.ERROR, "boom"),
    ])
    return [data, model]


def test_status_ordering_and_gate_status() -> None:
    data, model = sample_results()
    assert data.status is Status.FAIL and not data.passed
    assert model.status is Status.ERROR
    assert GateResult("empty").status is Status.PASS
    assert GateResult("warn", [CheckResult("w", Status.WARN)]).passed


def test_json_round_trip(tmp_path: Path) -> None:
    results = sample_results()
    path = write_json(tmp_path / "out" / "report.json", results, "validate-data")
    doc = json.loads(path.read_text())
    assert doc["status"] == "error"
    assert doc["gates"][0]["checks"][1]["value"] == pytest.approx(0.31)
    back = read_json(path)
    assert [g.to_dict() for g in back] == [g.to_dict() for g in results]
    assert back[0].digest() == results[0].digest()


def test_digest_changes_when_a_check_changes() -> None:
    a, _ = sample_results()
    b, _ = sample_results()
    assert a.digest() == b.digest()
    b.checks[0].value = 1
    assert a.digest() != b.digest()


def test_read_json_rejects_non_reports(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"hello": 1}')
    with pytest.raises(InputError, match="not an mlgate report"):
        read_json(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("{broken")
    with pytest.raises(InputError, match="not a readable JSON report"):
        read_json(tmp_path / "y.json")
    with pytest.raises(InputError, match="report file not found"):
        read_json(tmp_path / "absent.json")


def test_markdown_has_summary_checks_tables_and_charts() -> None:
    md = render_markdown(sample_results(), "mlgate run")
    assert md.startswith("## 💥 mlgate run: error")
    assert "| data | ❌ fail | 2 | 1 |" in md
    assert "| drift: monthly_charges psi | ❌ fail | 0.31 | 0.2 | drifted \\| badly |" in md
    assert "**drift**" in md and "| monthly_charges | 0.31 |" in md
    assert "█" in md and "20 rps" in md
    # every table row has the same number of cells as its header
    for block in md.split("\n\n"):
        rows = [r for r in block.splitlines() if r.startswith("|")]
        if rows:
            counts = {len(r.replace("\\|", "").split("|")) for r in rows}
            assert len(counts) == 1, block


def test_terminal_lists_only_problems() -> None:
    text = render_terminal(sample_results())
    assert "data: FAIL (2 checks, 1 failed)" in text
    assert "drift: monthly_charges psi value=0.31 threshold=0.2" in text
    assert "contract: tenure_months min" not in text


def test_terminal_shows_informational_results_as_tables_only() -> None:
    status = GateResult("status", tables=[Table("Ledger status", ["artifact", "production"],
                                                [["churn", "v0.1.0"]])])
    text = render_terminal([status])
    assert "PASS" not in text and "0 checks" not in text
    assert text.splitlines()[0] == "  Ledger status"
    assert "churn     v0.1.0" in text


def test_terminal_lists_what_a_command_wrote_as_text() -> None:
    wrote = GateResult("init", [CheckResult("mlgate.yaml", Status.PASS, "written")],
                       data={"wrote": ["mlgate.yaml", "::add-mask::x\nnext"]})
    lines = render_terminal([wrote]).splitlines()
    assert lines[1] == "  wrote mlgate.yaml"
    assert lines[2].startswith("  wrote :\u200b:add-mask") and len(lines) == 3
    # A report read back from JSON may hold anything there: only a list is listed.
    odd = GateResult("init", [CheckResult("x", Status.PASS)], data={"wrote": "abc"})
    assert render_terminal([odd]) == "init: PASS (1 checks, 0 failed)"


def test_junit_parses_and_counts() -> None:
    root = ET.fromstring(render_junit(sample_results()))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["data", "model"]
    assert suites[0].get("failures") == "1" and suites[0].get("tests") == "2"
    assert suites[1].get("errors") == "1"
    failure = suites[0].findall("testcase")[1].find("failure")
    assert failure is not None and failure.get("message") == "drifted | badly"
