"""A :class:`~mlgate.figures.Figure` as a Mermaid ``xychart-beta`` that GitHub draws.

GitHub renders a fenced ```` ```mermaid ```` block in PR comments and job summaries as a chart,
so a report needs no image host. xychart is small, and these are the choices that fill its gaps
(``docs/github.md``, "Charts", says the same for readers of a report):

* **Kinds.** A ``bar`` figure declares its series as ``bar`` plots over category labels; a
  ``line`` figure as ``line`` plots. Its x axis is numeric (``x-axis "label" min --> max``)
  when the ``x`` values are evenly spaced, since xychart spaces points evenly and the axis is
  then exact; otherwise each point gets a category label with its value (``0.05``, ``1.2e+04``).
* **Intervals.** xychart has no error bars, so a series' ``low``/``high`` become two extra
  ``line`` plots in a lighter tint of its colour: a band around the line, a bracket above and
  below each bar. The numbers are in the figure's table (the check run, the JSON report).
* **Thresholds** are constant ``line`` plots in red (then grey tones), drawn last so they are on
  top.
* **Gaps** (``None``): xychart needs a number for every point. A line bridges a gap straight
  from its neighbours (flat at either end); a missing bar is drawn at the axis floor, i.e. no
  bar. Either way the legend says which points had no value, so no reader mistakes a bridge for
  a measurement. A series with no value at all is left out and named in the legend.
* **Legend.** xychart draws none, so colours are set (``plotColorPalette`` in an ``init``
  directive, one colour per plot in declaration order) and :attr:`MermaidChart.legend` names
  the plots in order with a coloured square each.
* **y axis.** ``y_range`` when the figure sets one; else from the values, interval bounds and
  thresholds with 5% headroom, and from 0 for bars (a bar's length is its value).

**Untrusted labels.** Titles, series names, category labels and axis titles come from data
(column names, class labels, config). Each goes through :func:`label`: one line, no quotes,
backticks, brackets, braces, angle brackets, ``;``, ``#``, backslash or ``%%`` (a ``%%{`` is a
directive anywhere in the text, Mermaid extracts those before parsing), never empty, at most
:data:`LABEL_MAX` characters, always in double quotes. With no backtick in the text, nothing
from data can close the markdown fence; with no quote, nothing can leave its string. Numbers are
written by this module, never copied. Mermaid's own parser checks the output in
``tests/report/test_mermaid.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from mlgate.figures import Figure
from mlgate.report.text import plain_text, shorten

LABEL_MAX = 40  # a category or series label: an axis with 30 of them stays legible
TITLE_MAX = 100
HEADROOM = 0.05
EVEN_SPACING = 1e-6  # relative tolerance for "evenly spaced x"

#: Series colours with the coloured square that names each in the legend (Tableau 10 hues that
#: have a matching emoji square, so the legend needs no HTML).
SERIES_COLOURS = [
    ("#1f77b4", "🟦"), ("#ff7f0e", "🟧"), ("#2ca02c", "🟩"), ("#9467bd", "🟪"),
    ("#8c564b", "🟫"), ("#bcbd22", "🟨"), ("#7f7f7f", "⬜"),
]
THRESHOLD_COLOURS = [("#d62728", "🟥"), ("#444444", "⬛"), ("#aaaaaa", "⬜")]

# Characters a label never carries into Mermaid text, and what shows in their place.
_REPLACE = str.maketrans({
    '"': "'", "`": "'", "[": "(", "]": ")", "{": "(", "}": ")", ";": ",", "#": "№", "\\": "/",
    "<": "\u2039", ">": "\u203a",  # single angle quotation marks: no tag can start
})


@dataclass
class MermaidChart:
    """The chart source (no fence) and the legend that explains it, line by line."""

    source: str
    legend: list[str] = field(default_factory=list)  # plain text: the caller escapes it


@dataclass
class _Plot:
    kind: str  # bar / line
    name: str
    values: list[float]
    colour: str
    swatch: str
    note: str = ""
    of: str = ""  # an interval bound's series


def label(value: object, limit: int = LABEL_MAX) -> str:
    """``value`` as text that is safe inside a Mermaid double-quoted string (see module doc)."""
    text = plain_text(value).translate(_REPLACE)
    while "%%" in text:
        text = text.replace("%%", "%")
    text = " ".join(text.split())
    return shorten(text, limit) or "-"  # xychart refuses an empty string


def number(value: float) -> str:
    """A number as xychart's grammar reads it: fixed-point, no exponent, at most 6 digits."""
    if not math.isfinite(value):
        return "0"
    text = format(Decimal(f"{value:.6g}"), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tick(value: object) -> str:
    """An x value as a short category label (``0.05``, ``1.2e+04``, or the text itself)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return label(f"{float(value):.4g}")
    return label(value)


def render(figure: Figure) -> MermaidChart:
    """``figure`` as xychart source and its legend (see the module docstring for choices)."""
    plots, missing = _plots(figure)
    lo, hi = _y_range(figure, plots)
    lines = [_init(plots), "xychart-beta"]
    lines.append(f'  title "{label(figure.title, TITLE_MAX)}"')
    lines.append("  " + _x_axis(figure))
    y_title = f'"{label(figure.y_label, TITLE_MAX)}" ' if figure.y_label else ""
    lines.append(f"  y-axis {y_title}{number(lo)} --> {number(hi)}")
    for plot in plots:
        values = [min(max(v, lo), hi) for v in plot.values]  # a clipped line stays on the plot
        data = ", ".join(number(v) for v in values)
        lines.append(f'  {plot.kind} "{label(plot.name)}" [{data}]')
    return MermaidChart("\n".join(lines), _legend(plots, missing))


def _plots(figure: Figure) -> tuple[list[_Plot], list[str]]:
    """Plots in drawing order (bars, interval bounds, lines, thresholds), and legend notes."""
    colours = iter(SERIES_COLOURS * (1 + len(figure.series) // len(SERIES_COLOURS)))
    kind = figure.kind
    floor = _floor(figure)
    main: list[_Plot] = []
    bands: list[_Plot] = []
    notes: list[str] = []
    for s in figure.series:
        colour, swatch = next(colours)
        if all(v is None for v in s.values):
            notes.append(f"{label(s.name)}: no values, not drawn")
            continue
        values, gaps = _filled(s.values, kind, floor)
        if gaps:
            how = "no bar" if kind == "bar" else "bridged"
            points = ", ".join(tick(figure.x[i]) for i in gaps[:5])
            more = f" and {len(gaps) - 5} more" if len(gaps) > 5 else ""
            notes.append(f"{label(s.name)}: no value at {points}{more} ({how})")
        main.append(_Plot(kind, s.name, values, colour, swatch))
        for bound, which in ((s.low, "low"), (s.high, "high")):
            if bound is not None and any(v is not None for v in bound):
                filled, _ = _filled(bound, "line", floor)
                bands.append(_Plot("line", f"{s.name} {which}", filled, _tint(colour), swatch,
                                   note="interval bound", of=s.name))
    order = ([*main, *bands] if kind == "bar" else [*bands, *main])
    for i, t in enumerate(figure.thresholds):
        colour, swatch = THRESHOLD_COLOURS[min(i, len(THRESHOLD_COLOURS) - 1)]
        order.append(_Plot("line", f"{t.name} = {t.value:.4g}", [t.value] * len(figure.x),
                           colour, swatch, note="threshold"))
    return order, notes


def _filled(values: list[float | None], kind: str, floor: float) -> tuple[list[float], list[int]]:
    """Every point a number (see "Gaps" in the module docstring), and where there was none."""
    gaps = [i for i, v in enumerate(values) if v is None or not math.isfinite(v)]
    holes = set(gaps)
    known = [(i, float(v)) for i, v in enumerate(values) if i not in holes and v is not None]
    if kind == "bar" or not known:
        return [floor if i in holes else float(v or 0.0) for i, v in enumerate(values)], gaps
    out: list[float] = []
    for i, v in enumerate(values):
        if i not in holes and v is not None:
            out.append(float(v))
            continue
        before = [(j, y) for j, y in known if j < i]
        after = [(j, y) for j, y in known if j > i]
        if before and after:
            (j0, y0), (j1, y1) = before[-1], after[0]
            out.append(y0 + (y1 - y0) * (i - j0) / (j1 - j0))
        else:
            out.append((before[-1] if before else after[0])[1])
    return out, gaps


def _floor(figure: Figure) -> float:
    """Where a bar with no value sits: the bottom of the y axis, so no bar shows."""
    return figure.y_range[0] if figure.y_range else min([0.0, *_finite(figure)])


def _finite(figure: Figure) -> list[float]:
    values: list[float] = [t.value for t in figure.thresholds]
    for s in figure.series:
        for seq in (s.values, s.low or [], s.high or []):
            values += [float(v) for v in seq if v is not None and math.isfinite(v)]
    return values


def _y_range(figure: Figure, plots: list[_Plot]) -> tuple[float, float]:
    if figure.y_range and figure.y_range[1] > figure.y_range[0]:
        return figure.y_range
    values = _finite(figure) or [0.0, 1.0]
    lo, hi = min(values), max(values)
    if figure.kind == "bar":
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = hi - lo or max(abs(hi), 1.0)
    top = hi + span * HEADROOM
    bottom = lo - span * HEADROOM
    if lo >= 0 > bottom:
        bottom = 0.0  # non-negative data keeps its zero: no axis starting at -0.05
    return _round_down(bottom), _round_up(top)


def _round_down(value: float) -> float:
    return -_round_up(-value)


def _round_up(value: float) -> float:
    """``value`` rounded up to 2 significant digits: axis ends that read as round numbers."""
    if value == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - 1)
    return math.ceil(value / step) * step


def _x_axis(figure: Figure) -> str:
    title = f'"{label(figure.x_label, TITLE_MAX)}" ' if figure.x_label else ""
    if figure.kind == "line" and _evenly_spaced(figure.x):
        return f"x-axis {title}{number(float(figure.x[0]))} --> {number(float(figure.x[-1]))}"
    ticks = ", ".join(f'"{tick(v)}"' for v in figure.x)
    return f"x-axis {title}[{ticks}]"


def _evenly_spaced(x: list[object]) -> bool:
    """Numbers, ascending, at equal steps: what xychart's numeric x axis draws exactly."""
    if len(x) < 2 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in x):
        return False
    xs = [float(v) for v in x]  # type: ignore[arg-type]
    if not all(math.isfinite(v) for v in xs):
        return False
    step = (xs[-1] - xs[0]) / (len(xs) - 1)
    if step <= 0:
        return False
    return all(abs(xs[i + 1] - xs[i] - step) <= EVEN_SPACING * step * len(xs)
               for i in range(len(xs) - 1))


def _init(plots: list[_Plot]) -> str:
    """The ``init`` directive: one palette colour per plot, in declaration order."""
    palette = ", ".join(p.colour for p in plots) or SERIES_COLOURS[0][0]
    return ('%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "'
            + palette + '"}}}}%%')


def _legend(plots: list[_Plot], missing: list[str]) -> list[str]:
    """One entry per plot in declaration order; a series' two bounds share one entry."""
    parts = []
    for i, p in enumerate(plots):
        what = f"{p.swatch} {label(p.name)}"
        if p.note == "interval bound":
            if i and plots[i - 1].note == "interval bound" and plots[i - 1].of == p.of:
                continue  # "high" right after its "low"
            what = f"light {p.swatch} {label(p.of)} interval bounds"
        elif p.note == "threshold":
            what = f"{what} (threshold)"
        elif p.kind == "line" and any(q.kind == "bar" for q in plots):
            what = f"{what} (line)"
        parts.append(what)
    return [" · ".join(parts), *missing] if parts else missing


def _tint(colour: str) -> str:
    """``colour`` halfway to white: the interval bounds of a series, lighter than the series."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{(c + 255) // 2:02x}" for c in (r, g, b))

