"""``mlgate report``: publish JSON reports on GitHub (PR comment, check run, status, deployment).

It reads what ``--json`` / ``mlgate run`` wrote, so gates run once and reporting is a
separate, retryable step with its own (write) permissions. The exit code follows the gates
(0 pass, 1 failed) so a workflow can publish and fail in one step; bad input and GitHub
errors exit 2.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.result import CheckResult, GateResult, Status

DEPLOYMENT_STATES = ("queued", "pending", "in_progress", "success", "failure", "error", "inactive")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``mlgate report`` to the ``mlgate`` parser."""
    p = sub.add_parser(
        "report",
        parents=[common],
        help="publish results on GitHub (PR comment, check run, status, deployment)",
        description="Read JSON reports (from --json or `mlgate run`) and publish them: a "
        "sticky pull-request comment, a check run with annotations, a commit status, the "
        "job summary, and deployment statuses. Needs GITHUB_TOKEN for anything on GitHub. "
        "Exit code follows the gates: 0 pass, 1 failed, 2 bad input or GitHub error.",
    )
    p.add_argument("--results", required=True, metavar="DIR|FILE",
                   help="a JSON report, or a directory holding report.json or *.json reports")
    p.add_argument("--pr-comment", action="store_true",
                   help="create or update one sticky comment on the pull request")
    p.add_argument("--check-run", action="store_true",
                   help="create a check run whose conclusion follows the gates")
    p.add_argument("--commit-status", action="store_true", help="set a commit status")
    p.add_argument("--summary", action="store_true",
                   help="write the markdown report to the job summary (printed to stdout when "
                   "GITHUB_STEP_SUMMARY is not set)")
    p.add_argument("--deployment", metavar="ENV",
                   help="record a deployment status on environment ENV (staging, production)")
    p.add_argument("--deployment-state", choices=DEPLOYMENT_STATES,
                   help="deployment state (default: success when the gates passed, else failure)")
    p.add_argument("--environment-url", default="", help="URL of the deployed service")
    p.add_argument("--artifact", default="",
                   help="name of what is reported: keys the sticky comment and names the check "
                   "(default: ledger.name or project of ./mlgate.yaml, else 'mlgate')")
    p.add_argument("--pr", type=int, metavar="N",
                   help="pull request number (default: from the event payload)")
    p.add_argument("--sha", help="commit for check run/status/deployment (default: the commit "
                   "the triggering event names, else the one the gates ran on, else GITHUB_SHA)")
    p.add_argument("--check-name", help="check run name (default: 'mlgate / ARTIFACT')")
    p.add_argument("--status-context", default="", help="commit status context "
                   "(default: 'mlgate / ARTIFACT')")
    p.add_argument("--config", metavar="FILE",
                   help="mlgate.yaml whose `github` section switches targets on (its "
                   "`report.attachments` are read from ./mlgate.yaml when not given)")
    p.add_argument("--html", metavar="FILE",
                   help="write the self-contained HTML report to FILE and copy "
                   "report.attachments beside it under attachments/ (default: report.html "
                   "beside the results when a markdown report is published)")
    p.add_argument("--no-html", action="store_true",
                   help="write no HTML report (an earlier step wrote and uploaded it)")
    p.add_argument("--html-url", default="", metavar="URL",
                   help="where the HTML report can be opened (the artifact's URL): adds a "
                   "'Full report' link to the PR comment and the job summary")
    p.add_argument("--comment-file", metavar="FILE",
                   help="write the pull-request comment to FILE exactly as --pr-comment would "
                   "post it (charts, GitHub's size limit), without GitHub: to preview it")
    p.set_defaults(handler=_report)


def comment_body(results: list[GateResult], title: str, html_url: str, run_url: str) -> str:
    """The sticky comment's text: Mermaid charts within GitHub's size limit (the least
    important charts left out first), the link to the HTML report and to the workflow run."""
    from mlgate.github import reporting
    from mlgate.report import render_markdown
    from mlgate.report.text import link_destination

    line = full_report_line(html_url)
    run_link = link_destination(run_url)
    tail = line + (f"\n[workflow run]({run_link})\n" if run_link else "")
    return render_markdown(results, title, budget=reporting.BUDGET - len(tail.encode())) + tail


