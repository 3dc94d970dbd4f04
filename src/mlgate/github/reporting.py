"""Publish gate results on GitHub: a sticky PR comment, a check run and a commit status.

The sticky comment is found again by a hidden HTML marker per (workflow, artifact), so a
pull request gets exactly one comment per report that is edited on every push instead of a
new comment per run. Texts are trimmed to GitHub's limits (65 535 *bytes* of UTF-8 for
check-run output, whatever the docs say: GitHub answers "summary exceeds a maximum bytesize of
65535"; 140 characters for status descriptions) and annotations are sent in batches of 50, the
most GitHub accepts per request.

Before that, :func:`render_markdown` fits the report into :data:`BUDGET` by leaving out
figures (least important first) and table rows, and says so: the trim only cuts what that could
not. Markdown comes from :func:`render_markdown`, which escapes everything from data; the API's
plain-text fields (titles, annotation messages, descriptions, names) go through
:func:`plain_text`: one line, no control characters, within the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgate.github.client import GitHubClient
from mlgate.github.permissions import PR_COMMENT
from mlgate.report import render_markdown
from mlgate.report.text import plain_text, shorten_bytes
from mlgate.result import GateResult, Status

MAX_OUTPUT = 65535
MAX_COMMENT = 65536
#: What a comment or check-run summary is rendered within (UTF-8 bytes): figures and table rows
#: are left out to fit (:mod:`mlgate.report.fit`), with room for the marker and the run link;
#: :func:`trim` stays the last resort.
BUDGET = 60_000
MAX_DESCRIPTION = 140
MAX_TITLE = 255
MAX_NOTE = 65535  # annotation message: 64 KB
ANNOTATION_BATCH = 50
TRIMMED = "\n\n… (trimmed: the full report is in the job summary and the JSON report)\n"


@dataclass(frozen=True)
class Published:
    """What a publication call did, for step outputs and messages."""

    kind: str
    id: int
    url: str
    action: str  # created / updated


def marker(workflow: str, artifact: str) -> str:
    return f"<!-- mlgate:{_clean(workflow)}:{_clean(artifact)} -->"


def overall(results: list[GateResult]) -> Status:
    return Status.worst([r.status for r in results])


def conclusion(results: list[GateResult]) -> str:
    """Check-run conclusion: failure if any gate failed, neutral if only warnings or nothing."""
    if not results:
        return "neutral"
    status = overall(results)
    return {Status.PASS: "success", Status.WARN: "neutral"}.get(status, "failure")


def trim(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-8 bytes (so within ``limit`` characters too).

    The cut falls at the last line break that fits, so no table row, escape (``\\|``) or
    entity (``&lt;``) is cut in half; a single overlong line is cut at a character.
    """
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = data[: limit - len(TRIMMED.encode("utf-8"))].decode("utf-8", "ignore")
    line_end = room.rfind("\n")
    return (room[:line_end] if line_end > 0 else room) + TRIMMED


def upsert_comment(
    client: GitHubClient,
    issue_number: int,
    body: str,
    *,
    workflow: str,
    artifact: str,
) -> Published:
    """Create the sticky comment once, then edit it (found by its hidden marker)."""
    mark = marker(workflow, artifact)
    text = trim(f"{mark}\n{body}", MAX_COMMENT)
    path = client.repo_path(f"/issues/{int(issue_number)}/comments")
    what = f"pull request #{issue_number}"
    needs = PR_COMMENT
    existing = next(
        (c for c in client.paginate(path, what=what, permission=needs)
         if str(c.get("body", "")).startswith(mark)),
        None,
    )
    if existing is None:
        made = client.post(path, json={"body": text}, what=what, permission=needs)
        return Published("comment", int(made["id"]), str(made.get("html_url", "")), "created")
    if existing.get("body") != text:
        client.patch(
            client.repo_path(f"/issues/comments/{int(existing['id'])}"),
            json={"body": text},
            what=f"comment {existing['id']} on {what}",
            permission=needs,
        )
    return Published("comment", int(existing["id"]), str(existing.get("html_url", "")), "updated")


