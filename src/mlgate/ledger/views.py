"""``status`` (which version is in which stage) and ``history`` (every event), as tables.

Both read the ledger through the validating reader: ``status`` shows what valid entries
decide and lists the invalid entries it had to skip (each with its reason, as a warning);
``history`` judges every entry and says for each whether it counts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlgate.ledger.policy import LedgerConfig
from mlgate.ledger.tags import SemVer
from mlgate.ledger.validate import Entry, Ledger
from mlgate.result import CheckResult, GateResult, Status, Table


def status(repo: Path, name: str | None, stage_order: list[str], remote: str = "origin",
           parsed: dict[str, LedgerConfig] | None = None,
           config_path: str = "mlgate.yaml") -> GateResult:
    with Ledger(repo, remote=remote, parsed=parsed, config_path=config_path) as ledger:
        names = [name] if name else sorted(ledger.index.artifacts)
        if name:
            ledger.artifact(name)
        stages: list[str] = list(stage_order)
        for n in names:
            for s in ledger.index.artifacts[n].stages():
                if s not in stages:
                    stages.append(s)
        ledger.prefetch(names)
        rows: list[list[Any]] = []
        data: dict[str, Any] = {}
        ignored: list[Entry] = []
        for n in names:
            latest, skipped = ledger.latest_version(n)
            ignored += skipped
            current: dict[str, str | None] = {}
            for s in stages:
                view = ledger.stage(n, s)
                current[s] = view.version
                ignored += view.ignored
            rows.append([n, latest or "-", *[current[s] or "-" for s in stages]])
            data[n] = {"latest": latest, "stages": {s: v for s, v in current.items() if v}}
        unique = list({e.tag: e for e in ignored}.values())
        for e in unique:
            data.setdefault(e.artifact, {}).setdefault("invalid", []).append(
                {"tag": e.tag, "reason": e.reason})
        result = GateResult(
            gate="status",
            tables=[Table("Ledger status", ["artifact", "latest", *stages], rows)],
            summary=f"{len(names)} artifact(s), {len(ledger.index.refs)} tag(s)",
        )
    if unique:
        result.tables.append(Table("Invalid entries (ignored)", ["tag", "why"],
                                   [[e.tag, e.reason] for e in unique]))
        result.checks.append(CheckResult(
            "invalid ledger entries", Status.WARN,
            f"{len(unique)} invalid ledger entr{'y' if len(unique) == 1 else 'ies'} ignored: "
            + "; ".join(f"{e.tag}: {e.reason}" for e in unique[:3])
            + (" ..." if len(unique) > 3 else ""),
            value=len(unique)))
    result.data["artifacts"] = data
    if name:
        result.data["outputs"] = {
            "version": data[name]["latest"] or "",
            **{f"stage_{s}": v for s, v in data[name]["stages"].items()},
        }
    return result


def history(repo: Path, name: str | None, remote: str = "origin",
            parsed: dict[str, LedgerConfig] | None = None,
           config_path: str = "mlgate.yaml") -> GateResult:
    with Ledger(repo, remote=remote, parsed=parsed, config_path=config_path) as ledger:
        names = [name] if name else sorted(ledger.index.artifacts)
        if name:
            ledger.artifact(name)
        events = [_event(e) for n in names for e in ledger.entries(n)]
    events.sort(key=lambda e: e.pop("_order"))
    cols = ["time", "artifact", "event", "version", "stage", "tag", "actor", "approvers",
            "reason", "valid"]
    result = GateResult(
        gate="history",
        tables=[Table("Ledger history", cols, [[e[c] for c in cols] for e in events])],
        summary=f"{len(events)} event(s), {sum(1 for e in events if e['valid'] != 'yes')} "
                "invalid",
    )
    result.data["events"] = events
    return result


def _event(entry: Entry) -> dict[str, Any]:
    rec = entry.record or {}
    when = entry.time or (datetime.fromtimestamp(entry.tagger_time, UTC)
                          if entry.tagger_time is not None else None)
    stamp = when.astimezone(UTC).isoformat().replace("+00:00", "Z") if when else ""
    version = entry.version or ""
    approvals = rec.get("approvals")
    approvals = approvals if isinstance(approvals, list) else []
    return {
        "time": stamp,
        "artifact": entry.artifact,
        "event": entry.kind,
        "version": version,
        "stage": entry.stage or "",
        "tag": entry.tag,
        "actor": str(rec.get("actor") or ""),
        "approvers": ", ".join(str(a.get("login", "")) for a in approvals
                               if isinstance(a, dict) and a.get("state") == "approved"),
        "reason": str(rec.get("reason") or ""),
        "valid": "yes" if entry.valid else f"no: {entry.reason}",
        "commit": entry.commit,
        "_order": (when.timestamp() if when else 0.0, entry.counter or 0,
                   0 if entry.kind == "register" else 1,
                   _semver(version)),
    }


def _semver(version: str) -> SemVer:
    try:
        return SemVer.parse(version)
    except Exception:
        return SemVer(0, 0, 0)
