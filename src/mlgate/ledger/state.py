"""What the tag *names* say: every ledger tag of every artifact, from one ``git show-ref``.

This index decides nothing about trust: a tag name is a claim anyone with push rights can
make. It answers the questions names can answer safely (which tag names exist, which counter
comes next, which version tag sits on a commit) and tells the validating reader
(:mod:`mlgate.ledger.validate`) which tags to look at. With packed refs (any clone, or after
``git gc``) git answers from ``packed-refs`` without opening a tag object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.tags import (
    ASSIGN,
    DEREGISTER,
    REGISTER,
    UNASSIGN,
    parse_tag,
    version_key,
)


@dataclass(frozen=True)
class TagRef:
    """A tag ref: its name, the object it points at, and the commit it peels to."""

    name: str
    oid: str
    commit: str
    annotated: bool


@dataclass(frozen=True)
class StageRef:
    """A stage tag (``NAME#STAGE#N`` or ``NAME#STAGE!#N``) as named."""

    stage: str
    counter: int
    unassign: bool
    ref: TagRef


@dataclass
class ArtifactIndex:
    """One artifact's tags by name."""

    name: str
    versions: dict[str, TagRef] = field(default_factory=dict)
    deregistered: dict[str, TagRef] = field(default_factory=dict)
    stage_refs: list[StageRef] = field(default_factory=list)

    @property
    def max_counter(self) -> int:
        """The highest counter any stage tag uses: the next write takes the one after, whatever
        the validity of the tags (a tag name can never be reused)."""
        return max((s.counter for s in self.stage_refs), default=0)

    def versions_sorted(self) -> list[str]:
        return sorted(self.versions, key=version_key)

    def latest_name(self) -> str | None:
        """The highest version *name* (for bumping: names must not collide, valid or not)."""
        return max(self.versions, key=version_key) if self.versions else None

    def stages(self) -> list[str]:
        seen: dict[str, None] = {}
        for s in sorted(self.stage_refs, key=lambda s: s.counter):
            seen.setdefault(s.stage, None)
        return list(seen)

    def stage_events(self, stage: str) -> list[StageRef]:
        return sorted((s for s in self.stage_refs if s.stage == stage), key=lambda s: s.counter)

    def by_counter(self, counter: int) -> list[StageRef]:
        return [s for s in self.stage_refs if s.counter == counter]

    def versions_at(self, commit: str) -> list[str]:
        return [v for v, ref in self.versions.items() if ref.commit == commit]


@dataclass
class Index:
    """Every artifact of a repository, by tag name."""

    repo: Path
    artifacts: dict[str, ArtifactIndex]
    refs: dict[str, TagRef]

    def artifact(self, name: str, source: str = "NAME") -> ArtifactIndex:
        state = self.artifacts.get(name)
        if state is None:
            known = ", ".join(sorted(self.artifacts)) or "none registered yet"
            raise InputError(f"unknown artifact {name!r} (known: {known})", source)
        return state


def load_index(repo: Path) -> Index:
    """The index of ``repo``'s tags (one ``git show-ref --tags --dereference``)."""
    refs = read_tag_refs(repo)
    artifacts: dict[str, ArtifactIndex] = {}
    for ref in refs.values():
        parsed = parse_tag(ref.name)
        if parsed is None:
            continue
        state = artifacts.setdefault(parsed.artifact, ArtifactIndex(parsed.artifact))
        if parsed.action == REGISTER and parsed.version:
            state.versions[parsed.version] = ref
        elif parsed.action == DEREGISTER and parsed.version:
            state.deregistered[parsed.version] = ref
        elif parsed.action in (ASSIGN, UNASSIGN) and parsed.stage and parsed.counter is not None:
            state.stage_refs.append(
                StageRef(parsed.stage, parsed.counter, parsed.action == UNASSIGN, ref))
    return Index(repo, artifacts, refs)


def read_tag_refs(repo: Path) -> dict[str, TagRef]:
    """Every tag: name, object id, peeled commit, and whether it is an annotated tag."""
    try:
        out = gitio.git(repo, "show-ref", "--tags", "--dereference")
    except gitio.GitError as exc:
        if exc.code == 1 and not exc.stderr:  # no tags at all
            return {}
        raise
    oids: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition(" ")
        if not ref.startswith("refs/tags/"):
            continue
        name = ref[len("refs/tags/"):]
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        else:
            oids[name] = sha
    return {
        name: TagRef(name, oid, peeled.get(name, oid), name in peeled)
        for name, oid in oids.items()
    }
