"""``mlgate data-changed`` and ``mlgate request-approval``: flags to :mod:`mlgate.ct`.

``data-changed`` exits 0 whether or not the data changed: the answer is an output
(``changed=true|false`` in ``GITHUB_OUTPUT``, ``--json``), not a failure, so a workflow reads it
without ``continue-on-error`` hiding real errors. Exit 2 stays bad input (no config, data that
cannot be read, a dispatch naming other data, a broken ledger).
"""

from __future__ import annotations

import argparse
import os
import re
from typing import TYPE_CHECKING

from mlgate.errors import InputError
from mlgate.result import GateResult

if TYPE_CHECKING:
    from mlgate.config import Config

WORKFLOW_FILE = re.compile(r"^[\w.-]+\.ya?ml$")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the continuous-training commands to the ``mlgate`` parser."""
    p = sub.add_parser(
        "data-changed", parents=[common],
        help="has the data changed since the production version was trained? (for CT)",
        description="Compare the identity of the data (ledger.data, else data.path: a file's "
        "sha256, a DVC pointer's md5, a URI's content sha256 or version id/ETag) with what the "
        "verified production version recorded, and with valid versions registered after it. "
        "Prints one line, writes changed=true|false to GITHUB_OUTPUT. Exit 0 in both cases; "
        "2 for bad input.")
    p.add_argument("--config", default="mlgate.yaml", help="config file (default: mlgate.yaml)")
    p.add_argument("--stage", default="production",
                   help="stage whose version is compared (default: production)")
    p.add_argument("--dispatched-data", default="", metavar="TEXT",
                   help="the data a repository_dispatch event named (untrusted): must be the "
                   "configured data, else exit 2")
    p.set_defaults(handler=_data_changed)

    p = sub.add_parser(
        "request-approval", parents=[common],
        help="open or update the issue asking for a version's production approval",
        description="Open one issue per model and stage (found again by a hidden marker, "
        "only among issues the workflow's account opened) with the version, its gate results "
        "and how to run the release workflow that approves it; later runs update it. Needs "
        "GITHUB_TOKEN (issues: write) and GITHUB_REPOSITORY.")
    p.add_argument("name", nargs="?", help="artifact name (default: ledger.name or project)")
    p.add_argument("--version", dest="version_", required=True, metavar="vX.Y.Z")
    p.add_argument("--stage", default="production", help="stage asked for (default: production)")
    p.add_argument("--config", default="mlgate.yaml", help="config file (default: mlgate.yaml)")
    p.add_argument("--release-workflow", default="ml-release.yml", metavar="FILE",
                   help="the workflow file that promotes to the stage (default: ml-release.yml)")
    p.add_argument("--author", default="github-actions[bot]", metavar="LOGIN",
                   help="account whose issue is reused (default: github-actions[bot])")
    p.set_defaults(handler=_request_approval)


def _data_changed(args: argparse.Namespace) -> GateResult:
    from mlgate.config import load_config
    from mlgate.ct.changed import decide, identity
    from mlgate.ct.dispatch import check_dispatched
    from mlgate.ledger import gitio
    from mlgate.ledger.ops import data_record
    from mlgate.ledger.policy import ledger_config
    from mlgate.ledger.policy_source import config_path_in_repo
    from mlgate.ledger.tags import check_stage_name
    from mlgate.report.text import log_text

    config = load_config(args.config)
    lc = ledger_config(config)
    repo = gitio.ensure_repo(config.root)
    data = lc.data or _data_path(config)
    if not data:
        raise InputError("no data to compare: set ledger.data (what every version records)",
                         config.where("ledger"))
    stage = check_stage_name(args.stage, "--stage")
    head = gitio.git(repo, "rev-parse", "HEAD^{commit}").strip()
    current = identity(data_record(repo, head, data, lc.data_digest))
    if current is None:
        raise InputError("cannot tell which state of the data this is (no digest)", data)
    named = None
    if args.dispatched_data:
        named = check_dispatched(args.dispatched_data, current.source)
    decision = decide(repo, lc.name or config.project, current, stage, lc.remote,
                      config_path_in_repo(repo, config.path))
    result = GateResult(gate="data-changed", summary=decision.line())
    result.data.update(decision.to_dict())
    if named:
        result.data["dispatched_data"] = named
    result.data["outputs"] = {"changed": "true" if decision.changed else "false"}
    if not args.quiet:
        print(log_text(decision.line()))
    return result


def _data_path(config: Config) -> str | None:
    """``data.path`` resolved against the config's directory (None when unset)."""
    path = config.section("data").get("path")
    if not path:
        return None
    return str(path) if "://" in str(path) else str(config.resolve(str(path)))


def _request_approval(args: argparse.Namespace) -> GateResult:
    from mlgate.config import load_config
    from mlgate.ct.approval import Candidate, request_approval
    from mlgate.ct.changed import identity
    from mlgate.github.client import GitHubClient
    from mlgate.ledger import gitio
    from mlgate.ledger.champion import fetch_missing_notes
    from mlgate.ledger.policy import ledger_config
    from mlgate.ledger.policy_source import config_path_in_repo
    from mlgate.ledger.record import run_url
    from mlgate.ledger.tags import check_name, check_stage_name
    from mlgate.ledger.validate import Ledger

    if not WORKFLOW_FILE.match(args.release_workflow):
        raise InputError("expected a workflow file name like ml-release.yml",
                         "--release-workflow")
    config = load_config(args.config)
    lc = ledger_config(config)
    name = check_name(args.name or lc.name or config.project)
    stage = check_stage_name(args.stage, "--stage")
    client = GitHubClient.from_env()
    client.repo_path()  # names GITHUB_REPOSITORY when unset, before reading the ledger
    repo = gitio.ensure_repo(config.root)
    fetch_missing_notes(repo, lc.remote)
    with Ledger(repo, remote=lc.remote, config_path=config_path_in_repo(repo, config.path)) \
            as ledger:
        entry = ledger.version(name, args.version_)
        if not entry.valid:
            raise InputError(f"{entry.tag} is not a valid ledger version: {entry.reason}",
                             entry.tag)
        holding = [(s, ledger.stage(name, s)) for s in lc.stages if s != stage]
    record = entry.record or {}
    here = [(s, v.entry.tag) for s, v in holding if v.version == args.version_ and v.entry]
    data = identity(record.get("data"))
    gates = {str(g): str((v or {}).get("status", "?"))
             for g, v in (record.get("gates") or {}).items()}
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    candidate = Candidate(
        name=name, version=args.version_, stage=stage,
        current_stage=here[-1][0] if here else None, current_tag=here[-1][1] if here else None,
        gates=gates, data=f"{data.source} {data.short()}" if data else "no data recorded",
        run_url=run_url(),
        release_url=f"{server}/{client.repository}/actions/workflows/{args.release_workflow}",
        release_workflow=args.release_workflow)
    done = request_approval(client, candidate, args.author)
    result = GateResult(gate="request-approval",
                        summary=f"issue #{done.number} {done.action}: approve {name} "
                        f"{args.version_} for {stage}")
    result.data["outputs"] = {"issue": str(done.number), "issue-url": done.url,
                              "action": done.action}
    result.data["wrote"] = [f"issue #{done.number} ({done.action}) {done.url}"]
    return result
