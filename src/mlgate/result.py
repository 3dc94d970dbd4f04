"""The one result model every gate returns and every report renders.

A check yields a :class:`CheckResult`; a gate (data, model, load, ledger, ...) yields a
:class:`GateResult`. Nothing outside :mod:`mlgate.report` formats output, so the same result
reads the same in a terminal, a job summary, a JUnit file and a pull-request comment.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mlgate.figures import Figure


class Status(StrEnum):
    """Outcome of a check or gate, ordered from best to worst."""

    PASS = "pass"  # noqa: S105 - not a password
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @staticmethod
    def worst(statuses: list[Status]) -> Status:
        """The worst status of a list; an empty list passes."""
        return max(statuses, key=lambda s: s.rank, default=Status.PASS)


_RANK = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 3}


@dataclass
class CheckResult:
    """One check: what was measured, against what threshold, and what it means.

    ``details`` holds small structured extras (a few example bad rows, an interval, a
    histogram); it must never hold whole data sets because it is rendered into reports.
    ``location`` optionally points at a file (and line) for annotations in check runs.
    """

    name: str
    status: Status
    message: str = ""
    value: Any = None
    threshold: Any = None
    details: dict[str, Any] = field(default_factory=dict)
    location: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "status": self.status.value,
            "message": self.message,
            "value": _jsonable(self.value),
            "threshold": _jsonable(self.threshold),
            "details": _jsonable(self.details),
        }
        if self.location:
            out["location"] = self.location
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            name=data["name"],
            status=Status(data["status"]),
            message=data.get("message", ""),
            value=data.get("value"),
            threshold=data.get("threshold"),
            details=data.get("details") or {},
            location=data.get("location"),
        )


@dataclass
class Table:
    """A small table a gate wants shown (e.g. candidate vs champion metrics)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": _jsonable(self.rows)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        return cls(data["title"], list(data["columns"]), [list(r) for r in data["rows"]])


@dataclass
class Chart:
    """A labelled series drawn as a text bar chart in markdown (e.g. throughput over time)."""

    title: str
    labels: list[str]
    values: list[float]
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "labels": self.labels,
            "values": _jsonable(self.values),
            "unit": self.unit,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chart:
        return cls(data["title"], list(data["labels"]), list(data["values"]), data.get("unit", ""))


@dataclass
class GateResult:
    """A gate's checks, the inputs they judged, the evidence files it wrote, and a digest.

    ``figures`` are charts described by their data (:mod:`mlgate.figures`), drawn by each
    report in its own way and, like tables, not part of the digest.
    ``data`` carries machine-readable payload that is not a check (the version a ``register``
    created, the latency histogram of a load test); it is copied into the JSON report as is.
    ``data["wrote"]`` lists what a command wrote (files, tags), one line each for the terminal.
    ``inputs`` maps a role (``model``, ``data``, ``suite:churn.json``, ``config``, ...) to the
    sha256 of what the gate read (see :mod:`mlgate.provenance`), and ``meta`` says which mlgate,
    commit and time produced the result: without them a passing report of one model could be
    presented as evidence for another.
    """

    gate: str
    checks: list[CheckResult] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return Status.worst([c.status for c in self.checks])

    @property
    def passed(self) -> bool:
        return self.status in (Status.PASS, Status.WARN)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status in (Status.FAIL, Status.ERROR)]

    def add(self, check: CheckResult) -> CheckResult:
        self.checks.append(check)
        return check

    def digest(self) -> str:
        """sha256 over the canonical JSON of the checks, inputs and meta: what the ledger
        records as proof, so neither a verdict nor the digest of a judged input can be edited.

        A result without inputs and meta (every result written before they existed, and the
        ledger's own results) keeps the old form ``{"gate", "checks"}``, so digests already
        stored in tags still verify.
        """
        body: dict[str, Any] = {"gate": self.gate, "checks": [c.to_dict() for c in self.checks]}
        if self.inputs or self.meta:
            body["inputs"] = _jsonable(self.inputs)
            body["meta"] = _jsonable(self.meta)
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "status": self.status.value,
            "summary": self.summary,
            "digest": self.digest(),
            "checks": [c.to_dict() for c in self.checks],
            "evidence": list(self.evidence),
            "tables": [t.to_dict() for t in self.tables],
            "charts": [c.to_dict() for c in self.charts],
            "figures": [f.to_dict() for f in self.figures],
            "data": _jsonable(self.data),
            "inputs": _jsonable(self.inputs),
            "meta": _jsonable(self.meta),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        return cls(
            gate=data["gate"],
            checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
            evidence=list(data.get("evidence", [])),
            tables=[Table.from_dict(t) for t in data.get("tables", [])],
            charts=[Chart.from_dict(c) for c in data.get("charts", [])],
            figures=[Figure.from_dict(f) for f in data.get("figures", [])],
            data=data.get("data") or {},
            summary=data.get("summary", ""),
            inputs={str(k): dict(v) for k, v in (data.get("inputs") or {}).items()},
            meta=dict(data.get("meta") or {}),
        )


def _jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, NaN and containers into plain JSON values."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else str(value)
        )
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        try:
            return _jsonable(item())
        except (ValueError, TypeError):
            pass
    tolist = getattr(value, "tolist", None)  # numpy array
    if callable(tolist):
        return _jsonable(tolist())
    return str(value)


# What a command that stops on bad input reports as its gate, so a pull request sees which
# gate stopped and why (``mlgate run`` uses the stage's own name).
COMMAND_GATES = {"validate-data": "data", "gate-model": "model", "load-test": "load"}


def input_error_result(gate: str, message: str, source: str | None) -> GateResult:
    """The result of a gate that could not run: bad input, configuration or usage.

    It carries the one-line error (and, when the source names a file and line, a location for
    check-run annotations), so reports show *which* gate stopped and what to fix instead of
    nothing at all.
    """
    location = _file_location(source) if source else None
    where = f"{source}: " if source else ""
    check = CheckResult("input", Status.ERROR, f"{where}{message}",
                        details={"stopped": "bad input, configuration or usage (exit 2)",
                                 "source": source or ""},
                        location=location)
    return GateResult(gate=gate, checks=[check],
                      summary=f"{gate} stopped before it could judge anything: {where}{message}")


_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".parquet", ".skops", ".pkl", ".joblib")


def _file_location(source: str) -> dict[str, Any] | None:
    """A check-run location from an error source (``file``, ``file:line``), relative to the
    working directory (GitHub refuses annotations on absolute paths); None otherwise."""
    import os

    head, sep, line = source.rpartition(":")
    path, number = (head, int(line)) if sep and line.isascii() and line.isdigit() else (
        source, None)
    if ":" in path or not path.endswith(_FILE_SUFFIXES):
        return None
    if os.path.isabs(path):
        relative = os.path.relpath(path)
        if relative.startswith(".."):
            return None
        path = relative
    return {"file": path, "line": number} if number is not None else {"file": path}
