"""A :class:`~mlgate.figures.Figure` as a table of its numbers.

Where a chart cannot be drawn (a check run's summary, whose Mermaid rendering GitHub does not
document; a caller that asked for tables only) or does not fit, the numbers still can be read:
one row per ``x`` value, one column per series and interval bound, thresholds in the title.
"""

from __future__ import annotations

from typing import Any

from mlgate.figures import Figure
from mlgate.result import Table


def figure_table(figure: Figure) -> Table:
    """The figure's numbers; a gap (None) is an empty cell."""
    columns = [figure.x_label or "x"]
    cells: list[list[Any]] = []
    for s in figure.series:
        columns.append(s.name)
        cells.append(list(s.values))
        for bound, which in ((s.low, "low"), (s.high, "high")):
            if bound is not None:
                columns.append(f"{s.name} {which}")
                cells.append(list(bound))
    rows = [[x, *("" if col[i] is None else col[i] for col in cells)]
            for i, x in enumerate(figure.x)]
    limits = "; ".join(f"{t.name} = {t.value:.4g}" for t in figure.thresholds)
    title = f"{figure.title} (threshold: {limits})" if limits else figure.title
    return Table(title, columns, rows)
