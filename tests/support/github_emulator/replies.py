"""The emulator's error answer, shared by the request pipeline and every group of operations."""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"


class Reply(Exception):
    """Raised by an operation to answer with an error status (validated like any response)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, "documentation_url": DOCS, **extra}
        self.headers: dict[str, str] = {}
