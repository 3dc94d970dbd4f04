"""The pull-request comment of the churn example with every gate on: every chart is drawn,
Mermaid's own parser accepts each one, and the comment stays under GitHub's limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.report import read_json
from tests.report.mermaid_check import check, needs_mermaid
from tests.support.cli import run_mlgate

GITHUB_LIMIT = 65_536
EXPECTED = {  # a binary classifier with a champion, slices, drift, skew and a load test
    "model.metrics", "model.roc", "model.pr", "model.calibration", "model.slices",
    "model.importance", "data.drift", "data.label", "load.latency", "load.rate"}


@needs_mermaid
@pytest.mark.slow
def test_the_example_comment_draws_every_chart_within_githubs_limit(
        churn_repo: Path, clean_github_env: None) -> None:
    run = run_mlgate(["run", "--stage", "pr"], cwd=churn_repo)
    assert run.code == 0, run.stdout + run.stderr
    results_dir = churn_repo / ".mlgate" / "results" / "pr"
    gates = {r.gate for r in read_json(results_dir / "report.json")}
    assert {"data", "model", "load"} <= gates
    figures = [f.id for r in read_json(results_dir / "report.json") for f in r.figures]
    assert set(figures) >= EXPECTED, sorted(EXPECTED - set(figures))

    comment = results_dir / "comment.md"
    out = run_mlgate(["report", "--results", results_dir, "--no-html",
                      "--comment-file", comment], cwd=churn_repo)
    assert out.code == 0, out.stdout + out.stderr
    text = comment.read_text(encoding="utf-8")
    assert len(text.encode()) < GITHUB_LIMIT
    assert "left out to stay under" not in text  # nothing had to be dropped here
    assert text.count("```mermaid") == len(figures)
    parsed = check(text)
    assert parsed.returncode == 0, parsed.output
    assert len(parsed.blocks) == len(figures) and all(ok for _, ok, _ in parsed.blocks)
