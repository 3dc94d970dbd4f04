"""Read git objects on demand through one ``git cat-file --batch-command`` process.

The validating reader looks at a few tags, notes and blobs per artifact (``status`` needs the
newest entries of each stage, not all 10,000 tags); a process per object would cost ~3 ms each,
one long-lived process answers in microseconds. Specs come from tag records, which anyone with
push rights can write, so a spec with a control character (a newline would inject a second
command) is refused here, before it reaches git.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_CHUNK = 1 << 20
_BATCH = 256  # commands per prefetch write: ~20 KB, well inside a pipe's 64 KB
SIGNATURE_MARKERS = (
    b"-----BEGIN SSH SIGNATURE-----",
    b"-----BEGIN PGP SIGNATURE-----",
    b"-----BEGIN SIGNED MESSAGE-----",
)


@dataclass(frozen=True)
class TagObject:
    """An annotated tag object as stored: its headers, message and (detached) signature."""

    oid: str
    target: str
    target_type: str
    name: str
    tagger: str
    time: int | None
    message: str
    signature: bytes
    raw: bytes


class ObjectStore:
    """A lazily started ``git cat-file --batch-command`` for one repository (close it, or use
    it as a context manager)."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self._proc: subprocess.Popen[bytes] | None = None
        self._ahead: dict[str, tuple[str, str, bytes] | None] = {}

    def __enter__(self) -> ObjectStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def info(self, spec: str) -> tuple[str, str, int] | None:
        """(oid, type, size) of the object ``spec`` names, or None when there is none."""
        header = self._ask("info", spec)
        return header

    def prefetch(self, specs: list[str]) -> None:
        """Read many (small) objects in one exchange: commands are written in batches small
        enough to sit in the pipe while git answers, then the answers are read back. Saves a
        round trip per object when the caller knows what it will need."""
        wanted = [s for s in dict.fromkeys(specs) if s and s not in self._ahead
                  and not _UNSAFE.search(s)]
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start:start + _BATCH]
            proc = self._start()
            assert proc.stdin is not None
            proc.stdin.write("".join(f"contents {s}\n" for s in batch).encode())
            proc.stdin.flush()
            out = self._stdout()
            for spec in batch:
                parts = out.readline().decode("utf-8", "replace").rstrip("\n").split(" ")
                if len(parts) != 3 or not parts[2].isdigit():
                    self._ahead[spec] = None
                    continue
                data = _read_exactly(out, int(parts[2]))
                out.read(1)
                self._ahead[spec] = (parts[0], parts[1], data)

    def read(self, spec: str) -> tuple[str, str, bytes] | None:
        """(oid, type, content) of ``spec``, or None when it does not exist."""
        if spec in self._ahead:
            return self._ahead.pop(spec)
        header = self._ask("contents", spec)
        if header is None:
            return None
        oid, kind, size = header
        out = self._stdout()
        data = _read_exactly(out, size)
        out.read(1)  # the newline after the contents
        return oid, kind, data

    def sha256(self, spec: str) -> tuple[str, str] | None:
        """(oid, "sha256:<hex>") of a blob, streamed so a large model never sits in memory."""
        header = self._ask("contents", spec)
        if header is None:
            return None
        oid, _, size = header
        out = self._stdout()
        digest = hashlib.sha256()
        remaining = size
        while remaining:
            chunk = out.read(min(_CHUNK, remaining))
            if not chunk:
                raise OSError("git cat-file ended early")
            digest.update(chunk)
            remaining -= len(chunk)
        out.read(1)
        return oid, "sha256:" + digest.hexdigest()

    def tag(self, spec: str) -> TagObject | None:
        """The annotated tag object ``spec`` names (None when it is not an annotated tag)."""
        got = self.read(spec)
        if got is None or got[1] != "tag":
            return None
        return parse_tag_object(got[0], got[2])

    # -- protocol ------------------------------------------------------------------------

    def _ask(self, command: str, spec: str) -> tuple[str, str, int] | None:
        if not spec or _UNSAFE.search(spec):
            return None
        proc = self._start()
        assert proc.stdin is not None
        proc.stdin.write(f"{command} {spec}\n".encode())
        proc.stdin.flush()
        line = self._stdout().readline().decode("utf-8", "replace").rstrip("\n")
        parts = line.split(" ")
        if len(parts) != 3 or not parts[2].isdigit():  # "<spec> missing" / "ambiguous"
            return None
        return parts[0], parts[1], int(parts[2])

    def _stdout(self) -> IO[bytes]:
        assert self._proc is not None and self._proc.stdout is not None
        return self._proc.stdout

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
            self._proc = subprocess.Popen(
                ["git", "-C", str(self.repo), "cat-file", "--batch-command"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=env,
            )
        return self._proc


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise OSError("git cat-file ended early")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def parse_tag_object(oid: str, raw: bytes) -> TagObject:
    """Split a raw tag object into headers, message and trailing signature (if any)."""
    head, _, body = raw.partition(b"\n\n")
    headers: dict[str, str] = {}
    for line in head.split(b"\n"):
        key, _, value = line.decode("utf-8", "replace").partition(" ")
        headers.setdefault(key, value)
    signature = b""
    cut = min((i for i in (body.find(m) for m in SIGNATURE_MARKERS) if i >= 0), default=-1)
    if cut >= 0:
        body, signature = body[:cut], body[cut:]
    tagger = headers.get("tagger", "")
    time = None
    fields = tagger.rsplit(" ", 2)
    if len(fields) == 3 and fields[1].isascii() and fields[1].isdigit():
        time = int(fields[1])
    return TagObject(
        oid=oid,
        target=headers.get("object", ""),
        target_type=headers.get("type", ""),
        name=headers.get("tag", ""),
        tagger=fields[0] if len(fields) == 3 else tagger,
        time=time,
        message=body.decode("utf-8", "replace"),
        signature=signature,
        raw=raw,
    )
