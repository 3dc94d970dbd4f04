"""Durations as users write them (``10s``, ``2m``, ``250ms``) and latencies as reports show them."""

from __future__ import annotations

import re

from mlgate.errors import InputError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(us|µs|ms|s|m|h)?\s*$")
_SCALE = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: str | float | int, source: str, default_unit: str = "s") -> float:
    """Seconds from ``10s``/``2m``/``500ms``/``1.5`` (bare numbers use ``default_unit``)."""
    if isinstance(value, bool):
        raise InputError(f"expected a duration such as 10s or 500ms, got {value!r}", source)
    if isinstance(value, int | float):
        seconds = float(value) * _SCALE[default_unit]
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise InputError(
                f"expected a duration such as 10s, 2m or 500ms, got {value!r}", source
            )
        seconds = float(match.group(1)) * _SCALE[match.group(2) or default_unit]
    if seconds < 0:
        raise InputError(f"duration must not be negative, got {value!r}", source)
    return seconds


def format_ms(ms: float | None) -> str:
    """``12.3ms`` / ``1.25s``: short, with as many digits as a latency deserves."""
    if ms is None:
        return "n/a"
    if ms >= 1000:
        return f"{ms / 1000:.3g}s"
    if ms >= 100:
        return f"{ms:.0f}ms"
    return f"{ms:.3g}ms"
