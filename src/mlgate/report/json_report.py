"""JSON reports: the machine-readable form written by ``--json FILE`` and read by ``report``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlgate import __version__
from mlgate.bounded import loads_json
from mlgate.errors import InputError
from mlgate.resources import schema_problem
from mlgate.result import GateResult, Status

FORMAT = "mlgate.report/v1"


def report_document(results: list[GateResult], command: str) -> dict[str, Any]:
    status = Status.worst([r.status for r in results])
    return {
        "format": FORMAT,
        "mlgate_version": __version__,
        "command": command,
        "status": status.value,
        "gates": [r.to_dict() for r in results],
    }


def write_json(path: str | Path, results: list[GateResult], command: str) -> Path:
    """Write a report atomically (temp file then rename) so a crash never leaves half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(report_document(results, command), indent=2) + "\n", "utf-8")
    tmp.replace(target)
    return target


def read_json(path: str | Path) -> list[GateResult]:
    """Read a report written by :func:`write_json` back into results."""
    source = Path(path)
    try:
        doc = loads_json(source.read_bytes(), str(source))
    except FileNotFoundError as exc:
        raise InputError("report file not found", source) from exc
    except OSError as exc:
        raise InputError(f"not a readable JSON report: {exc}", source) from exc
    except InputError as exc:  # malformed or too deep: a report comes from anywhere (--evidence)
        raise InputError(f"not a readable JSON report: {exc.message}", source) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f"not an mlgate report (expected format {FORMAT!r})", source)
    problem = schema_problem(doc, "report.schema.json")
    if problem is not None:
        raise InputError(f"malformed mlgate report: {problem}", source)
    try:
        return [GateResult.from_dict(g) for g in doc["gates"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"malformed mlgate report: {exc}", source) from exc
