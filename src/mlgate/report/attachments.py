"""``report.attachments``: files the user's training wrote (plots, confusion matrices) that
travel with the HTML report in the workflow artifact.

They are repository paths or globs, relative to the directory holding mlgate.yaml. A pull
request can edit mlgate.yaml, and the report action uploads whatever the patterns match, so a
pattern must not reach outside the repository: no absolute path, no ``..`` segment, and no match
whose real path (after symlinks) lies outside. Anything else stops the command with exit 2 and
one line naming the field. The HTML report lists each file with its size and sha256, so what
was uploaded can be tied to the report that named it.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError
from mlgate.provenance import sha256_file

if TYPE_CHECKING:
    from mlgate.config import Config

MAX_FILES = 1000  # a pattern like "**" must not turn an artifact into a copy of the repository
_DRIVE = re.compile(r"^[A-Za-z]:")


def attachment_patterns(config: Config) -> list[str]:
    """The configured patterns, each checked to stay inside the repository."""
    patterns = (config.section("report").get("attachments")) or []
    for index, pattern in enumerate(patterns):
        problem = _outside(str(pattern))
        if problem:
            raise InputError(f"report.attachments[{index}]: {pattern!r} {problem}; use a path "
                             "relative to mlgate.yaml inside the repository",
                             _where(config, index))
    return [str(p) for p in patterns]


def collect_attachments(config: Config) -> list[Path]:
    """Files the patterns match (sorted, each once; directories and missing files skipped,
    since a training run may not have written every plot)."""
    root = config.root.resolve()
    found: dict[Path, None] = {}
    for index, pattern in enumerate(attachment_patterns(config)):
        for match in sorted(glob.glob(pattern, root_dir=root, recursive=True)):
            path = root / match
            if not path.is_file():
                continue
            if not path.resolve().is_relative_to(root):
                raise InputError(f"report.attachments[{index}]: {match!r} leads outside the "
                                 "repository (a symlink)", _where(config, index))
            found[path] = None
            if len(found) > MAX_FILES:
                raise InputError(f"report.attachments: more than {MAX_FILES} files match",
                                 _where(config, index))
    return list(found)


def attachment_entries(config: Config, files: list[Path]) -> list[dict[str, Any]]:
    """What the HTML report lists per attachment: path (relative), bytes and sha256."""
    root = config.root.resolve()
    return [{"path": path.relative_to(root).as_posix(), "bytes": path.stat().st_size,
             "sha256": sha256_file(path)} for path in files]


def _outside(pattern: str) -> str:
    """Why a pattern may reach outside the repository, or ""."""
    if not pattern.strip():
        return "is empty"
    if (pattern.startswith(("/", "\\", "~")) or _DRIVE.match(pattern)
            or PurePosixPath(pattern).is_absolute() or PureWindowsPath(pattern).is_absolute()):
        return "is an absolute path"
    if ".." in re.split(r"[/\\]", pattern):
        return "goes up with '..'"
    return ""


def _where(config: Config, index: int) -> str:
    line = config.line_of("report", "attachments", index)
    return f"{config.path}:{line}" if line else str(config.path)
