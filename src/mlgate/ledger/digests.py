"""Digests of git objects, cached by object id: recomputed once per content, never per run.

A git object id names its content, so "the sha256 of blob X" or "the digests inside note blob
Y" can never change: caching them is safe. What is *not* cached is any verdict: whether a
tag's record matches those digests is decided afresh every time from the live refs.

The cache is a JSON file in the repository's git directory (``mlgate/digests-v1.json``); a
missing, unreadable or unwritable cache only costs time.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mlgate.ledger import gitio

CACHE_NAME = "digests-v1.json"
MAX_ENTRIES = 200_000


class DigestCache:
    """``kind -> object id -> value`` with lazy load and an atomic save when something new
    was computed."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self._data: dict[str, dict[str, Any]] | None = None
        self._dirty = False
        self._path: Path | None = None

    def get(self, kind: str, oid: str) -> Any:
        return self._load().get(kind, {}).get(oid)

    def put(self, kind: str, oid: str, value: Any) -> None:
        table = self._load().setdefault(kind, {})
        if len(table) >= MAX_ENTRIES:
            table.clear()
        table[oid] = value
        self._dirty = True

    def save(self) -> None:
        if not self._dirty or self._data is None:
            return
        path = self._file()
        if path is None:
            return
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".digests-", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self._data, fh, separators=(",", ":"))
            os.replace(tmp, path)
            self._dirty = False

    def _file(self) -> Path | None:
        if self._path is None:
            try:
                common = gitio.git(self.repo, "rev-parse", "--git-common-dir").strip()
            except gitio.GitError:
                return None
            base = Path(common)
            if not base.is_absolute():
                base = self.repo / base
            self._path = base / "mlgate" / CACHE_NAME
        return self._path

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._data = {}
            path = self._file()
            if path is not None:
                with contextlib.suppress(OSError, ValueError, RecursionError):
                    loaded = json.loads(path.read_text(encoding="utf-8"))
                    if isinstance(loaded, dict):
                        self._data = {k: v for k, v in loaded.items() if isinstance(v, dict)}
        return self._data
