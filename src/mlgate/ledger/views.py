"""``status`` (which version is in which stage) and ``history`` (every event), as tables.

``status`` reads tag names, commits and times only (one ``for-each-ref``), which is what keeps
it fast on registries with tens of thousands of tags; ``history`` also reads the messages to
show who acted and why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlgate.ledger.record import parse
from mlgate.ledger.state import Registry, load_registry
from mlgate.ledger.tags import SemVer, parse_tag
from mlgate.result import GateResult, Table


def status(repo: Path, name: str | None, stage_order: list[str]) -> GateResult:
    registry = load_registry(repo, names_only=True)
    names = [name] if name else sorted(registry.artifacts)
    if name:
        registry.artifact(name)
    stages: list[str] = list(stage_order)
    for n in names:
        for s in registry.artifacts[n].stages():
            if s not in stages:
                stages.append(s)
    rows: list[list[Any]] = []
    data: dict[str, Any] = {}
    for n in names:
        state = registry.artifacts[n]
        current = {s: state.current(s) for s in stages}
        latest = state.latest_version()
        rows.append([n, latest or "-", *[current[s] or "-" for s in stages]])
        data[n] = {"latest": latest, "stages": {s: v for s, v in current.items() if v}}
    result = GateResult(
        gate="status",
        tables=[Table("Ledger status", ["artifact", "latest", *stages], rows)],
        summary=f"{len(names)} artifact(s), {len(registry.tags)} tag(s)",
    )
    result.data["artifacts"] = data
    if name:
        result.data["outputs"] = {
            "version": data[name]["latest"] or "",
            **{f"stage_{s}": v for s, v in data[name]["stages"].items()},
        }
    return result


def history(repo: Path, name: str | None) -> GateResult:
    registry: Registry = load_registry(repo, with_messages=True)
    if name:
        registry.artifact(name)
    events: list[dict[str, Any]] = []
    for tag, ref in registry.tags.items():
        parsed = parse_tag(tag)
        if parsed is None or (name and parsed.artifact != name):
            continue
        state = registry.artifacts[parsed.artifact]
        version = parsed.version or next(
            (e.version for e in state.stage_events if e.tag.name == tag), None)
        rec = parse(ref.message, tag) or {}
        events.append({
            "time": datetime.fromtimestamp(ref.time, UTC).isoformat().replace("+00:00", "Z"),
            "artifact": parsed.artifact,
            "event": str(rec.get("event") or parsed.action),
            "version": version or "",
            "stage": parsed.stage or "",
            "tag": tag,
            "actor": str(rec.get("actor") or ref.tagger),
            "approvers": ", ".join(a.get("login", "") for a in rec.get("approvals") or []
                                   if a.get("state") == "approved"),
            "reason": str(rec.get("reason") or ""),
            "commit": ref.commit,
            "_order": (ref.time, parsed.counter or 0,
                       0 if parsed.version else 1, SemVer.parse(version) if version
                       else SemVer(0, 0, 0)),
        })
    events.sort(key=lambda e: e["_order"])
    for e in events:
        del e["_order"]
    cols = ["time", "artifact", "event", "version", "stage", "tag", "actor", "approvers",
            "reason"]
    result = GateResult(
        gate="history",
        tables=[Table("Ledger history", cols, [[e[c] for c in cols] for e in events])],
        summary=f"{len(events)} event(s)",
    )
    result.data["events"] = events
    return result
