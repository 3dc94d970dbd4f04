"""``mlgate register / promote / rollback / status / history / verify``: flags to operations."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.errors import InputError
from mlgate.result import GateResult

if TYPE_CHECKING:
    from mlgate.ledger.policy import LedgerConfig
    from mlgate.ledger.policy_source import PolicyInForce


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ledger's subcommands to the ``mlgate`` parser."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--repo", default=".", help="git repository (default: .)")
    where.add_argument("--config", default=None,
                       help="config file (default: REPO/mlgate.yaml when present)")
    writes = argparse.ArgumentParser(add_help=False)
    writes.add_argument("--push", dest="push", action="store_true", default=None,
                        help="push tag + notes atomically (default: ledger.push, true)")
    writes.add_argument("--no-push", dest="push", action="store_false",
                        help="write the tags locally only")
    writes.add_argument("--actor", help="who acts (default: GITHUB_ACTOR, then git user.name)")
    parents = [common, where]
    reads = argparse.ArgumentParser(add_help=False)
    reads.add_argument("--fetch", action="store_true",
                       help="first fetch the remote's tags and notes (ledger.remote)")

    p = sub.add_parser("register", parents=[*parents, writes],
                       help="record a model version as an annotated git tag NAME@vX.Y.Z",
                       description="Tag HEAD as NAME@vX.Y.Z with the artifact's sha256, the "
                       "data sha256 and gate result digests; full gate evidence goes to git "
                       "notes (refs/notes/mlgate).")
    p.add_argument("name", nargs="?", help="artifact name (default: ledger.name or project)")
    p.add_argument("--artifact", help="artifact file (default: ledger.artifact)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--version", dest="version_", metavar="vX.Y.Z", help="explicit version")
    group.add_argument("--bump", choices=["major", "minor", "patch"],
                       help="bump the latest version (default: ledger.bump, minor)")
    p.add_argument("--evidence", nargs="+", default=[], metavar="REPORT.json",
                   help="gate reports (mlgate --json files) to record with the version")
    p.set_defaults(handler=_register)

    p = sub.add_parser("promote", parents=[*parents, writes],
                       help="assign a version to a stage (NAME#STAGE#N) under the stage policy",
                       description="Check the stage policy (order, gates, soak, approvals, no "
                       "self-approval) and write the assignment tag NAME#STAGE#N.")
    p.add_argument("name", nargs="?", help="artifact name (default: ledger.name or project)")
    p.add_argument("--version", dest="version_", required=True, metavar="vX.Y.Z")
    p.add_argument("--to", required=True, metavar="STAGE", help="stage to assign")
    p.add_argument("--approvals", choices=["github", "comment", "local"],
                   help="approval source (default: the stage's approvals.source)")
    p.add_argument("--approved-by", nargs="+", default=[], metavar="LOGIN",
                   help="local approvals: who approved")
    p.add_argument("--denied-by", nargs="+", default=[], metavar="LOGIN",
                   help="local approvals: who denied")
    p.add_argument("--approval-comment", default="", help="comment stored with local approvals")
    p.add_argument("--run-id", type=int, help="workflow run id (default: GITHUB_RUN_ID)")
    p.add_argument("--issue", type=int, help="issue/PR number for comment approvals")
    p.add_argument("--since", help="ISO time; comment decisions before it are ignored")
    p.add_argument("--timeout", help="how long to wait for comment approvals (e.g. 10m)")
    p.add_argument("--poll", type=float, default=10.0, help="comment poll interval, seconds")
    p.add_argument("--environment", help="only count reviews of this GitHub environment")
    p.set_defaults(handler=_promote)

    p = sub.add_parser("rollback", parents=[*parents, writes],
                       help="return a stage to the previous good version (new tags, none deleted)",
                       description="Unassign the stage's current version (NAME#STAGE!#N) and "
                       "assign the previous one (NAME#STAGE#N+1), with a reason.")
    p.add_argument("name", nargs="?", help="artifact name (default: ledger.name or project)")
    p.add_argument("--stage", required=True)
    p.add_argument("--to", metavar="vX.Y.Z", help="version to return to (default: previous)")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=_rollback)

    p = sub.add_parser("status", parents=[*parents, reads], help="which version is in which stage")
    p.add_argument("name", nargs="?")
    p.set_defaults(handler=_status)

    p = sub.add_parser("history", parents=[*parents, reads],
                       help="every ledger event, oldest first")
    p.add_argument("name", nargs="?")
    p.set_defaults(handler=_history)

    p = sub.add_parser("verify", parents=[*parents, reads],
                       help="recompute digests, check evidence and re-check the policy of a tag")
    p.add_argument("target", metavar="NAME@vX.Y.Z|NAME#STAGE#N|NAME#STAGE")
    p.set_defaults(handler=_verify)


def _work_tree(args: argparse.Namespace) -> tuple[Path, Path | None, LedgerConfig | None]:
    """The repository, its work-tree config path (if any) and that config's ledger section."""
    from mlgate.ledger.gitio import ensure_repo
    from mlgate.ledger.policy import ledger_config, repo_config_path

    repo = ensure_repo(Path(args.repo))
    path = repo_config_path(Path(args.repo), args.config)
    if path is None:
        return repo, None, None
    from mlgate.config import load_config  # jsonschema is slow to import: only when needed

    return repo, path, ledger_config(load_config(path))


