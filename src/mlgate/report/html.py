"""One self-contained HTML file of the gate results: the report people open and look at.

A PR comment is size-limited and a job summary is markdown; this page carries everything: the
verdict, every check, the tables, the figures drawn as inline SVG (:mod:`svg_charts`), the
data profile (:mod:`html_profile`) and the evidence (digests, input sha256s, mlgate version and
commit). It travels as a workflow artifact and is opened from a zip on someone's disk, so it
loads nothing: no scripts, stylesheets, fonts or images from anywhere, and a
Content-Security-Policy that would block them if a value ever smuggled one in. Every string
from results goes through :func:`html_text.esc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlgate.figures import Figure, Series
from mlgate.report.html_profile import profile_html
from mlgate.report.html_text import cell, esc, fmt, table
from mlgate.result import Chart, GateResult, Status

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 8px}h2{font-size:20px;margin:0}h3{font-size:16px;margin:18px 0 6px}
section.gate,section.evidence{background:#fff;border:1px solid #d0d7de;border-radius:8px;
padding:16px 20px;margin:16px 0}
table{border-collapse:collapse;margin:8px 0;font-size:13px;display:block;overflow-x:auto}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#f6f8fa}caption{text-align:left;font-weight:600;padding:4px 0}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;
word-break:break-all}
.status{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;
font-size:12px;text-transform:uppercase}
.verdict{font-size:16px;padding:3px 12px}
.status-pass{background:#1a7f37}.status-warn{background:#9a6700}
.status-fail{background:#cf222e}.status-error{background:#8250df}
figure{margin:12px 0;border:1px solid #eaeef2;border-radius:6px;padding:8px}
figure svg{max-width:100%;height:auto;display:block}
figcaption{font-weight:600}.note{color:#59636e;font-size:13px;margin:4px 0}
.gate-head{display:flex;gap:12px;align-items:center}
"""


def render_html(results: Sequence[GateResult], title: str = "mlgate",
                attachments: Sequence[dict[str, Any]] = ()) -> str:
    """The report page. ``attachments`` are the files uploaded beside it
    (``{"path", "sha256", "bytes"}``), listed with the evidence so their digests travel too."""
    overall = Status.worst([r.status for r in results])
    figures = _FigureIds()
    body = [
        f"<header><h1>{esc(title)}</h1>",
        f'<p>Verdict: {_badge(overall, "verdict")} — {len(results)} gate(s), '
        f"{sum(len(r.checks) for r in results)} check(s), "
        f"{sum(len(r.failures) for r in results)} failed.</p>",
        _provenance_line(results), "</header>",
        _overview(results),
    ]
    body += [_gate(i, r, figures) for i, r in enumerate(results)]
    body.append(_evidence(results, attachments))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}: {overall.value}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _badge(status: Status, extra: str = "") -> str:
    classes = f"status status-{status.value}" + (f" {extra}" if extra else "")
    return f'<span class="{classes}">{status.value}</span>'


def _overview(results: Sequence[GateResult]) -> str:
    rows = "".join(
        f'<tr><td><a href="#gate-{i}">{esc(r.gate)}</a></td><td>{_badge(r.status)}</td>'
        f"<td>{len(r.checks)}</td><td>{len(r.failures)}</td></tr>"
        for i, r in enumerate(results))
    return ('<table class="overview"><thead><tr><th>gate</th><th>status</th><th>checks</th>'
            f"<th>failed</th></tr></thead><tbody>{rows}</tbody></table>")


def _gate(index: int, result: GateResult, figures: _FigureIds) -> str:
    parts = [f'<section class="gate" id="gate-{index}"><div class="gate-head">'
             f"<h2>{esc(result.gate)}</h2>{_badge(result.status)}</div>"]
    if result.summary:
        parts.append(f"<p>{esc(result.summary)}</p>")
    if result.checks:
        parts.append(_checks(result))
    for t in result.tables:
        parts.append(f"<h3>{esc(t.title)}</h3>" + table(t.columns, t.rows))
    for figure in sorted(result.figures, key=lambda f: f.priority):
        parts.append(_figure(figure, figures))
    for i, chart in enumerate(result.charts):
        parts.append(_figure(_chart_figure(result.gate, i, chart), figures))
    parts.append(profile_html(result.data.get("profile")))
    parts.append("</section>")
    return "".join(parts)


