"""Writing the scored batch and its lineage record so that nothing partial is ever seen.

Each file is written to a temporary file in the destination's directory (same file system) and
renamed over the destination only when everything else succeeded; a failure removes the
temporary files. A reader therefore sees the previous output or the whole new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


class Staged:
    """Temporary files waiting for :meth:`commit`; removed on :meth:`discard`."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def table(self, frame: pd.DataFrame, destination: Path, fmt: str) -> Path:
        """Write ``frame`` as CSV or Parquet to a temporary file beside ``destination``."""
        tmp = self._temporary(destination)
        try:
            if fmt == "csv":
                frame.to_csv(tmp, index=False)
            else:
                frame.to_parquet(tmp, index=False)
        except (OSError, ValueError, ImportError) as exc:
            raise InputError(f"cannot write the output ({type(exc).__name__}: "
                             f"{str(exc)[:200]})", destination) from exc
        return tmp

    def json(self, doc: dict[str, Any], destination: Path) -> Path:
        tmp = self._temporary(destination)
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n",
                       encoding="utf-8")
        return tmp

    def commit(self) -> None:
        """Rename every staged file into place."""
        for tmp, destination in self._pending:
            os.replace(tmp, destination)
        self._pending.clear()

    def discard(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._pending.clear()

    def _temporary(self, destination: Path) -> Path:
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp",
                                        dir=destination.parent)
        except OSError as exc:
            raise InputError(f"cannot write here: {exc.strerror}", destination) from exc
        os.close(fd)
        tmp = Path(name)
        self._pending.append((tmp, destination))
        return tmp


@contextlib.contextmanager
def staged() -> Iterator[Staged]:
    """Files staged inside the block are removed unless the block committed them."""
    files = Staged()
    try:
        yield files
    finally:
        files.discard()
