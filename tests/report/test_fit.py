"""Reports for GitHub's size limits: figures leave first (least important first), then table
rows; checks stay, and the end of the report says what was left out."""

from __future__ import annotations

import math
import re
from typing import Any

from mlgate.figures import Figure, Series, Threshold
from mlgate.github import reporting
from mlgate.report import render_markdown
from mlgate.result import CheckResult, GateResult, Status, Table

LIMIT = 65_536


def big(i: int, priority: int) -> Figure:
    """A 200-point, 4-series line figure with intervals: about 10 kB of Mermaid."""
    x = list(range(200))
    series = [Series(f"s{k}", [math.sin(j / (k + 3)) * 1000.123 for j in x],
                     [math.sin(j / (k + 3)) * 1000.123 - 10.5 for j in x],
                     [math.sin(j / (k + 3)) * 1000.123 + 10.5 for j in x]) for k in range(2)]
    return Figure(f"fig.{i}", f"Figure {i}", "line", x, series,
                  thresholds=[Threshold("limit", 900)], priority=priority)


def heavy_results(n: int = 30) -> list[GateResult]:
    figures = [big(i, priority=(i * 37) % 100) for i in range(n)]
    checks = [CheckResult(f"check {i}", Status.FAIL if i == 7 else Status.PASS, "msg")
              for i in range(20)]
    return [GateResult("model", checks=checks, figures=figures[: n // 2]),
            GateResult("data", checks=[CheckResult("last gate check", Status.FAIL, "kept")],
                       figures=figures[n // 2:])]


def test_many_large_figures_fit_and_the_most_important_stay() -> None:
    results = heavy_results()
    full = render_markdown(results)
    assert len(full.encode()) > 5 * LIMIT
    md = render_markdown(results, budget=reporting.BUDGET)
    assert len(md.encode()) <= reporting.BUDGET < LIMIT
    kept = {f.id for r in results for f in r.figures if f"Figure {f.id[4:]}\"" in md}
    priorities = {f.id: f.priority for r in results for f in r.figures}
    assert kept, "room for some charts"
    gone = set(priorities) - kept
    assert max(priorities[i] for i in kept) <= min(priorities[i] for i in gone)
    assert "check 7" in md and "last gate check" in md  # checks are never left out
    last = md.rstrip().splitlines()[-1]
    assert last.startswith(f"{len(gone)} charts left out to stay under GitHub's 65,536-character "
                           "limit: `fig.")
    assert "report.html" in last
    named = re.findall(r"`(fig\.\d+)`", last)  # in report order, the first 20
    assert named == sorted(gone, key=list(priorities).index)[:20]
    assert last.count(f" and {len(gone) - 20} more") == (len(gone) > 20)


def test_a_report_within_budget_is_left_as_it_is() -> None:
    small = heavy_results(2)
    assert render_markdown(small, budget=reporting.BUDGET) == render_markdown(small)


def test_tables_are_shortened_when_leaving_out_figures_is_not_enough() -> None:
    rows: list[list[Any]] = [[f"row {i}", "x" * 200] for i in range(600)]
    result = GateResult("data", checks=[CheckResult("schema", Status.PASS)],
                        tables=[Table("columns", ["name", "detail"], rows)],
                        figures=[big(0, 1)])
    md = render_markdown([result], budget=reporting.BUDGET)
    assert len(md.encode()) <= reporting.BUDGET
    assert "| schema |" in md and "| row 0 |" in md and "| row 599 |" not in md
    assert "more rows*" in md
    assert "1 chart left out" in md and "1 table shortened by" in md


def test_the_check_run_summary_has_tables_within_the_limit() -> None:
    class Client:
        def __init__(self) -> None:
            self.bodies: list[dict[str, Any]] = []

        def repo_path(self, path: str) -> str:
            return path

        def post(self, path: str, json: dict[str, Any], **_: Any) -> dict[str, Any]:
            self.bodies.append(json)
            return {"id": 1, "html_url": ""}

        def patch(self, path: str, json: dict[str, Any], **_: Any) -> dict[str, Any]:
            return {}

    client = Client()
    reporting.publish_check_run(client, heavy_results(), name="mlgate",  # type: ignore[arg-type]
                                head_sha="a" * 40)
    summary = client.bodies[0]["output"]["summary"]
    assert len(summary.encode()) <= reporting.BUDGET
    assert "mermaid" not in summary and "| x | s0 | s0 low | s0 high | s1 |" in summary
    assert "charts left out" in summary and "trimmed" not in summary
