"""Figures (:mod:`mlgate.figures`) drawn as inline SVG for the HTML report, with matplotlib.

Why matplotlib and why like this:

* Only here, and only when an HTML report is written: importing matplotlib costs hundreds of
  milliseconds that no other command should pay, so :func:`figure_svg` imports it lazily.
* No pyplot: pyplot keeps global figure state and picks a GUI backend from ``MPLBACKEND`` or
  the environment. A :class:`matplotlib.figure.Figure` printed by ``FigureCanvasSVG`` draws the
  same everywhere (CI runners, a developer's laptop with a display) and leaks nothing.
* Text stays text (``svg.fonttype: none``): the SVG stays small and labels can be searched and
  copied. matplotlib escapes it for XML, and mathtext is off (``text.parse_math``): a column
  named ``$\\frac{1}{0}$`` is shown as typed, never typeset, and cannot fail the drawing.
* Every id inside an SVG is prefixed per figure: several SVGs live in one HTML document and
  their clip paths (``url(#p…)``) would otherwise collide.
"""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from mlgate.figures import Figure
from mlgate.report.text import plain_text

WIDTH_IN, HEIGHT_IN = 7.0, 3.6
MAX_LABEL = 40  # characters of a tick or legend label; longer ones are cut with an ellipsis

_PROLOG = re.compile(r"^\s*<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", re.IGNORECASE)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')


def figure_svg(figure: Figure, prefix: str = "f") -> str:
    """The figure as an ``<svg>`` element ready to inline into HTML (no XML prolog/DOCTYPE).

    ``prefix`` makes the SVG's internal ids unique within the page. A figure without data
    (no ``x``, no series, only gaps) still renders: an empty frame saying so, rather than a
    report that fails because one gate had nothing to plot.
    """
    matplotlib = _matplotlib()
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure as MplFigure

    rc = {"svg.fonttype": "none", "text.usetex": False, "text.parse_math": False,
          "svg.hashsalt": prefix, "font.size": 9.0, "axes.spines.top": False,
          "axes.spines.right": False}
    with matplotlib.rc_context(rc):
        fig = MplFigure(figsize=(WIDTH_IN, HEIGHT_IN), layout="constrained")
        FigureCanvasSVG(fig)
        ax = fig.add_subplot()
        drawn = _draw(ax, figure)
        if not drawn:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
                    color="#666666")
        _thresholds(ax, figure)
        if figure.y_range is not None:
            ax.set_ylim(*figure.y_range)
        ax.set_xlabel(_label(figure.x_label, 80))
        ax.set_ylabel(_label(figure.y_label, 80))
        ax.grid(axis="y", alpha=0.3)
        handles, _ = ax.get_legend_handles_labels()
        if handles:
            ax.legend(loc="best", fontsize=8, frameon=False)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    return _inline(out.getvalue(), prefix)


def _draw(ax: Any, figure: Figure) -> bool:
    """Draw the series; False when there was nothing to draw."""
    if not figure.x or not figure.series:
        return False
    if not any(v is not None for s in figure.series for v in s.values):
        return False
    if figure.kind == "bar":
        _bars(ax, figure)
    else:
        _lines(ax, figure)
    return True


def _bars(ax: Any, figure: Figure) -> None:
    """Grouped bars per category; an interval is an error bar from ``low`` to ``high``."""
    positions = list(range(len(figure.x)))
    n = len(figure.series)
    width = 0.8 / n
    for i, series in enumerate(figure.series):
        offsets = [p - 0.4 + width * (i + 0.5) for p in positions]
        values = _floats(series.values)
        ax.bar(offsets, [0.0 if math.isnan(v) else v for v in values], width=width,
               label=_legend(series.name))
        errors = _errors(values, series.low, series.high)
        if errors is not None:
            ax.errorbar(offsets, values, yerr=errors, fmt="none", ecolor="#333333",
                        capsize=3, linewidth=1)
    labels = [_label(x, MAX_LABEL) for x in figure.x]
    ax.set_xticks(positions, labels)
    if len(labels) > 6 or any(len(label) > 10 for label in labels):
        for tick in ax.get_xticklabels():
            tick.set_rotation(30)
            tick.set_horizontalalignment("right")


