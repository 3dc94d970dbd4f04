"""Fit a markdown report into a size budget by leaving out what matters least.

GitHub refuses a PR comment over 65,536 characters and a check-run summary over 65,535 bytes.
Cutting the text at the limit (``mlgate.github.reporting.trim``) loses whatever came last, which
may be a failed check of the last gate. A report knows better what can go: first the figures,
least important first (highest ``priority`` number, later ones before earlier on a tie), then
rows of the longest tables; checks and verdicts are never dropped. What was left out is said at
the end, so a reader knows to open the full report. ``trim`` stays as the last resort.

Sizes are counted in UTF-8 bytes: never fewer than characters, so one budget serves both limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.report.text import code_span

GITHUB_LIMIT = 65_536
MIN_ROWS = 5  # a shortened table keeps at least this many rows
MAX_IDS = 20  # ids named in the closing note


@dataclass
class Block:
    """Lines of the report that stay or go together.

    ``figure`` names a figure's block (``priority`` says how long it is kept); ``rows`` are a
    table's row lines (from ``head`` on), which may be shortened.
    """

    lines: list[str]
    figure: str = ""
    priority: int = 0
    head: int = 0  # for a table: lines before the first row (title, header, rule)
    rows: int = 0  # for a table: how many of its lines are rows
    kept: int = -1  # rows kept after shortening (-1: all)
    dropped: bool = False

    def text(self) -> list[str]:
        if self.dropped:
            return []
        if self.kept < 0 or self.kept >= self.rows:
            return self.lines
        cut = self.head + self.kept
        left = self.rows - self.kept
        return [*self.lines[:cut], "", f"*… {left} more row{'s' if left != 1 else ''}*",
                *self.lines[self.head + self.rows:]]


def join(blocks: list[Block], closing: list[str] | None = None) -> str:
    lines = [line for b in blocks for line in b.text()]
    return "\n".join([*lines, *(closing or [])]) + "\n"


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def fit(blocks: list[Block], budget: int | None) -> str:
    """The report within ``budget`` bytes when leaving out figures and rows can get it there."""
    text = join(blocks)
    if budget is None or size(text) <= budget:
        return text
    order = {id(b): i for i, b in enumerate(blocks)}
    figures = sorted((b for b in blocks if b.figure), key=lambda b: (b.priority, order[id(b)]),
                     reverse=True)
    for block in figures:
        block.dropped = True
        if size(join(blocks, closing(blocks))) <= budget:
            return join(blocks, closing(blocks))
    tables = [b for b in blocks if b.rows > MIN_ROWS and not b.dropped]
    while size(join(blocks, closing(blocks))) > budget:
        longest = max(tables, key=lambda b: size("\n".join(b.text())), default=None)
        if longest is None:
            break
        shown = longest.rows if longest.kept < 0 else longest.kept
        longest.kept = max(MIN_ROWS, shown // 2)
        if longest.kept == MIN_ROWS:
            tables.remove(longest)
    return join(blocks, closing(blocks))


def closing(blocks: list[Block]) -> list[str]:
    """The note that says what was left out to fit, and where the rest is."""
    gone = [b.figure for b in blocks if b.figure and b.dropped]
    cut = [b for b in blocks if 0 <= b.kept < b.rows]
    if not gone and not cut:
        return []
    out = ["", "---", ""]
    if gone:
        names = ", ".join(code_span(i) for i in gone[:MAX_IDS])
        more = f" and {len(gone) - MAX_IDS} more" if len(gone) > MAX_IDS else ""
        out.append(f"{len(gone)} chart{'s' if len(gone) != 1 else ''} left out to stay under "
                   f"GitHub's {GITHUB_LIMIT:,}-character limit: {names}{more}; see report.html "
                   "or report.json for them.")
    if cut:
        if gone:
            out.append("")
        rows = sum(b.rows - b.kept for b in cut)
        out.append(f"{len(cut)} table{'s' if len(cut) != 1 else ''} shortened by {rows} "
                   "rows for the same reason; the JSON report has every row.")
    return out
