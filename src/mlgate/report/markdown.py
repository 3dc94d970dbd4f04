"""Markdown for job summaries and PR comments, and plain text for terminals.

Every string in a result may come from data, a model, a config or an event, so each one goes
through :mod:`mlgate.report.text` (``markdown_text`` here, ``log_text`` for terminals);
only the table frames, icons and headings written below are markdown.
"""

from __future__ import annotations

import re
from typing import Any

from mlgate.figures import Figure
from mlgate.report import mermaid
from mlgate.report.figure_table import figure_table
from mlgate.report.fit import Block, fit
from mlgate.report.text import (
    code_block,
    code_span,
    log_text,
    markdown_label,
    markdown_text,
    plain_text,
)
from mlgate.result import Chart, GateResult, Status, Table

FIGURE_MODES = ("mermaid", "table")
ICONS = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.ERROR: "💥"}
BAR_WIDTH = 30


def render_markdown(
    results: list[GateResult],
    title: str = "mlgate",
    *,
    figures: str = "mermaid",
    budget: int | None = None,
) -> str:
    """The report as GitHub markdown.

    ``figures`` says how a gate's figures are drawn: ``"mermaid"`` as charts GitHub renders
    (PR comments, job summaries: see "Charts" in docs/github.md), ``"table"`` as tables of
    their numbers (a check run's summary, whose Mermaid rendering GitHub does not document).
    ``budget`` (UTF-8 bytes) makes the report fit a GitHub limit by leaving out figures, least
    important first, then table rows, and saying so at the end (:mod:`mlgate.report.fit`).
    """
    if figures not in FIGURE_MODES:
        raise ValueError(f"figures must be one of {FIGURE_MODES}, not {figures!r}")
    overall = Status.worst([r.status for r in results])
    lines = [f"## {ICONS[overall]} {markdown_label(title)}: {overall.value}", ""]
    lines += ["| gate | status | checks | failed |", "|---|---|---|---|"]
    for r in results:
        status = f"{ICONS[r.status]} {r.status.value}"
        lines.append(f"| {_cell(r.gate)} | {status} | {len(r.checks)} | {len(r.failures)} |")
    blocks = [Block(lines)]
    for r in results:
        lines = ["", f"### {_cell(r.gate)}", ""]
        if r.summary:
            lines += [_cell(r.summary), ""]
        if r.checks:
            lines += ["| check | status | value | threshold | message |", "|---|---|---|---|---|"]
            for c in r.checks:
                lines.append(
                    f"| {_cell(c.name)} | {ICONS[c.status]} {c.status.value} | {_cell(c.value)} "
                    f"| {_cell(c.threshold)} | {_cell(c.message)} |"
                )
        blocks.append(Block(lines))
        blocks += [_table_block(table) for table in r.tables]
        lines = []
        for chart in r.charts:
            lines += ["", *_chart(chart)]
        blocks.append(Block(lines))
        blocks += [_figure_block(f, figures) for f in r.figures]
        if r.evidence:
            blocks.append(Block(["", "Evidence: " + ", ".join(code_span(e) for e in r.evidence)]))
    return fit(blocks, budget)


def render_terminal(results: list[GateResult]) -> str:
    """A compact table for humans at a terminal or reading CI logs: per gate its verdict,
    what it wrote (``data["wrote"]``), the checks that did not pass, and its tables.

    Each piece is :func:`log_text`: no newline from data starts a log line, no ``::`` or
    ``##[`` from data forms a workflow command (``::add-mask::``, ``##[stop-commands]``) and no
    ESC sequence reaches the terminal.
    """
    out: list[str] = []
    for r in results:
        if r.checks:  # informational commands (status, history) have tables only
            out.append(f"{log_text(r.gate)}: {r.status.value.upper()} ({len(r.checks)} "
                       f"checks, {len(r.failures)} failed)")
        # What a command changed (files init wrote, tags the ledger wrote) is what its user
        # looks for first, so it is listed even though those checks passed.
        out.extend(f"  wrote {log_text(item)}" for item in _wrote(r))
        for c in r.checks:
            if c.status is not Status.PASS:
                value = "" if c.value is None else f" value={log_text(_plain(c.value))}"
                limit = "" if c.threshold is None else f" threshold={log_text(_plain(c.threshold))}"
                out.append(f"  {c.status.value.upper():5} {log_text(c.name)}{value}{limit}  "
                           f"{log_text(c.message)}")
        for table in r.tables:
            out.append(f"  {log_text(table.title)}")
            out.extend("    " + line for line in _text_table(table))
    return "\n".join(out)


def _wrote(result: GateResult) -> list[Any]:
    """``data["wrote"]`` when it is a list (a report read back from JSON may hold anything)."""
    wrote = result.data.get("wrote")
    return wrote if isinstance(wrote, list) else []


def _table_block(table: Table, figure: Figure | None = None) -> Block:
    """A table as a block whose rows :func:`fit` may shorten (or drop, for a figure's)."""
    lines = ["", *_table(table)]
    rows = len(table.rows)
    if figure is None:
        return Block(lines, head=len(lines) - rows, rows=rows)
    if figure.note:
        lines += ["", f"*{_cell(figure.note)}*"]
    return Block(lines, figure=figure.id, priority=figure.priority)


def _figure_block(figure: Figure, mode: str) -> Block:
    """A figure as a Mermaid chart with its legend and note, or as a table of its numbers."""
    drawable = bool(figure.x) and bool(figure.thresholds or any(
        v is not None for s in figure.series for v in s.values))
    if mode == "table" or not drawable:
        return _table_block(figure_table(figure), figure)
    chart = mermaid.render(figure)
    fence = "`" * max(3, _longest_backticks(chart.source) + 1)  # none by construction
    lines = ["", fence + "mermaid", chart.source, fence]
    notes = [_cell(line) for line in chart.legend]
    if figure.note:
        notes.append(f"*{_cell(figure.note)}*")
    if notes:
        lines += ["", "\\\n".join(notes)]  # a backslash at a line's end: a line break
    return Block(lines, figure=figure.id, priority=figure.priority)


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)


def _table(table: Table) -> list[str]:
    title = _cell(table.title)
    lines = [f"**{title}**", ""] if title else []  # "****" alone would be a horizontal rule
    lines.append("| " + " | ".join(_cell(c) for c in table.columns) + " |")
    lines.append("|" + "---|" * len(table.columns))
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.rows]
    return lines


def _text_table(table: Table) -> list[str]:
    cells = [[log_text(c) for c in table.columns]]
    cells += [[log_text(_plain(v)) for v in row] for row in table.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
    return ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) for row in cells]


def _chart(chart: Chart) -> list[str]:
    top = max((abs(v) for v in chart.values), default=0.0) or 1.0
    labels = [log_text(label) for label in chart.labels]
    width = max((len(label) for label in labels), default=0)
    unit = log_text(chart.unit)
    body = [
        f"{label.rjust(width)} | {'█' * round(BAR_WIDTH * abs(v) / top)} {_plain(v)}{unit}"
        for label, v in zip(labels, chart.values, strict=False)
    ]
    title = _cell(chart.title)
    return [*([f"**{title}**", ""] if title else []), *code_block(body)]


def _plain(value: Any) -> str:
    """A value as one line of text (floats to 4 significant digits)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, float | int) for v in value)
    ):
        return f"[{_plain(value[0])}, {_plain(value[1])}]"
    return plain_text(value)


def _cell(value: Any) -> str:
    """A value as markdown text, safe anywhere (table cells included: ``|`` is escaped)."""
    return markdown_text(_plain(value))