def _lines(ax: Any, figure: Figure) -> None:
    """Lines over numeric ``x`` (category positions when ``x`` is not numeric); an interval
    is a translucent band; None is a gap in the line."""
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in figure.x)
    xs = [float(x) for x in figure.x] if numeric else list(range(len(figure.x)))
    for series in figure.series:
        values = _floats(series.values)
        (line,) = ax.plot(xs, values, marker="o" if len(xs) <= 30 else None, markersize=3,
                          linewidth=1.5, label=_legend(series.name))
        if series.low is not None and series.high is not None:
            n = len(xs)
            low = (_floats(series.low) + [math.nan] * n)[:n]
            high = (_floats(series.high) + [math.nan] * n)[:n]
            ax.fill_between(xs, low, high,
                            color=line.get_color(), alpha=0.2, linewidth=0)
    if not numeric:
        ax.set_xticks(xs, [_label(x, MAX_LABEL) for x in figure.x])


def _thresholds(ax: Any, figure: Figure) -> None:
    """Thresholds as dashed horizontal lines, each named in the legend."""
    for threshold in figure.thresholds:
        value = _floats([threshold.value])[0]
        if math.isnan(value):
            continue
        ax.axhline(value, linestyle="--", linewidth=1.2, color="#c0392b",
                   label=_legend(f"{threshold.name} ({value:g})" if threshold.name
                                 else f"{value:g}"))


def _errors(values: list[float], low: list[float | None] | None,
            high: list[float | None] | None) -> list[list[float]] | None:
    """Asymmetric error bar lengths from interval bounds (NaN where a bound is missing)."""
    if low is None and high is None:
        return None
    n = len(values)
    lows = (_floats(low) + [math.nan] * n)[:n] if low is not None else [math.nan] * n
    highs = (_floats(high) + [math.nan] * n)[:n] if high is not None else [math.nan] * n
    below = [_length(v - lo) for v, lo in zip(values, lows, strict=True)]
    above = [_length(hi - v) for v, hi in zip(values, highs, strict=True)]
    return [below, above]


def _length(difference: float) -> float:
    """An error bar length: none where a bound or the value is missing."""
    return 0.0 if math.isnan(difference) else max(difference, 0.0)


def _floats(values: list[Any]) -> list[float]:
    """Numbers for matplotlib: None and non-numbers become NaN (a gap, no bar)."""
    out = []
    for v in values:
        try:
            number = float(v) if v is not None else math.nan
        except (TypeError, ValueError):
            number = math.nan
        out.append(number if math.isfinite(number) else math.nan)
    return out


def _label(value: Any, limit: int) -> str:
    """Text from data for matplotlib: one line, no controls, bounded. XML escaping is the SVG
    writer's, and mathtext is off, so ``$`` and ``\\`` are shown as they are."""
    return plain_text(value, limit)


def _legend(name: Any) -> str:
    """A legend label; matplotlib hides labels starting with ``_``, so they get a zero-width
    space in front and still show."""
    text = _label(name, MAX_LABEL)
    return "\u200b" + text if text.startswith("_") else text


def _inline(svg: str, prefix: str) -> str:
    """The SVG document as an element: no prolog or DOCTYPE, ids unique within the page."""
    svg = _METADATA.sub("", _PROLOG.sub("", svg))  # RDF naming matplotlib: no use inline
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    return svg.strip()


_READY = False


def _matplotlib() -> Any:
    """matplotlib, imported on first use with a writable config directory.

    matplotlib writes a font cache to MPLCONFIGDIR (default ``~/.config/matplotlib`` and
    ``~/.cache``); on runners or containers where the home is read-only it would warn on
    every run, so it gets a temporary directory instead.
    """
    global _READY
    if not _READY:
        if not os.environ.get("MPLCONFIGDIR") and not _home_writable():
            os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="mlgate-matplotlib-")
        _READY = True
    import matplotlib

    return matplotlib


def _home_writable() -> bool:
    try:
        home = Path.home()
    except RuntimeError:
        return False
    for place in (home / ".config", home / ".cache", home):
        if place.exists():
            return os.access(place, os.W_OK)
    return False