def _report(args: argparse.Namespace) -> list[GateResult]:
    from mlgate.report import read_json, render_markdown

    results = [r for path in _report_files(Path(args.results)) for r in read_json(path)]
    options = _options(args)
    artifact = args.artifact or _configured_artifact(args.config) or ""
    title = f"mlgate: {artifact}" if artifact else "mlgate"
    published = GateResult(gate="github", summary="what `mlgate report` published")
    outputs: dict[str, Any] = {}
    markdown_out = bool(options["summary"] or options["pr_comment"] or args.comment_file)
    html_file = args.html or (_beside(Path(args.results)) if markdown_out else None)
    if html_file and not args.no_html:
        written = write_html_report(Path(html_file), results, title, args.config)
        outputs.update(written)
        published.add(CheckResult("html report", Status.PASS, f"wrote {written['html']}",
                                  value=written["html"]))
    footer = full_report_line(args.html_url)
    args.markdown_footer = footer  # the job summary the CLI writes for this command carries it
    if options["summary"]:
        markdown = render_markdown(results, title) + footer
        if not os.environ.get("GITHUB_STEP_SUMMARY"):
            print(markdown)
        # With GITHUB_STEP_SUMMARY set the CLI appends the summary of every command.
    if args.comment_file:
        target = Path(args.comment_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(comment_body(results, title, args.html_url, ""), encoding="utf-8")
        published.add(CheckResult("pr comment file", Status.PASS, f"wrote {target}",
                                  value=str(target)))
        published.data["wrote"] = [str(target)]
    if options["pr_comment"] or options["check_run"] or options["commit_status"] or args.deployment:
        _publish(args, options, results, artifact, title, published, outputs)
    published.data["outputs"] = outputs
    return [*results, published] if published.checks else results


def _publish(
    args: argparse.Namespace,
    options: dict[str, Any],
    results: list[GateResult],
    artifact: str,
    title: str,
    published: GateResult,
    outputs: dict[str, Any],
) -> None:
    from mlgate.github import deployments, reporting
    from mlgate.github.client import GitHubClient
    from mlgate.github.context import GitHubContext
    from mlgate.github.permissions import PR_COMMENT

    ctx = GitHubContext.from_env()
    client = GitHubClient.from_env()
    client.repo_path()  # fails early, naming GITHUB_REPOSITORY, when unset
    pr = args.pr or ctx.pr_number
    if options["pr_comment"] and pr is None and not options["pr_comment_flag"]:
        options["pr_comment"] = False  # enabled by config, but this run is not about a PR
    if options["pr_comment"]:
        if pr is None:
            raise InputError("no pull request: run on a pull_request event or pass --pr N",
                             "--pr-comment")
        client.get(client.repo_path(f"/pulls/{pr}"), what=f"pull request #{pr}",  # exists?
                   permission=PR_COMMENT)
    # The verdict belongs to the commit that was gated: the one this run was started for (the
    # event's), else the one the gates ran on. Never the pull request's head as fetched now: a
    # push during the run would put this run's verdict on a commit nobody gated.
    sha = args.sha or ctx.event_head or _gated_commit(results) or ctx.sha
    workflow = ctx.workflow or "mlgate"
    if options["pr_comment"] and pr is not None:
        body = comment_body(results, title, args.html_url, ctx.run_url)
        done = reporting.upsert_comment(client, pr, body, workflow=workflow, artifact=artifact)
        published.add(CheckResult("pr comment", Status.PASS,
                                  f"{done.action} comment {done.id} on pull request #{pr}",
                                  value=done.url))
        outputs["comment_url"] = done.url
    if (options["check_run"] or options["commit_status"] or args.deployment) and not sha:
        raise InputError("no commit to report on: set GITHUB_SHA or pass --sha", "--sha")
    if options["check_run"]:
        name = args.check_name or options["check_name"] or _named("mlgate", artifact)
        done = reporting.publish_check_run(client, results, name=name, head_sha=sha,
                                           details_url=ctx.run_url, title=title)
        published.add(CheckResult("check run", Status.PASS,
                                  f"check run {name!r} ({reporting.conclusion(results)}) on "
                                  f"{sha[:12]}", value=done.url))
        outputs["check_run_id"] = done.id
    if options["commit_status"]:
        context = args.status_context or options["status_context"] or _named("mlgate", artifact)
        done = reporting.publish_commit_status(client, results, sha=sha, context=context,
                                               target_url=ctx.run_url)
        published.add(CheckResult("commit status", Status.PASS,
                                  f"status {context!r} on {sha[:12]}"))
    if args.deployment:
        passed = all(r.passed for r in results)
        state = args.deployment_state or ("success" if passed else "failure")
        deployment, status = deployments.record(
            client, environment=args.deployment, state=state, sha=sha, log_url=ctx.run_url,
            description=f"{artifact}: {reporting.status_description(results)}",
            environment_url=args.environment_url,
        )
        published.add(CheckResult("deployment", Status.PASS,
                                  f"deployment {deployment['id']} to {args.deployment}: {state}"))
        outputs["deployment_id"] = deployment["id"]
        outputs["deployment_status"] = status["state"]


def full_report_line(url: str) -> str:
    """The markdown line linking the HTML report, or "" without a usable http(s) URL."""
    from mlgate.report.text import link_destination

    destination = link_destination(url)
    return f"\nFull report: [report.html]({destination})\n" if destination else ""


def write_html_report(target: Path, results: list[GateResult], title: str,
                      config: str | None) -> dict[str, str]:
    """Write the HTML report and copy the configured attachments beside it (under
    ``attachments/``, keeping their repository paths), so one directory is the artifact.

    Step outputs: ``html`` (the file) and ``html_dir`` (the directory to upload).
    """
    import shutil

    from mlgate.config import find_config
    from mlgate.report.attachments import attachment_entries, collect_attachments
    from mlgate.report.html import render_html

    try:
        found = find_config(config)
    except InputError:
        found = None  # a broken mlgate.yaml is reported as it is; it attaches nothing
    files = collect_attachments(found) if found is not None else []
    entries = attachment_entries(found, files) if found is not None else []
    target.parent.mkdir(parents=True, exist_ok=True)
    for path, entry in zip(files, entries, strict=True):
        copy = target.parent / "attachments" / entry["path"]
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    target.write_text(render_html(results, title, entries), encoding="utf-8")
    return {"html": str(target), "html_dir": str(target.parent)}


def _beside(results: Path) -> Path:
    """report.html beside the reports read: in their directory, or beside the one file."""
    return (results if results.is_dir() else results.parent) / "report.html"


def _named(base: str, artifact: str) -> str:
    return f"{base} / {artifact}" if artifact else base


def _configured_artifact(config: str | None) -> str | None:
    """The artifact a report is about, from mlgate.yaml (``ledger.name``, else ``project``):
    the sticky comment and the check run keep one name whatever gates ran, so a branch
    protection rule that requires the check keeps matching."""
    from mlgate.config import DEFAULT_CONFIG, find_config

    try:
        found = find_config(config)
    except InputError:
        # A broken mlgate.yaml is exactly what the report must still publish: read just the
        # names from it, without validation, so the check keeps its name.
        return _names_of_broken_config(Path(config or DEFAULT_CONFIG))
    if found is None:
        return None
    return str((found.section("ledger").get("name")) or found.project)


def _names_of_broken_config(path: Path) -> str | None:
    import re

    from mlgate.bounded import parse_yaml

    try:
        raw, _ = parse_yaml(path.read_text(encoding="utf-8"), path)
    except (InputError, OSError, UnicodeDecodeError):
        return None
    if not isinstance(raw, dict):
        return None
    ledger = raw.get("ledger")
    name = (ledger.get("name") if isinstance(ledger, dict) else None) or raw.get("project")
    ok = isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/_.:=-]{0,99}", name)
    return name if ok else None


