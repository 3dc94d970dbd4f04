"""Release-pipeline stages: ``register`` records the candidate with the gate results that ran
before it, ``promote`` assigns that new version to ``ledger.release_to`` under its policy.

Like the commands, both are judged by the default branch's policy, never the work tree's.
"""

from __future__ import annotations

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.ops import (
    PromoteRequest,
    RegisterRequest,
    actor_name,
    promote,
    register,
    trained_files,
)
from mlgate.ledger.policy import ledger_config
from mlgate.ledger.policy_source import (
    PolicyInForce,
    config_path_in_repo,
    ensure_work_tree_agrees,
    policy_in_force,
)
from mlgate.ledger.sources import ApprovalRequest, gather
from mlgate.pipeline import RunContext, stage
from mlgate.result import GateResult


def _policy(ctx: RunContext) -> tuple[gitio.Path, PolicyInForce]:
    from mlgate.ledger.publish import sync

    work = ledger_config(ctx.config)
    repo = gitio.ensure_repo(ctx.config.root)
    if work.push:
        if not gitio.remote_exists(repo, work.remote):
            raise InputError(f"remote {work.remote!r} does not exist (set ledger.remote or "
                             "ledger.push: false)", ctx.config.where("ledger", "remote"))
        sync(repo, work.remote)
    rel = config_path_in_repo(repo, ctx.config.path)
    in_force = policy_in_force(repo, rel, work.remote)
    ensure_work_tree_agrees(work, in_force, rel)
    return repo, in_force


@stage("register")
def register_stage(ctx: RunContext) -> GateResult:
    repo, in_force = _policy(ctx)
    lc = in_force.config
    if not lc.name:
        raise InputError("no artifact name", ctx.config.where("project"))
    if not lc.artifact:
        raise InputError("the register stage needs ledger.artifact", ctx.config.where("ledger"))
    req = RegisterRequest(
        name=lc.name,
        artifact=str(ctx.config.resolve(lc.artifact)),
        version=ctx.options.get("version"),
        bump=ctx.options.get("bump"),
        results=list(ctx.previous),
        push=lc.push,
        actor=actor_name(repo, ctx.options.get("actor")),
        trained=trained_files(repo, ctx.config),
    )
    return register(repo, in_force, req)


@stage("promote")
def promote_stage(ctx: RunContext) -> GateResult:
    repo, in_force = _policy(ctx)
    lc = in_force.config
    if lc.release_to is None:
        raise InputError("the promote stage needs ledger.release_to (the stage to assign)",
                         ctx.config.where("ledger"))
    registered = ctx.result_of("register")
    version = (registered.data.get("outputs") or {}).get("version") if registered else None
    version = version or ctx.options.get("version")
    if not version:
        raise InputError("the promote stage runs after register (add it before promote)",
                         ctx.config.where("pipeline", ctx.event))
    name = str(lc.name)
    policy = lc.stage(lc.release_to, ctx.config.where("ledger", "release_to"))
    request = ApprovalRequest(approved_by=list(ctx.options.get("approved_by") or []))
    req = PromoteRequest(
        name=name,
        version=str(version),
        stage=lc.release_to,
        approvals=lambda ledger: gather(request, policy, ledger, name, str(version)),
        push=lc.push,
        actor=actor_name(repo, ctx.options.get("actor")),
    )
    return promote(repo, in_force, req)
