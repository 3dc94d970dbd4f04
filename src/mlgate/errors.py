"""Errors that mean "the input is wrong", as opposed to "the gate failed".

The CLI turns an :class:`InputError` into exit code 2 and a single line naming the file or
field, so that users never have to read a traceback to find what to fix.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input, configuration or usage: exit code 2.

    ``source`` names where the problem is (a file, ``file:yaml.path``, a flag or a URL) and is
    printed first so that the one-line message always points at something the user can open.
    """

    def __init__(self, message: str, source: str | Path | None = None) -> None:
        self.message = message
        self.source = str(source) if source is not None else None
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        return f"{self.source}: {text}" if self.source else text
