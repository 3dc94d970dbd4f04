"""The trust boundary: a run whose code is not the default branch's cannot widen its own trust.

A pull request (or a comment on one, a merge queue entry, a workflow_run triggered by one, a
push to another branch) runs code anyone with a fork or push rights wrote, including its own
``mlgate.yaml``. Some settings decide what mlgate itself executes: types a ``.skops`` file may
construct (``model.trusted_types: [os.system]`` is code execution), pickles, code paths,
the command or image a load test starts and the environment it gets, and the ledger's policy.
Those are :data:`TRUST_KEYS`. In an untrusted run they are read from the default branch's copy
of the same config file: a run whose copy differs is refused with one line naming the key, so
a pull request can propose such a change (reviewers see it) but never use it before it merges.

The check runs where each setting is used (loading a model, starting a load target, writing
the ledger), never on every config load, so a pull request that edits only thresholds passes.
In a trusted run it returns before touching git.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate import default_branch as db
from mlgate.config import Config, parse_config_bytes, with_defaults
from mlgate.errors import InputError
from mlgate.github.context import GitHubContext
from mlgate.ledger import gitio
from mlgate.ledger.gitio import GitError

UNTRUSTED_ENV = "MLGATE_UNTRUSTED"
REMOTE = "origin"

# Events whose code (or whose checkout, by convention) is a pull request's, not the default
# branch's: always untrusted, whatever GITHUB_REF says.
UNTRUSTED_EVENTS = (
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
    "issue_comment",
    "merge_group",
    "workflow_run",
)

MODEL_KEYS = ("model.trusted_types", "model.allow_pickle", "model.code_paths")
# Checked where a registry champion is fetched (not on every model load): the job's MLflow
# credentials go to this server, and it decides which bytes are the champion.
REGISTRY_KEYS = ("model.mlflow_tracking_uri",)
LOAD_TARGET_KEYS = (
    "load.target.command",
    "load.target.image",
    "load.target.env",
    "load.target.allow_pickle",
)
# A Spark session's master and config decide where the data go and what code the JVM loads
# (spark.jars, spark.plugins, spark.driver.extraJavaOptions): checked before a session starts.
DATA_KEYS = ("data.spark",)
LEDGER_KEYS = ("ledger",)
TRUST_KEYS = MODEL_KEYS + REGISTRY_KEYS + LOAD_TARGET_KEYS + DATA_KEYS + LEDGER_KEYS
"""Every setting that widens what mlgate executes or believes; read from the default branch."""


@dataclass(frozen=True)
class RunTrust:
    """Whether this run's code is the default branch's; ``reason`` says why, for messages."""

    untrusted: bool
    reason: str


def run_trust(env: Mapping[str, str] | None = None) -> RunTrust:
    """Decide from the environment (and GitHub's event payload) whether this run is trusted.

    Outside GitHub Actions a run is trusted unless ``MLGATE_UNTRUSTED=1`` (how other CI systems
    mark pull-request builds; it can only narrow trust, so it is honoured in Actions too). In
    Actions, pull-request-like events are untrusted; any other event is trusted only on
    ``refs/heads/<default branch>`` (tags and other branches run code that never went through
    review on the default branch), and untrusted when the default branch is unknown.
    """
    source = env if env is not None else os.environ
    if _truthy(source.get(UNTRUSTED_ENV, "")):
        return RunTrust(True, f"{UNTRUSTED_ENV}=1")
    if not source.get("GITHUB_ACTIONS", "").strip():
        return RunTrust(False, "outside GitHub Actions")
    ctx = GitHubContext.from_env(source)
    event = ctx.event_name or "unknown event"
    if ctx.event_name in UNTRUSTED_EVENTS or not ctx.event_name:
        return RunTrust(True, event)
    name = _default_branch_name(source, ctx)
    where = f"{event} on {ctx.ref or 'no GITHUB_REF'}"
    if name is None:
        return RunTrust(True, f"{where}, default branch unknown")
    if ctx.ref == f"refs/heads/{name}":
        return RunTrust(False, where)
    return RunTrust(True, where)


@dataclass(frozen=True)
class DefaultConfig:
    """The default branch's copy of a config file (``raw`` is None when it has none)."""

    branch: db.DefaultBranch
    path: str
    raw: dict[str, Any] | None

    @property
    def source(self) -> str:
        return f"{self.branch.name}:{self.path}"


def check_unchanged(
    config: Config,
    keys: Sequence[str] = TRUST_KEYS,
    env: Mapping[str, str] | None = None,
) -> None:
    """In an untrusted run, refuse when ``config`` differs from the default branch's copy in any
    of ``keys`` (dotted paths; absent equals the schema default). Trusted runs: no-op, no git.
    """
    trust = run_trust(env)
    if not trust.untrusted or not keys:
        return
    trusted = default_config(config, trust, env)
    for key in keys:
        parts = key.split(".")
        ours = setting(config.raw, parts)
        theirs = setting(trusted.raw or {}, parts)
        if _canonical(ours) != _canonical(theirs):
            line = config.line_of(*parts)
            name = trusted.branch.name
            raise InputError(
                f"{key}: this run's code is not the default branch's ({trust.reason}), and this "
                f"setting widens trust, so it is read from the default branch ({name}), where "
                f"it differs; merge the change to {name} first",
                f"{config.path}:{line}" if line else config.where(*parts),
            )


def default_config(
    config: Config, trust: RunTrust | None = None, env: Mapping[str, str] | None = None
) -> DefaultConfig:
    """The default branch's copy of ``config``'s file, parsed and validated like a file.

    For callers (the ledger) that read their policy from the default branch directly. Fails
    closed: when the default branch cannot be read, InputError says how to make it readable.
    """
    trust = trust or run_trust(env)
    top, relative = _repo_path(config, trust)
    branch = locate_default_branch(top, env, what=f"{config.path}'s trust settings", trust=trust)
    found = db.read_file(top, branch, relative)
    if found is None:
        return DefaultConfig(branch, relative, None)
    raw = parse_config_bytes(found.content, f"{branch.name}:{relative}")
    return DefaultConfig(branch, relative, raw)


def locate_default_branch(
    repo: Path, env: Mapping[str, str] | None, *, what: str, trust: RunTrust
) -> db.DefaultBranch:
    """The default branch in this clone, fetched from ``origin`` when the clone lacks it
    (actions/checkout fetches only the commit it runs); InputError naming the fix otherwise."""
    try:
        return db.default_branch(repo, REMOTE, env)
    except InputError:
        name = db.branch_name(repo, REMOTE, env)
        if name:
            db.fetch(repo, REMOTE, name)
    try:
        return db.default_branch(repo, REMOTE, env)
    except InputError as exc:
        raise InputError(
            f"this run's code is not the default branch's ({trust.reason}), so {what} are "
            f"read from the default branch, which cannot be read here ({exc.message}); "
            "refusing to go on",
            exc.source,
        ) from exc


def setting(raw: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """The value at ``keys`` in a parsed config, schema defaults filled in when absent."""
    node: Any = raw
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return with_defaults(node, *keys)


def _repo_path(config: Config, trust: RunTrust) -> tuple[Path, str]:
    """The repository holding ``config`` and the file's path inside it (symlinks in the
    directories resolved, not in the file name: a file that became a symlink is compared by
    the content it shows)."""
    directory = Path(os.path.realpath(config.path.absolute().parent))
    try:
        top = Path(gitio.git(directory, "rev-parse", "--show-toplevel").strip()).resolve()
    except (GitError, OSError) as exc:
        raise InputError(
            f"this run's code is not the default branch's ({trust.reason}), so settings that "
            "widen trust are read from the default branch, but this config is not in a git "
            "checkout; run from a clone of the repository",
            config.path,
        ) from exc
    try:
        return top, (directory / config.path.name).relative_to(top).as_posix()
    except ValueError as exc:
        raise InputError("the config file is outside its git repository", config.path) from exc


def _default_branch_name(env: Mapping[str, str], ctx: GitHubContext) -> str | None:
    explicit = env.get(db.ENV_NAME, "").strip()
    if explicit:
        return explicit.removeprefix("refs/heads/")
    repository = ctx.event.get("repository")
    name = repository.get("default_branch") if isinstance(repository, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def _canonical(value: Any) -> str:
    """One spelling per value: ``1`` and ``true`` (or ``1`` and ``1.0``) differ, key order not."""
    return json.dumps(value, sort_keys=True, default=str)


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes")
