"""The issue that asks for a version's production approval, opened once and then kept current.

Continuous training ends in staging; production needs a person. The workflow cannot wait for
one (a run waiting for reviewers would hold the CT concurrency group for days), so it leaves a
request where people look: one open issue per model and stage, found again by a hidden marker,
its title and body rewritten for each new candidate, with a comment when the candidate changes
so that watchers are notified. Only an issue the workflow's own account opened is reused: an
issue anyone opened with the marker pasted in must not become the page reviewers trust.

The approval itself is not given here: the body links the release workflow, whose production
job waits for the environment's reviewers and records them in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgate.github.client import GitHubClient
from mlgate.report.text import code_span, link_destination, markdown_text, plain_text

BOT = "github-actions[bot]"
MAX_BODY = 65536
ISSUES_READ, ISSUES_WRITE = "issues: read", "issues: write"


@dataclass(frozen=True)
class Candidate:
    """What the request is about, read from valid ledger entries."""

    name: str
    version: str
    stage: str  # the stage asked for (production)
    current_stage: str | None  # where the version is now (staging), None when nowhere
    current_tag: str | None
    gates: dict[str, str]  # gate -> status, from the version's record
    data: str  # the data it was trained on, as a short identity
    run_url: str
    release_url: str  # the release workflow's page
    release_workflow: str


@dataclass(frozen=True)
class Requested:
    """The issue after the call: its number, address, and created / updated / unchanged."""

    number: int
    url: str
    action: str
    previous_version: str | None


def marker(name: str, stage: str) -> str:
    """The hidden line that finds this model's request again (one per model and stage)."""
    return f"<!-- mlgate:approval-request:{plain_text(name)}:{plain_text(stage)} -->"


def version_line(version: str) -> str:
    return f"<!-- mlgate:version:{plain_text(version)} -->"


def title(c: Candidate) -> str:
    return plain_text(f"Approve {c.name} {c.version} for {c.stage}", 255)


def body(c: Candidate) -> str:
    """The request: what is asked, the evidence, and how to approve (all data escaped)."""
    where = (f"It is in {code_span(c.current_stage)} ({code_span(c.current_tag)})."
             if c.current_stage and c.current_tag else "It is not assigned to a stage yet.")
    lines = [
        marker(c.name, c.stage),
        version_line(c.version),
        f"## {markdown_text(c.name)} {markdown_text(c.version)} awaits approval for "
        f"{markdown_text(c.stage)}",
        "",
        f"Continuous training registered **{markdown_text(c.name)} "
        f"{markdown_text(c.version)}**, trained on {code_span(c.data)}. {where}",
        "",
        "| gate | result |",
        "| --- | --- |",
        *(f"| {markdown_text(g)} | {markdown_text(s)} |" for g, s in sorted(c.gates.items())),
        "",
        "### To approve",
        "",
        f"Run the release workflow {_link(c.release_workflow, c.release_url)} with "
        f"`version` set to {code_span(c.version)} (Actions, Run workflow), or:",
        "",
        "```",
        f"gh workflow run {plain_text(c.release_workflow)} -f version={plain_text(c.version)}",
        "```",
        "",
        f"Its production job waits for the reviewers of the {markdown_text(c.stage)} "
        "environment; their approval is checked against the ledger policy and recorded with "
        "the stage tag. Close this issue to decline; the next training run with new data "
        "opens a new request.",
    ]
    if link_destination(c.run_url):
        lines += ["", f"Requested by {_link('this run', c.run_url)}."]
    return "\n".join(lines)[:MAX_BODY]


def _link(text: str, url: str) -> str:
    dest = link_destination(url)
    return f"[{markdown_text(text)}]({dest})" if dest else code_span(text)


def find_request(client: GitHubClient, name: str, stage: str,
                 author: str = BOT) -> dict[str, Any] | None:
    """The open issue (not pull request) ``author`` opened with this model's marker."""
    mark = marker(name, stage)
    issues = client.paginate(client.repo_path("/issues"), {"state": "open", "creator": author},
                             what="the repository's issues", permission=ISSUES_READ)
    for issue in issues:
        if issue.get("pull_request") or (issue.get("user") or {}).get("login") != author:
            continue
        if str(issue.get("body") or "").startswith(mark):
            return dict(issue)
    return None


def request_approval(client: GitHubClient, c: Candidate, author: str = BOT) -> Requested:
    """Open the request, or bring the open one up to date (a comment when the version
    changed, so that a new candidate is noticed)."""
    text, heading = body(c), title(c)
    found = find_request(client, c.name, c.stage, author)
    if found is None:
        made = client.post(client.repo_path("/issues"), json={"title": heading, "body": text},
                           what="a new issue", permission=ISSUES_WRITE)
        return Requested(int(made["number"]), str(made.get("html_url", "")), "created", None)
    number = int(found["number"])
    previous = _recorded_version(str(found.get("body") or ""))
    if found.get("body") == text and found.get("title") == heading:
        return Requested(number, str(found.get("html_url", "")), "unchanged", previous)
    client.patch(client.repo_path(f"/issues/{number}"), json={"title": heading, "body": text},
                 what=f"issue #{number}", permission=ISSUES_WRITE)
    if previous != c.version:
        note = (f"{markdown_text(c.name)} {markdown_text(c.version)} replaces "
                f"{markdown_text(previous or 'the earlier candidate')} in this request.")
        client.post(client.repo_path(f"/issues/{number}/comments"), json={"body": note},
                    what=f"issue #{number}", permission=ISSUES_WRITE)
    return Requested(number, str(found.get("html_url", "")), "updated", previous)


def _recorded_version(text: str) -> str | None:
    lines = text.splitlines()
    if len(lines) > 1 and lines[1].startswith("<!-- mlgate:version:"):
        return lines[1].removeprefix("<!-- mlgate:version:").removesuffix(" -->")
    return None
