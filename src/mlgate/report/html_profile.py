"""The data profile section of the HTML report: reference vs current, per column.

The data gate puts ``result.data["profile"]`` in its result::

    {"columns": [{"name", "kind": "numeric" | "categorical",
                  "reference": {...}, "current": {...}}],
     "rows": {"reference": n, "current": n}, "truncated": bool}

with numeric statistics (mean, std, min, quantiles, max, null share) or categorical ones (null
share, distinct count, top values with their shares). A drift check says *that* a column moved;
the profile shows *how*, side by side. Everything in it came from the data, so every cell is
escaped; a malformed profile (a hand-edited report) renders what it can and skips the rest.
"""

from __future__ import annotations

from typing import Any

from mlgate.report.html_text import cell, esc, fmt

NUMERIC_STATS = ("mean", "std", "min", "q05", "q25", "q50", "q75", "q95", "max", "null_share")
MAX_TOP = 10  # top values shown per categorical column


def profile_html(profile: Any) -> str:
    """The profile as HTML, or "" when there is none (or it is not a profile)."""
    if not isinstance(profile, dict) or not isinstance(profile.get("columns"), list):
        return ""
    columns = [c for c in profile["columns"] if isinstance(c, dict)]
    rows = _stats(profile, "rows")
    parts = ['<section class="profile"><h3>Data profile</h3>',
             f"<p>Rows: reference {cell(rows.get('reference'))}, "
             f"current {cell(rows.get('current'))}.</p>"]
    if profile.get("truncated"):
        parts.append('<p class="note">The profile was truncated: not every column is shown.</p>')
    numeric = [c for c in columns if c.get("kind") == "numeric"]
    categorical = [c for c in columns if c.get("kind") == "categorical"]
    if numeric:
        parts.append(_numeric_table(numeric))
    for column in categorical:
        parts.append(_categorical(column))
    parts.append("</section>")
    return "".join(parts)


def _numeric_table(columns: list[dict[str, Any]]) -> str:
    """One table for all numeric columns: a reference row and a current row each."""
    head = "".join(f"<th>{esc(s)}</th>" for s in ("column", "set", *NUMERIC_STATS))
    body = []
    for column in columns:
        name = esc(column.get("name"))
        for i, which in enumerate(("reference", "current")):
            stats = _stats(column, which)
            first = f'<th rowspan="2" scope="rowgroup">{name}</th>' if i == 0 else ""
            cells = "".join(f"<td>{cell(stats.get(s))}</td>" for s in NUMERIC_STATS)
            body.append(f'<tr class="{which}">{first}<td>{which}</td>{cells}</tr>')
    return ('<table class="profile-numeric"><caption>Numeric columns</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _categorical(column: dict[str, Any]) -> str:
    """A categorical column: null share and distinct count, then its top values' shares in
    reference and current (a value missing from one side shows an empty cell)."""
    ref, cur = _stats(column, "reference"), _stats(column, "current")
    ref_top, cur_top = _top(ref), _top(cur)
    values = list(dict.fromkeys([*ref_top, *cur_top]))[:MAX_TOP]
    body = "".join(f"<tr><td>{esc(v)}</td><td>{cell(ref_top.get(v))}</td>"
                   f"<td>{cell(cur_top.get(v))}</td></tr>" for v in values)
    summary = (f"null share {esc(fmt(ref.get('null_share')))} → "
               f"{esc(fmt(cur.get('null_share')))}, distinct {esc(fmt(ref.get('distinct')))} "
               f"→ {esc(fmt(cur.get('distinct')))}")
    return ('<table class="profile-categorical">'
            f"<caption>{esc(column.get('name'))} (categorical: {summary})</caption>"
            "<thead><tr><th>value</th><th>reference share</th><th>current share</th></tr>"
            f"</thead><tbody>{body}</tbody></table>")


def _stats(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    """``mapping[key]`` when it is a mapping, else empty (a malformed profile renders blanks)."""
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def _top(stats: dict[str, Any]) -> dict[str, Any]:
    """``top: [{"value": ..., "share": ...}, ...]`` (as :mod:`mlgate.data.profile` writes it)
    as {value text: share}, in the given order; anything else in the list is skipped."""
    out: dict[str, Any] = {}
    for item in stats.get("top") or []:
        if isinstance(item, dict) and "value" in item:
            out.setdefault(fmt(item["value"]), item.get("share"))
    return out