def _checks(result: GateResult) -> str:
    rows = "".join(
        f'<tr class="check-{c.status.value}"><td>{esc(c.name)}</td><td>{_badge(c.status)}</td>'
        f"<td>{cell(c.value)}</td><td>{cell(c.threshold)}</td><td>{esc(c.message)}</td></tr>"
        for c in result.checks)
    return ('<table class="checks"><thead><tr><th>check</th><th>status</th><th>value</th>'
            f"<th>threshold</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>")


class _FigureIds:
    """Unique SVG id prefixes per page, in drawing order (deterministic output)."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"svg{self.count}"


def _figure(figure: Figure, ids: _FigureIds) -> str:
    from mlgate.report.svg_charts import figure_svg  # matplotlib: only when there is a figure

    note = f'<p class="note">{esc(figure.note)}</p>' if figure.note else ""
    return (f'<figure id="figure-{esc(figure.id)}" data-figure="{esc(figure.id)}">'
            f"<figcaption>{esc(figure.title or figure.id)}</figcaption>"
            f"{figure_svg(figure, ids.next())}{note}</figure>")


def _chart_figure(gate: str, index: int, chart: Chart) -> Figure:
    """A text chart (labelled values, e.g. throughput over time) drawn as a bar figure."""
    values: list[float | None] = []
    for v in chart.values:
        try:
            values.append(float(v))
        except (TypeError, ValueError):
            values.append(None)
    labels = [str(x) for x in chart.labels][: len(values)]
    values = values[: len(labels)]
    return Figure(id=f"{gate}.chart-{index}", title=chart.title, kind="bar", x=labels,
                  series=[Series(chart.unit or chart.title, values)], y_label=chart.unit)


def _provenance_line(results: Sequence[GateResult]) -> str:
    """Which mlgate and which commit produced these results (each distinct value once)."""
    versions = _distinct(r.meta.get("mlgate") for r in results)
    commits = _distinct(r.meta.get("commit") for r in results)
    if not versions and not commits:
        return ""
    return (f'<p class="note">mlgate {esc(", ".join(versions) or "unknown")}, commit '
            f'<code>{esc(", ".join(commits) or "unknown")}</code></p>')


def _distinct(values: Any) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values if v not in (None, "")))


def _evidence(results: Sequence[GateResult], attachments: Sequence[dict[str, Any]]) -> str:
    """Digests, inputs and meta per gate: what lets a reader tie this page to a model, a data
    set and a commit (the JSON report and the ledger carry the same digests)."""
    parts = ['<section class="evidence" id="evidence"><h2>Evidence</h2>']
    for r in results:
        parts.append(f"<h3>{esc(r.gate)}</h3><p>digest <code>{esc(r.digest())}</code></p>")
        if r.meta:
            meta = ", ".join(f"{esc(k)} <code>{esc(fmt(v))}</code>" for k, v in r.meta.items())
            parts.append(f'<p class="meta">{meta}</p>')
        if r.inputs:
            rows = [[role, _where(found), found.get("version"), found.get("sha256")]
                    for role, found in r.inputs.items()]
            parts.append(table(["input", "path", "version", "sha256"], rows, "inputs mono"))
        if r.evidence:
            files = ", ".join(f"<code>{esc(e)}</code>" for e in r.evidence)
            parts.append(f"<p>Evidence files: {files}</p>")
    if attachments:
        rows = [[a.get("path"), a.get("bytes"), a.get("sha256")] for a in attachments]
        parts.append("<h3>Attachments</h3>" + table(["path", "bytes", "sha256"], rows,
                                                    "attachments mono"))
    parts.append("</section>")
    return "".join(parts)


def _where(found: dict[str, Any]) -> Any:
    """What an input names: a path, a registry reference, a URL or an image."""
    for key in ("path", "ref", "url", "image"):
        if found.get(key):
            return found[key]
    return None
