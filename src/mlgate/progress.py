"""Progress for long work: a live bar on a terminal, a line every few seconds in CI logs.

CI logs are not terminals; redrawing a bar there produces thousands of lines, so when stderr
is not a TTY we print a plain line at most every ``interval`` seconds instead.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    def __init__(
        self,
        label: str,
        total: float,
        unit: str = "",
        stream: TextIO | None = None,
        interval: float = 5.0,
        enabled: bool = True,
    ) -> None:
        self.label = label
        self.total = max(total, 1e-9)
        self.unit = unit
        self.stream = stream or sys.stderr
        self.interval = interval
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._started = time.monotonic()

    def update(self, done: float, note: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self._last < 0.1:
                return
            width = 30
            filled = int(width * min(done / self.total, 1.0))
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(
                f"\r{self.label} [{bar}] {done:.0f}/{self.total:.0f}{self.unit} {note}"
            )
            self.stream.flush()
        elif now - self._last >= self.interval:
            pct = 100.0 * min(done / self.total, 1.0)
            self.stream.write(
                f"{self.label}: {pct:.0f}% ({done:.0f}/{self.total:.0f}{self.unit}) {note}\n"
            )
            self.stream.flush()
        else:
            return
        self._last = now

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
