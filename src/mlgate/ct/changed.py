"""Has the data changed since the version in production was trained?

A continuous-training workflow runs on a schedule and on "new data" events; most of those runs
find nothing new, and training again on the same data only costs a runner and adds a version
nobody needs. The question is answered from the ledger, not from a timestamp or a cache: the
identity of the data now (what ``register`` would record: the sha256 of a file, the md5 a DVC
pointer names, or a URI's content sha256 or version id / ETag, see
:mod:`mlgate.ledger.data_pointer`) is compared with what the production version recorded.

Only valid ledger entries count, as for ``status`` and the champion: a forged stage tag must
not be able to say "nothing changed" and stop retraining. A valid version registered after
production's (a candidate awaiting its production approval) that recorded the same data also
counts as "unchanged", so a scheduled run does not register the same candidate again while the
approval is pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.champion import fetch_missing_notes
from mlgate.ledger.tags import version_key
from mlgate.ledger.validate import Ledger


@dataclass(frozen=True)
class DataIdentity:
    """What names one state of a data set: where it is and the digest that tells states apart."""

    source: str  # repository path or URI (credentials already removed)
    key: str  # sha256 | md5 | etag | version_id
    value: str

    def short(self) -> str:
        """The digest shortened for a log line (``sha256 3f2a9c1b7e04``)."""
        value = self.value.removeprefix("sha256:")
        return f"{self.key} {value[:12]}"

    def same_state(self, other: DataIdentity) -> bool:
        return (self.source, self.key, self.value) == (other.source, other.key, other.value)


@dataclass(frozen=True)
class Decision:
    """The answer and its reason, with what was compared (for --json and the job summary)."""

    changed: bool
    reason: str
    current: DataIdentity
    compared_with: str | None = None  # the version tag whose data was compared
    recorded: DataIdentity | None = None

    def line(self) -> str:
        word = "changed" if self.changed else "unchanged"
        return f"data {word}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"changed": self.changed, "reason": self.reason,
                               "current": self.current.__dict__}
        if self.compared_with:
            out["compared_with"] = self.compared_with
        if self.recorded is not None:
            out["recorded"] = self.recorded.__dict__
        return out


def identity(record: Any) -> DataIdentity | None:
    """The identity in a version's ``data`` record (None when the record names no data)."""
    if not isinstance(record, dict):
        return None
    uri = record.get("uri")
    if isinstance(uri, str):
        if record.get("digest") == "etag":
            for key in ("version_id", "etag"):
                if isinstance(record.get(key), str):
                    return DataIdentity(uri, key, record[key])
            return None
        sha = record.get("sha256")
        return DataIdentity(uri, "sha256", sha) if isinstance(sha, str) else None
    path = record.get("path")
    if not isinstance(path, str):
        return None
    dvc = record.get("dvc")
    if isinstance(dvc, dict) and isinstance(dvc.get("md5"), str):
        return DataIdentity(path, "md5", dvc["md5"])
    sha = record.get("sha256")
    return DataIdentity(path, "sha256", sha) if isinstance(sha, str) else None


def decide(repo: Path, name: str, current: DataIdentity, stage: str = "production",
           remote: str = "origin", config_path: str = "mlgate.yaml") -> Decision:
    """Compare ``current`` with the data of ``stage``'s valid version, and of the valid versions
    registered after it (InputError when the stage has entries but none is valid: a broken
    ledger is repaired, not silently trained around)."""
    repo = gitio.ensure_repo(repo)
    fetch_missing_notes(repo, remote)
    with Ledger(repo, remote=remote, config_path=config_path) as ledger:
        state = ledger.index.artifacts.get(name)
        view = ledger.stage(name, stage)
        if view.version is None and view.ignored:
            first = view.ignored[0]
            raise InputError(f"{stage} has ledger entries and none is valid ({first.tag}: "
                             f"{first.reason}); repair the ledger before training on it",
                             f"{name}#{stage}")
        if state is None:
            return Decision(True, f"no verified {stage} version of {name} yet; "
                            f"{current.source} is at {current.short()}", current)
        production = view.version
        newer = [v for v in state.versions_sorted() if v not in state.deregistered
                 and (production is None or version_key(v) > version_key(production))]
        for version in [*reversed(newer), *([production] if production else [])]:
            entry = ledger.version(name, version)
            if not entry.valid:
                continue
            recorded = identity((entry.record or {}).get("data"))
            if recorded is not None and recorded.same_state(current):
                return Decision(False, f"{current.source} is at {current.short()}, "
                                f"{_trained_on(version, production, stage)}",
                                current, entry.tag, recorded)
        if production is None:
            return Decision(True, f"no verified {stage} version of {name} yet; "
                            f"{current.source} is at {current.short()}", current)
        entry = ledger.version(name, production)
        recorded = identity((entry.record or {}).get("data"))
    if recorded is None:
        return Decision(True, f"{stage}'s {production} recorded no data (set ledger.data so "
                        f"versions record it); {current.source} is at {current.short()}",
                        current, entry.tag)
    if recorded.source != current.source:
        reason = (f"the data moved: {stage}'s {production} was trained on {recorded.source}, "
                  f"now {current.source} ({current.short()})")
    else:
        reason = (f"{current.source} is at {current.short()}, {stage}'s {production} was "
                  f"trained on {recorded.short()}")
    return Decision(True, reason, current, entry.tag, recorded)


def _trained_on(version: str, production: str | None, stage: str) -> str:
    if version == production:
        return f"what {stage}'s {version} was trained on"
    after = f"registered after {stage}'s {production}" if production else "registered"
    return f"what {version} ({after}, not yet in {stage}) was trained on"
