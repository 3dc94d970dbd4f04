"""Values from results, made safe and readable inside HTML.

Column names, category values, messages and paths come from data, models, configs and pull
requests. Each passes :func:`esc` (one line, no control characters, then ``html.escape`` with
quotes) before it reaches the page, so a column named ``<script>`` is shown, never run, and no
value can end an attribute. Only the tags written by the HTML modules are markup.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from mlgate.report.text import plain_text


def esc(value: Any, limit: int | None = None) -> str:
    """Text for an element or a quoted attribute."""
    return html.escape(plain_text(value, limit), quote=True)


def fmt(value: Any) -> str:
    """A value as short text: numbers to four significant digits, containers as compact JSON,
    None as empty. The result still needs :func:`esc`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, separators=(", ", ": "))
    return str(value)


def cell(value: Any) -> str:
    """A formatted, escaped table cell's content."""
    return esc(fmt(value))


def table(columns: list[str], rows: list[list[Any]], css: str = "") -> str:
    """An HTML table of escaped cells; ``columns`` and ``rows`` may come from data."""
    cls = f' class="{esc(css)}"' if css else ""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
