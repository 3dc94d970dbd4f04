"""The tag message: one human line, a blank line, then a JSON document (the record).

``git show TAG`` and ``gto history`` show the human line; mlgate reads the JSON. The record
holds what a reviewer needs to trust the tag without rerunning anything: the artifact path and
sha256, the data sha256, each gate's status and digest, approvals, run URL, actor, time and
the policy digest. Full gate reports live in git notes (see :mod:`mlgate.ledger.publish`).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from typing import Any

from mlgate.errors import InputError
from mlgate.resources import schema_problem

FORMAT = "mlgate.ledger/v1"


def sha256_hex(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_url() -> str:
    """The GitHub Actions run URL when running inside one, else ''."""
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    repo, run = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_RUN_ID")
    if repo and run:
        return f"{server.rstrip('/')}/{repo}/actions/runs/{run}"
    return ""


def compose(summary: str, record: dict[str, Any]) -> str:
    """The full tag message for ``summary`` and ``record``."""
    body = {"format": FORMAT, **record}
    return f"{summary.strip()}\n\n{json.dumps(body, indent=2, sort_keys=True)}\n"


MAX_MESSAGE = 1 << 20  # a record is a few KB; anything this large is not ours


def parse(message: str | None, tag: str) -> dict[str, Any] | None:
    """The record of a tag message, or None when the tag carries no mlgate record (e.g. a tag
    written by ``gto`` itself); InputError when the record is there but unreadable or does not
    match checks/schema/ledger-record.schema.json."""
    record, problem = read_record(message)
    if problem is not None:
        raise InputError(problem, tag)
    return record


def read_record(message: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None), (None, None) when there is no mlgate record, or (None, why) when there
    is one that does not validate. Never raises: tag content is anyone's to write."""
    if not message:
        return None, None
    _, sep, rest = message.partition("\n\n")
    rest = rest.strip()
    if not sep or not rest.startswith("{"):
        return None, None
    if len(rest) > MAX_MESSAGE:
        return None, f"the ledger record is larger than {MAX_MESSAGE} bytes"
    try:
        doc = json.loads(rest)
    except (ValueError, RecursionError) as exc:
        return None, f"the ledger record is not valid JSON ({str(exc)[:120]})"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None, f"the ledger record is not in format {FORMAT}"
    problem = schema_problem(doc, "ledger-record.schema.json")
    if problem is not None:
        return None, f"the ledger record does not match its schema: {problem}"
    return doc, None


def canonical_digest(doc: Any) -> str:
    """sha256 over canonical JSON (sorted keys, no spaces): what records store about evidence
    so that editing the evidence afterwards no longer matches."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return sha256_hex(text.encode())


def policy_digest(policy: dict[str, Any]) -> str:
    """A digest of the stage policy in force, so a record says which rules it passed."""
    canonical = json.dumps(policy, sort_keys=True, separators=(",", ":"), default=str)
    return sha256_hex(canonical.encode())
