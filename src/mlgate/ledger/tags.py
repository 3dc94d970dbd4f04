r"""Tag names in GTO's format, so ``gto show`` and ``gto history`` read the ledger as is.

* version:        ``NAME@vX.Y.Z``             (registration)
* deregistration: ``NAME@vX.Y.Z!``
* assignment:     ``NAME#STAGE#N``            (N counts per artifact across all stages)
* unassignment:   ``NAME#STAGE!#N``           (used by rollback; never a deleted tag)

Names follow GTO's rules: letters, digits, ``-``, ``_`` and ``/``, starting and ending with a
letter or digit; an optional ``dir:`` prefix is spelled ``dir=`` inside a tag. Every pattern
spells its characters out (``[0-9]``, never ``\d``): Python's ``\d`` also matches other
scripts' digits, and ``v0.1٣.0`` must not be a version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from mlgate.errors import InputError

NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9\-/_]*[a-zA-Z0-9])?"
_SEMVER = (
    r"(?P<major>0|[1-9][0-9]*)\.(?P<minor>0|[1-9][0-9]*)\.(?P<patch>0|[1-9][0-9]*)"
    r"(?:-(?P<pre>[0-9A-Za-z\-]+(?:\.[0-9A-Za-z\-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z\-]+(?:\.[0-9A-Za-z\-]+)*))?"
)
_ARTIFACT = rf"(?:[a-zA-Z0-9\-_./]+=)?{NAME}"
TAG_RE = re.compile(
    rf"^(?P<artifact>{_ARTIFACT})"
    rf"(?:@(?P<version>v{_SEMVER})(?P<vcancel>!?)|#(?P<stage>{NAME})(?P<scancel>!?)#(?P<counter>[0-9]+))$"
)
NAME_RE = re.compile(rf"^(?:[a-zA-Z0-9\-_./]+:)?{NAME}$")
STAGE_RE = re.compile(rf"^{NAME}$")
VERSION_RE = re.compile(rf"^v{_SEMVER}$")

REGISTER, DEREGISTER, ASSIGN, UNASSIGN = "register", "deregister", "assign", "unassign"


@total_ordering
@dataclass(frozen=True)
class SemVer:
    """A ``vMAJOR.MINOR.PATCH[-pre][+build]`` version with semver precedence."""

    major: int
    minor: int
    patch: int
    pre: str = ""
    build: str = ""

    @classmethod
    def parse(cls, text: str, source: str = "--version") -> SemVer:
        cached = _PARSED.get(text)
        if cached is not None:
            return cached
        parsed = cls._parse(text, source)
        _PARSED[text] = parsed
        return parsed

    @classmethod
    def _parse(cls, text: str, source: str) -> SemVer:
        match = VERSION_RE.match(text)
        if not match:
            raise InputError(f"{text!r} is not a version of the form vX.Y.Z", source)
        return cls(int(match["major"]), int(match["minor"]), int(match["patch"]),
                   match["pre"] or "", match["build"] or "")

    def bump(self, part: str) -> SemVer:
        if part == "major":
            return SemVer(self.major + 1, 0, 0)
        if part == "minor":
            return SemVer(self.major, self.minor + 1, 0)
        return SemVer(self.major, self.minor, self.patch + 1)

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        key = _KEYS.get(self)
        if key is None:
            pre = tuple(
                (0, int(p)) if p.isdigit() else (1, p) for p in self.pre.split(".") if p
            )
            key = _KEYS[self] = (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)
        return key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        text = f"v{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.build:
            text += f"+{self.build}"
        return text


_PARSED: dict[str, SemVer] = {}
_KEYS: dict[SemVer, tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]] = {}


def version_key(text: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Sort key of a version string (semver precedence), cached: sorting thousands of version
    names must not re-parse them."""
    return SemVer.parse(text)._key()


@dataclass(frozen=True)
class ParsedTag:
    """What a ledger tag name says: the action, artifact, version or stage, and counter."""

    action: str
    artifact: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None


def parse_tag(name: str) -> ParsedTag | None:
    """Parse a tag name; None for tags that are not ledger tags (e.g. ``v1.0``)."""
    match = TAG_RE.match(name)
    if not match:
        return None
    artifact = match["artifact"].replace("=", ":")
    if match["version"]:
        action = DEREGISTER if match["vcancel"] else REGISTER
        return ParsedTag(action, artifact, version=match["version"])
    action = UNASSIGN if match["scancel"] else ASSIGN
    return ParsedTag(action, artifact, stage=match["stage"], counter=int(match["counter"]))


def version_tag(artifact: str, version: str) -> str:
    return f"{artifact.replace(':', '=')}@{version}"


def stage_tag(artifact: str, stage: str, counter: int, unassign: bool = False) -> str:
    return f"{artifact.replace(':', '=')}#{stage}{'!' if unassign else ''}#{counter}"


def check_name(name: str, source: str = "NAME") -> str:
    if not NAME_RE.match(name):
        raise InputError(
            f"{name!r} is not a valid artifact name (letters, digits, '-', '_', '/'; "
            "starting and ending with a letter or digit)",
            source,
        )
    return name


def check_stage_name(stage: str, source: str) -> str:
    if not STAGE_RE.match(stage):
        raise InputError(f"{stage!r} is not a valid stage name", source)
    return stage