def _gated_commit(results: list[GateResult]) -> str:
    """The commit the gates ran on, when they all agree (their ``meta.commit``)."""
    commits = {str(r.meta.get("commit")) for r in results if r.meta.get("commit")}
    return commits.pop() if len(commits) == 1 else ""


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Flags, plus the ``github`` section of ``--config`` when one is given."""
    section: dict[str, Any] = {}
    if args.config:
        from mlgate.config import load_config

        section = load_config(args.config).section("github")
    configured = bool(args.config)
    return {
        "pr_comment": args.pr_comment or bool(section.get("pr_comment", configured)),
        "pr_comment_flag": bool(args.pr_comment),
        "check_run": args.check_run or bool(section.get("check_run", configured)),
        "commit_status": args.commit_status or bool(section.get("commit_status", False)),
        "summary": args.summary or bool(section.get("summary", False)),
        "check_name": str(section.get("check_name", "")),
        "status_context": str(section.get("status_context", "")),
    }


def _report_files(path: Path) -> list[Path]:
    """A report file, a directory's report.json (from `mlgate run`), or all its *.json."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError("no such file or directory", path)
    if (path / "report.json").is_file():
        return [path / "report.json"]
    files = sorted(p for p in path.glob("*.json") if p.is_file())
    if not files:
        raise InputError("no JSON reports here (expected report.json or *.json written by "
                         "--json or `mlgate run`)", path)
    return files
