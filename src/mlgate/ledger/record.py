"""The tag message: one human line, a blank line, then a JSON document (the record).

``git show TAG`` and ``gto history`` show the human line; mlgate reads the JSON. The record
holds what a reviewer needs to trust the tag without rerunning anything: the artifact path and
sha256, the data sha256, each gate's status and digest, approvals, run URL, actor, time and
the policy digest. Full gate reports live in git notes (see :mod:`mlgate.ledger.notes`).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from typing import Any

from mlgate.errors import InputError

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


def parse(message: str | None, tag: str) -> dict[str, Any] | None:
    """The record of a tag message, or None when the tag carries no mlgate record (e.g. a tag
    written by ``gto`` itself); InputError when the record is there but unreadable."""
    if not message:
        return None
    _, sep, rest = message.partition("\n\n")
    rest = rest.strip()
    if not sep or not rest.startswith("{"):
        return None
    try:
        doc = json.loads(rest)
    except ValueError as exc:
        raise InputError(f"tag message holds a malformed ledger record: {exc}", tag) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    return doc


def policy_digest(policy: dict[str, Any]) -> str:
    """A digest of the stage policy in force, so a record says which rules it passed."""
    canonical = json.dumps(policy, sort_keys=True, separators=(",", ":"), default=str)
    return sha256_hex(canonical.encode())
