"""Real webhook payloads for the context tests, vendored from npm ``@octokit/webhooks-examples``.

``python -m tests.support.github_emulator.events`` copies the payloads mlgate reads from
``node_modules/@octokit/webhooks-examples/api.github.com/index.json`` (GitHub's own examples,
one list per event) into ``tests/fixtures/events/<event>[.<action>].json``, unchanged. The
package has no ``deployment_protection_rule`` example; ``deployment_review`` covers the
approval flow.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "node_modules" / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
EVENTS_DIR = ROOT / "tests" / "fixtures" / "events"

# fixture name -> (event, action or None, extra predicate name)
WANTED: dict[str, tuple[str, str | None]] = {
    "pull_request.opened": ("pull_request", "opened"),
    "pull_request.synchronize": ("pull_request", "synchronize"),
    "push": ("push", None),
    "workflow_dispatch": ("workflow_dispatch", None),
    "issue_comment.created": ("issue_comment", "created"),
    "deployment.created": ("deployment", "created"),
    "deployment_review.requested": ("deployment_review", "requested"),
    # Events whose runs are untrusted (their code is not the default branch's): mlgate.trust.
    "merge_group.checks_requested": ("merge_group", "checks_requested"),
    "workflow_run.completed": ("workflow_run", "completed"),
    "pull_request_review.submitted": ("pull_request_review", "submitted"),
    # A data pipeline's "new data" event, which starts continuous training (ml-ct.yml).
    "repository_dispatch": ("repository_dispatch", None),
}


def select(index: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Pick one example per fixture (for issue_comment: one written on a pull request)."""
    by_event = {entry["name"]: entry["examples"] for entry in index}
    out: dict[str, dict[str, Any]] = {}
    for name, (event, action) in WANTED.items():
        candidates = [e for e in by_event[event] if action is None or e.get("action") == action]
        if event == "issue_comment":
            on_pr = [e for e in candidates if e.get("issue", {}).get("pull_request")]
            candidates = on_pr or candidates
        out[name] = candidates[0]
    return out


def fixture_names() -> list[str]:
    return sorted(p.stem for p in EVENTS_DIR.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def main() -> int:
    if not SOURCE.is_file():
        print(f"{SOURCE}: not found; run `npm ci` first", file=sys.stderr)
        return 2
    chosen = select(json.loads(SOURCE.read_text(encoding="utf-8")))
    EVENTS_DIR.mkdir(parents=True, exist_ok=True)
    for name, payload in chosen.items():
        (EVENTS_DIR / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
        print(f"wrote {EVENTS_DIR / name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