def _write_context(args: argparse.Namespace) -> tuple[Path, PolicyInForce, bool]:
    """Repository, the default branch's policy (after fetching the remote's ledger when the
    write pushes) and whether to push. A work tree whose ledger section differs from the
    default branch's is refused: its rules would not be the ones that judge."""
    from mlgate.ledger.gitio import remote_exists
    from mlgate.ledger.policy_source import (
        config_path_in_repo,
        ensure_work_tree_agrees,
        policy_in_force,
    )
    from mlgate.ledger.publish import sync

    repo, path, work = _work_tree(args)
    remote = work.remote if work else "origin"
    push = _push(args, work.push if work else True)
    if push:
        if not remote_exists(repo, remote):
            raise InputError(f"remote {remote!r} does not exist (set ledger.remote or use "
                             "--no-push)", repo)
        sync(repo, remote)
    rel = config_path_in_repo(repo, path)
    in_force = policy_in_force(repo, rel, remote)
    ensure_work_tree_agrees(work, in_force, rel)
    return repo, in_force, push


def _read_context(args: argparse.Namespace) -> tuple[Path, LedgerConfig, dict[str, LedgerConfig]]:
    """The context of a read command, after ``--fetch`` when asked: the repository, the work
    tree's ledger settings, and those settings by git blob id (the reader then need not parse
    the same file again when a tag recorded it as its policy)."""
    from mlgate.ledger.policy import LedgerConfig
    from mlgate.ledger.policy_source import blob_id, config_path_in_repo

    repo, path, work = _work_tree(args)
    lc = work or LedgerConfig()
    known = {blob_id(path.read_bytes()): lc} if path is not None and work is not None else {}
    lc.config_path = config_path_in_repo(repo, path)
    if args.fetch:
        from mlgate.ledger.gitio import remote_exists
        from mlgate.ledger.publish import sync

        if not remote_exists(repo, lc.remote):
            raise InputError(f"remote {lc.remote!r} does not exist", "--fetch")
        sync(repo, lc.remote)
    return repo, lc, known


def _name(args: argparse.Namespace, lc: LedgerConfig) -> str:
    from mlgate.ledger.tags import check_name

    name = args.name or lc.name
    if not name:
        raise InputError("no artifact name: pass NAME or set project in mlgate.yaml", "NAME")
    return check_name(name)


def _push(args: argparse.Namespace, default: bool) -> bool:
    return default if args.push is None else bool(args.push)


def _register(args: argparse.Namespace) -> GateResult:
    from mlgate.config import load_config
    from mlgate.ledger.ops import RegisterRequest, actor_name, trained_files
    from mlgate.ledger.ops import register as do_register
    from mlgate.ledger.policy import repo_config_path
    from mlgate.report.json_report import read_json

    results = [r for f in args.evidence for r in read_json(f)]  # bad evidence first
    repo, in_force, push = _write_context(args)
    config_path = repo_config_path(Path(args.repo), args.config)
    config = load_config(config_path) if config_path else None
    req = RegisterRequest(
        name=_name(args, in_force.config), artifact=args.artifact, version=args.version_,
        bump=args.bump, results=results, push=push, actor=actor_name(repo, args.actor),
        results_dir=None if args.evidence or config is None else config.results_dir,
        trained=trained_files(repo, config),
    )
    return do_register(repo, in_force, req)


def _promote(args: argparse.Namespace) -> GateResult:
    from mlgate.ledger.ops import PromoteRequest, actor_name, promote
    from mlgate.ledger.policy import parse_duration
    from mlgate.ledger.sources import ApprovalRequest, gather
    from mlgate.ledger.tags import check_stage_name

    repo, in_force, push = _write_context(args)
    name = _name(args, in_force.config)
    stage = check_stage_name(args.to, "--to")
    policy = in_force.config.stage(stage)
    request = ApprovalRequest(
        source=args.approvals, approved_by=args.approved_by, denied_by=args.denied_by,
        comment=args.approval_comment, run_id=args.run_id, issue=args.issue, since=args.since,
        timeout_s=parse_duration(args.timeout, "--timeout") if args.timeout else None,
        poll_s=args.poll, environment=args.environment,
    )
    req = PromoteRequest(
        name=name, version=args.version_, stage=stage,
        approvals=lambda ledger: gather(request, policy, ledger, name, args.version_),
        push=push, actor=actor_name(repo, args.actor),
    )
    return promote(repo, in_force, req)


def _rollback(args: argparse.Namespace) -> GateResult:
    from mlgate.ledger.ops import actor_name, rollback

    repo, in_force, push = _write_context(args)
    return rollback(repo, in_force, _name(args, in_force.config), args.stage, args.to,
                    args.reason, push, actor_name(repo, args.actor))


def _status(args: argparse.Namespace) -> GateResult:
    from mlgate.ledger.views import status

    repo, lc, known = _read_context(args)
    return status(repo, args.name, list(lc.stages), lc.remote, known, lc.config_path)


def _history(args: argparse.Namespace) -> GateResult:
    from mlgate.ledger.views import history

    repo, lc, known = _read_context(args)
    return history(repo, args.name, lc.remote, known, lc.config_path)


def _verify(args: argparse.Namespace) -> GateResult:
    from mlgate.ledger.verify import verify

    repo, lc, known = _read_context(args)
    return verify(repo, args.target, lc.remote, known, lc.config_path)
