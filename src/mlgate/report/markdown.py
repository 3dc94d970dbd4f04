"""Markdown for job summaries and PR comments, and plain text for terminals."""

from __future__ import annotations

from typing import Any

from mlgate.result import Chart, GateResult, Status, Table

ICONS = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.ERROR: "💥"}
BAR_WIDTH = 30


def render_markdown(results: list[GateResult], title: str = "mlgate") -> str:
    overall = Status.worst([r.status for r in results])
    lines = [f"## {ICONS[overall]} {title}: {overall.value}", ""]
    lines += ["| gate | status | checks | failed |", "|---|---|---|---|"]
    for r in results:
        status = f"{ICONS[r.status]} {r.status.value}"
        lines.append(f"| {r.gate} | {status} | {len(r.checks)} | {len(r.failures)} |")
    for r in results:
        lines += ["", f"### {r.gate}", ""]
        if r.summary:
            lines += [_cell(r.summary), ""]
        if r.checks:
            lines += ["| check | status | value | threshold | message |", "|---|---|---|---|---|"]
            for c in r.checks:
                lines.append(
                    f"| {_cell(c.name)} | {ICONS[c.status]} {c.status.value} | {_cell(c.value)} "
                    f"| {_cell(c.threshold)} | {_cell(c.message)} |"
                )
        for table in r.tables:
            lines += ["", *_table(table)]
        for chart in r.charts:
            lines += ["", *_chart(chart)]
        if r.evidence:
            lines += ["", "Evidence: " + ", ".join(f"`{e}`" for e in r.evidence)]
    return "\n".join(lines) + "\n"


def render_terminal(results: list[GateResult]) -> str:
    """A compact table for humans at a terminal or reading CI logs."""
    out: list[str] = []
    for r in results:
        if r.checks:  # informational commands (status, history) have tables only
            out.append(f"{r.gate}: {r.status.value.upper()} ({len(r.checks)} checks, "
                       f"{len(r.failures)} failed)")
        for c in r.checks:
            if c.status is not Status.PASS:
                value = "" if c.value is None else f" value={_plain(c.value)}"
                limit = "" if c.threshold is None else f" threshold={_plain(c.threshold)}"
                out.append(f"  {c.status.value.upper():5} {c.name}{value}{limit}  {c.message}")
        for table in r.tables:
            out.append(f"  {table.title}")
            out.extend("    " + line for line in _text_table(table))
    return "\n".join(out)


def _table(table: Table) -> list[str]:
    lines = [f"**{_cell(table.title)}**", ""]
    lines.append("| " + " | ".join(_cell(c) for c in table.columns) + " |")
    lines.append("|" + "---|" * len(table.columns))
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.rows]
    return lines


def _text_table(table: Table) -> list[str]:
    cells = [[str(c) for c in table.columns]] + [[_plain(v) for v in r] for r in table.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
    return ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) for row in cells]


def _chart(chart: Chart) -> list[str]:
    top = max((abs(v) for v in chart.values), default=0.0) or 1.0
    width = max((len(label) for label in chart.labels), default=0)
    body = [
        f"{label.rjust(width)} | {'█' * round(BAR_WIDTH * abs(v) / top)} {_plain(v)}{chart.unit}"
        for label, v in zip(chart.labels, chart.values, strict=False)
    ]
    return [f"**{_cell(chart.title)}**", "", "```", *body, "```"]


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, float | int) for v in value)
    ):
        return f"[{_plain(value[0])}, {_plain(value[1])}]"
    return "" if value is None else str(value)


def _cell(value: Any) -> str:
    return _plain(value).replace("|", "\\|").replace("\n", " ")
