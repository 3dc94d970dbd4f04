"""The registry state, computed from tag names alone (fast) or with their messages.

Which version is in a stage: replay the stage's assignment and unassignment tags in counter
order. An assignment makes a version the stage's current one; an unassignment (rollback)
removes it, so the most recently assigned version still assigned is current again. This is
the same answer ``gto show`` gives, but ordered by the counter instead of second-resolution
tag times, so two events in the same second are never ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.ledger import gitio, record
from mlgate.ledger.tags import ASSIGN, DEREGISTER, REGISTER, UNASSIGN, SemVer, parse_tag


@dataclass
class Event:
    """One ledger tag, interpreted."""

    action: str
    artifact: str
    tag: gitio.TagRef
    version: str | None
    stage: str | None = None
    counter: int | None = None

    @property
    def order(self) -> tuple[int, int]:
        return (self.tag.time, self.counter or 0)


@dataclass
class ArtifactState:
    name: str
    versions: dict[str, gitio.TagRef] = field(default_factory=dict)
    deregistered: set[str] = field(default_factory=set)
    stage_events: list[Event] = field(default_factory=list)
    _by_commit: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    @property
    def max_counter(self) -> int:
        return max((e.counter or 0 for e in self.stage_events), default=0)

    def next_event_time(self, now: int) -> int:
        """A tagger time later than every stage event of this artifact.

        GTO orders events by tag time (whole seconds); keeping each artifact's stage tags
        strictly increasing in time makes GTO's order the counter order even for promotions
        made within the same second.
        """
        last = max((e.tag.time for e in self.stage_events), default=0)
        last = max([last, *(ref.time for ref in self.versions.values())])
        return max(now, last + 1)

    def active_versions(self) -> list[str]:
        return [v for v in self.versions if v not in self.deregistered]

    def latest_version(self) -> str | None:
        versions = self.active_versions()
        return str(max(SemVer.parse(v) for v in versions)) if versions else None

    def version_at(self, commit: str, time: int) -> str | None:
        """The version an assignment at ``commit`` refers to (GTO's rule: the latest version
        registered at that commit no later than the assignment)."""
        candidates = self._by_commit.get(commit, [])
        if len(candidates) == 1:
            return candidates[0][1]
        earlier = [c for c in candidates if c[0] <= time] or candidates
        return max(earlier, key=lambda c: (c[0], SemVer.parse(c[1])))[1] if earlier else None

    def stages(self) -> list[str]:
        seen: dict[str, None] = {}
        for e in sorted(self.stage_events, key=lambda e: e.counter or 0):
            if e.stage:
                seen.setdefault(e.stage, None)
        return list(seen)

    def events_of(self, stage: str) -> list[Event]:
        return sorted(
            (e for e in self.stage_events if e.stage == stage), key=lambda e: e.counter or 0
        )

    def active_in(self, stage: str) -> list[str]:
        """Versions assigned to ``stage`` and not unassigned since, oldest assignment first."""
        active: list[str] = []
        for event in self.events_of(stage):
            if event.version is None:
                continue
            if event.version in active:
                active.remove(event.version)
            if event.action == ASSIGN:
                active.append(event.version)
        return active

    def current(self, stage: str) -> str | None:
        active = self.active_in(stage)
        return active[-1] if active else None

    def assignment_of(self, version: str, stage: str) -> Event | None:
        """The latest assignment of ``version`` to ``stage`` if it is still in force."""
        if version not in self.active_in(stage):
            return None
        assigns = [
            e for e in self.events_of(stage) if e.action == ASSIGN and e.version == version
        ]
        return assigns[-1] if assigns else None


@dataclass
class Registry:
    """Every artifact of a repository, from one ``for-each-ref``."""

    repo: Path
    artifacts: dict[str, ArtifactState]
    tags: dict[str, gitio.TagRef]

    def artifact(self, name: str, source: str = "NAME") -> ArtifactState:
        state = self.artifacts.get(name)
        if state is None:
            known = ", ".join(sorted(self.artifacts)) or "none registered yet"
            raise InputError(f"unknown artifact {name!r} (known: {known})", source)
        return state

    def message(self, tag: str) -> str:
        ref = self.tags.get(tag)
        if ref is not None and ref.message is not None:
            return ref.message
        return gitio.tag_message(self.repo, tag)

    def record(self, tag: str) -> dict[str, Any] | None:
        return record.parse(self.message(tag), tag)


def load_registry(repo: Path, with_messages: bool = False, names_only: bool = False) -> Registry:
    """The registry; ``names_only`` skips tag times and taggers (enough for ``status``, where
    the counters order the events) and reads nothing but refs."""
    if names_only:
        refs = gitio.read_tag_commits(repo)
    else:
        refs = gitio.read_tags(repo, with_messages=with_messages)
    artifacts: dict[str, ArtifactState] = {}
    pending: list[tuple[ArtifactState, Event]] = []
    for ref in refs:
        parsed = parse_tag(ref.name)
        if parsed is None:
            continue
        state = artifacts.setdefault(parsed.artifact, ArtifactState(parsed.artifact))
        if parsed.action == REGISTER and parsed.version:
            state.versions[parsed.version] = ref
            state._by_commit.setdefault(ref.commit, []).append((ref.time, parsed.version))
        elif parsed.action == DEREGISTER and parsed.version:
            state.deregistered.add(parsed.version)
        elif parsed.action in (ASSIGN, UNASSIGN):
            pending.append(
                (state, Event(parsed.action, parsed.artifact, ref, None, parsed.stage,
                              parsed.counter))
            )
    for state, event in pending:
        event.version = state.version_at(event.tag.commit, event.tag.time)
        if event.version is None and event.tag.message is not None:
            # no version tag at this commit (moved or deleted): trust the stage tag's record,
            # so the mismatch surfaces when the version is read instead of going unnoticed
            rec = record.parse(event.tag.message, event.tag.name) or {}
            event.version = str(rec["version"]) if rec.get("version") else None
        state.stage_events.append(event)
    return Registry(repo, artifacts, {r.name: r for r in refs})
