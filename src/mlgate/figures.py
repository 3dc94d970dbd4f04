"""Charts described by their data, so each report draws them its own way.

A gate knows what is worth a picture (a ROC curve of candidate and champion, drift per column
against its threshold, latency over the run) but not where it will be shown: a pull-request
comment draws it as a Mermaid chart GitHub renders, the HTML report as inline SVG, a terminal
not at all. So a gate returns a :class:`Figure` (numbers, labels, thresholds and how important
it is) and the renderers in :mod:`mlgate.report` decide the drawing. Figures are shown, never
judged: they are not part of a result's digest, and a report without them reads the same.

Two kinds cover every chart the gates draw:

* ``bar``: one bar per category (``x`` are the category labels) for each series, e.g.
  candidate vs champion per metric, drift statistic per column, permutation importance;
* ``line``: series over numeric ``x`` values (``x`` ascending), e.g. ROC and precision-recall
  curves resampled on a fixed grid, calibration, latency percentiles over time. Mermaid's
  xychart spaces points evenly, so producers resample curves onto evenly spaced ``x``.

``low``/``high`` of a series are interval bounds (a confidence interval) per point; a
``threshold`` is a horizontal reference line (a drift limit, a latency SLO). ``priority`` says
which figures a size-limited report (a PR comment, 65,536 characters) drops first: lower
numbers are kept longer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

KINDS = ("bar", "line")
MAX_POINTS = 200  # a figure is a summary: bounded, whatever the data size


@dataclass
class Series:
    """One named sequence of values, aligned with its figure's ``x``; None is a gap."""

    name: str
    values: list[float | None]
    low: list[float | None] | None = None
    high: list[float | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "values": _numbers(self.values)}
        if self.low is not None:
            out["low"] = _numbers(self.low)
        if self.high is not None:
            out["high"] = _numbers(self.high)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Series:
        low, high = data.get("low"), data.get("high")
        return cls(str(data.get("name", "")), _numbers(data.get("values") or []),
                   _numbers(low) if low is not None else None,
                   _numbers(high) if high is not None else None)


@dataclass
class Threshold:
    """A horizontal reference line: the limit a value is judged against."""

    name: str
    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


@dataclass
class Figure:
    """A chart as data: see the module docstring for the kinds and fields."""

    id: str  # stable and unique within a report, e.g. "model.roc" (HTML anchors, tests)
    title: str
    kind: str
    x: list[Any]
    series: list[Series]
    x_label: str = ""
    y_label: str = ""
    thresholds: list[Threshold] = field(default_factory=list)
    priority: int = 50
    y_range: tuple[float, float] | None = None
    note: str = ""  # one line under the chart: what to read from it

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"figure kind must be one of {KINDS}, not {self.kind!r}")
        for s in self.series:
            if len(s.values) != len(self.x):
                raise ValueError(f"figure {self.id}: series {s.name!r} has {len(s.values)} "
                                 f"values for {len(self.x)} x values")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "title": self.title, "kind": self.kind,
            "x": [_number(v) if isinstance(v, int | float) else str(v) for v in self.x],
            "series": [s.to_dict() for s in self.series],
            "x_label": self.x_label, "y_label": self.y_label,
            "thresholds": [t.to_dict() for t in self.thresholds],
            "priority": self.priority,
        }
        if self.y_range is not None:
            out["y_range"] = [self.y_range[0], self.y_range[1]]
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Figure:
        y_range = data.get("y_range")
        return cls(
            id=str(data["id"]), title=str(data.get("title", "")), kind=str(data["kind"]),
            x=list(data.get("x") or []),
            series=[Series.from_dict(s) for s in data.get("series") or []],
            x_label=str(data.get("x_label", "")), y_label=str(data.get("y_label", "")),
            thresholds=[Threshold(str(t.get("name", "")), float(t["value"]))
                        for t in data.get("thresholds") or []],
            priority=int(data.get("priority", 50)),
            y_range=(float(y_range[0]), float(y_range[1])) if y_range else None,
            note=str(data.get("note", "")),
        )


def _number(value: Any) -> float | None:
    """A finite float, or None (JSON has no NaN or infinity; a gap in the chart)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _numbers(values: list[Any]) -> list[float | None]:
    return [_number(v) for v in values]