def check_annotations(results: list[GateResult]) -> list[dict[str, Any]]:
    """Check-run annotations for failed/warned checks that point at a file (and line)."""
    out: list[dict[str, Any]] = []
    for r in results:
        for c in r.checks:
            loc = c.location or {}
            if c.status is Status.PASS or not loc.get("file"):
                continue
            start = _line(loc.get("line") or loc.get("start_line"))
            end = max(start, _line(loc.get("end_line") or start))
            out.append(
                {
                    "path": str(loc["file"]).removeprefix("./"),
                    "start_line": start,
                    "end_line": end,
                    "annotation_level": "warning" if c.status is Status.WARN else "failure",
                    "title": plain_text(f"{r.gate}: {c.name}", MAX_TITLE),
                    "message": shorten_bytes(plain_text(c.message or c.name), MAX_NOTE),
                }
            )
    return out


def check_title(results: list[GateResult]) -> str:
    checks = sum(len(r.checks) for r in results)
    failed = sum(len(r.failures) for r in results)
    warned = sum(1 for r in results for c in r.checks if c.status is Status.WARN)
    gates = ", ".join(r.gate for r in results) or "no gates"
    warnings = f", {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    if failed:
        return plain_text(f"{failed} of {checks} checks failed{warnings} ({gates})", MAX_TITLE)
    return plain_text(f"{checks - warned} of {checks} checks passed{warnings} ({gates})",
                      MAX_TITLE)


def publish_check_run(
    client: GitHubClient,
    results: list[GateResult],
    *,
    name: str,
    head_sha: str,
    details_url: str = "",
    title: str = "mlgate",
) -> Published:
    """One completed check run; annotations beyond the first 50 follow in PATCH batches."""
    notes = check_annotations(results)
    output = {
        "title": check_title(results),
        # Tables, not Mermaid: GitHub documents Mermaid for comments and Markdown files, not
        # for check-run output (docs/github.md, "Charts").
        "summary": trim(render_markdown(results, title, figures="table", budget=BUDGET),
                        MAX_OUTPUT),
    }
    body: dict[str, Any] = {
        "name": plain_text(name, MAX_TITLE),
        "head_sha": head_sha,
        "status": "completed",
        "conclusion": conclusion(results),
        "output": {**output, "annotations": notes[:ANNOTATION_BATCH]},
    }
    if details_url:
        body["details_url"] = details_url
    run = client.post(client.repo_path("/check-runs"), json=body)
    for start in range(ANNOTATION_BATCH, len(notes), ANNOTATION_BATCH):
        client.patch(
            client.repo_path(f"/check-runs/{int(run['id'])}"),
            json={"output": {**output, "annotations": notes[start : start + ANNOTATION_BATCH]}},
        )
    return Published("check_run", int(run["id"]), str(run.get("html_url", "")), "created")


def publish_commit_status(
    client: GitHubClient,
    results: list[GateResult],
    *,
    sha: str,
    context: str = "mlgate",
    target_url: str = "",
) -> Published:
    """A commit status: success when every gate passed (warnings included), else failure."""
    status = overall(results)
    state = "success" if status in (Status.PASS, Status.WARN) else "failure"
    body: dict[str, Any] = {
        "state": state,
        "context": plain_text(context, MAX_TITLE),
        "description": status_description(results),
    }
    if target_url:
        body["target_url"] = target_url
    made = client.post(client.repo_path(f"/statuses/{sha}"), json=body, what=f"commit {sha}")
    return Published("status", int(made["id"]), str(made.get("url", "")), "created")


def status_description(results: list[GateResult]) -> str:
    failed = [r for r in results if not r.passed]
    if not results:
        text = "no gate results"
    elif failed:
        parts = [f"{r.gate}: {len(r.failures)} failed" for r in failed]
        text = "failed: " + "; ".join(parts)
    else:
        text = f"{len(results)} gate(s) passed: " + ", ".join(r.gate for r in results)
    return plain_text(text, MAX_DESCRIPTION)


def _clean(text: str) -> str:
    """Keep the marker a valid HTML comment: no ``--``, ``<``, ``>``, newlines or controls."""
    text = " ".join(plain_text(text).replace("<", "").replace(">", "").split())
    while "--" in text:
        text = text.replace("--", "-")
    return text or "default"


def _line(value: Any) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1
