"""``mlgate doctor``: read the repository's GitHub settings and say which guarantee each misses.

The ledger believes nothing a tag says (docs/ledger.md, "Threat model"), but what it cannot
judge, a fully consistent record written by hand, only GitHub can stop: tag rulesets keep
people from writing release tags, environment reviewers keep them from approving their own
releases, a required check keeps ungated commits off the default branch, a read-only default
token and restricted, SHA-pinned actions keep workflows from doing either on someone's behalf.
Each of the five checks reads one setting through the REST API and reports what it found and
the exact call (and UI path) that fixes it (:mod:`mlgate.github.fixes`).

A setting the token may not read is a warning naming the permission, not a failure: the
doctor then does not know. Everything else that goes wrong with GitHub (no token, no
repository, unreachable API, 401, 5xx) is bad input: exit 2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mlgate.errors import InputError
from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.fixes import (
    CHECK_RULESET_NAME,
    DEPLOY_KEY_BYPASS,
    GITHUB_ACTIONS_BYPASS,
    TAG_RULESET_NAME,
    Fix,
    actions_policy_fix,
    environment_fix,
    required_check_fix,
    tag_ruleset_fix,
    workflow_permissions_fix,
)
from mlgate.github.rulesets import GITHUB_ACTIONS_APP_ID, PATTERNS, judge_tag_rulesets
from mlgate.result import CheckResult, GateResult, Status

if TYPE_CHECKING:
    from mlgate.config import Config

CHECK_TAGS = "ledger tag ruleset"
CHECK_ENVIRONMENT = "environment reviewers"
CHECK_REQUIRED = "required check"
CHECK_TOKEN = "workflow token"  # noqa: S105 - a check name, not a password
CHECK_ACTIONS = "allowed actions"
DEFAULT_ENVIRONMENT = "production"
WILDCARD_POLICIES = frozenset({"*", "**"})


@dataclass(frozen=True)
class DoctorOptions:
    """What the settings are checked against: the approval environment, the check name the
    default branch must require, and the artifacts whose ledger tags must be covered."""

    environment: str = DEFAULT_ENVIRONMENT
    check: str = ""
    artifacts: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()  # reviewers to propose when the environment has none


def doctor_options(config: Config | None, *, environment: str | None = None,
                   check: str | None = None) -> DoctorOptions:
    """Options from flags first, then mlgate.yaml: the production stage's
    ``approvals.environment`` (else ``production``), ``github.check_name`` (else
    ``mlgate / ARTIFACT`` with the ledger's artifact name)."""
    artifact = ""
    stage: dict[str, Any] = {}
    configured_check = ""
    if config is not None:
        ledger = config.section("ledger")
        artifact = str(ledger.get("name") or config.project)
        stage = dict(((ledger.get("stages") or {}).get("production") or {}).get("approvals")
                     or {})
        configured_check = str(config.section("github").get("check_name") or "")
    name = check or configured_check or (f"mlgate / {artifact}" if artifact else "")
    if not name:
        raise InputError("no check name to look for: pass --check NAME (the check the default "
                         "branch must require, e.g. 'mlgate / churn') or --config mlgate.yaml",
                         "--check")
    env = environment or str(stage.get("environment") or DEFAULT_ENVIRONMENT)
    approvers = tuple(str(a) for a in stage.get("approvers") or [])
    if env != str(stage.get("environment") or DEFAULT_ENVIRONMENT):
        approvers = ()  # another environment than the policy's: its approvers do not apply
    return DoctorOptions(environment=env, check=name, artifacts=(artifact,) if artifact else (),
                         approvers=approvers)


@dataclass
class _Repository:
    """What several checks share: the repository, its default branch and its rulesets."""

    client: GitHubClient
    name: str
    default_branch: str
    rulesets: list[dict[str, Any]] = field(default_factory=list)
    rulesets_error: GitHubError | None = None


def run_doctor(client: GitHubClient, options: DoctorOptions) -> GateResult:
    """Run every check against the repository of ``client``; raises GitHubError (exit 2) for
    anything but a setting the token may not read."""
    path = client.repo_path()
    repository = path.removeprefix("/repos/")
    info = client.get(path, what=f"repository {repository}")
    repo = _Repository(client, repository, str(info.get("default_branch") or "main"))
    _load_rulesets(repo)
    gate = GateResult(gate="doctor", summary=f"GitHub settings of {repository} that mlgate's "
                      "ledger relies on (docs/hardening.md)")
    checks: list[Callable[[_Repository, DoctorOptions], CheckResult]] = [
        check_tag_ruleset, check_environment, check_required_check, check_workflow_token,
        check_allowed_actions]
    for check in checks:
        gate.add(check(repo, options))
    gate.data["outputs"] = {"failed": ",".join(c.name for c in gate.failures)}
    return gate


# -- the checks --------------------------------------------------------------------------------


def check_tag_ruleset(repo: _Repository, options: DoctorOptions) -> CheckResult:
    """Tag rulesets restrict creating, updating and deleting ledger tags to machines."""
    names = [*options.artifacts, "model"]
    patterns = list(PATTERNS.values())
    if any("/" in n for n in names):  # "*" stops at "/": nested names need "**/"
        patterns += [f"**/{p}" for p in PATTERNS.values()]
    ours = _named(repo.rulesets, TAG_RULESET_NAME, "tag")
    if repo.rulesets_error is not None:
        fix = tag_ruleset_fix(repo.name, None, patterns, [GITHUB_ACTIONS_BYPASS])
        return _unreadable(CHECK_TAGS, repo.rulesets_error, "metadata: read", "rulesets", fix)
    tag_rulesets = [r for r in repo.rulesets if r.get("target") == "tag"]
    verdict = judge_tag_rulesets(tag_rulesets, names)
    found = "; ".join(verdict.found) if verdict.found else "no tag rulesets"
    if verdict.status is Status.PASS:
        return CheckResult(CHECK_TAGS, Status.PASS,
                           f"creating, updating and deleting {_kinds(names)} is restricted to "
                           f"deploy keys and GitHub Apps. Found: {found}",
                           details={"rulesets": verdict.found})
    fix = tag_ruleset_fix(repo.name, ours["id"] if ours else None, patterns,
                          _bypass_for_fix(tag_rulesets, verdict.kept_actors))
    return CheckResult(CHECK_TAGS, verdict.status,
                       f"{'; '.join(verdict.problems)}. Found: {found}. {fix.text()}",
                       details={"rulesets": verdict.found, "problems": verdict.problems,
                                "fix": fix.to_dict()})


def check_environment(repo: _Repository, options: DoctorOptions) -> CheckResult:
    """The approval environment exists, needs a reviewer, forbids self-review and limits
    which branches may deploy."""
    name = options.environment
    client = repo.client
    env_path = client.repo_path(f"/environments/{quote(name, safe='')}")
    try:
        env = client.get(env_path, what=f"environment {name!r}")
    except GitHubError as exc:
        if exc.status == 404:
            env = None
        elif exc.status == 403:
            fix = _environment_fix(repo, options, None)
            return _unreadable(CHECK_ENVIRONMENT, exc, "actions: read", f"environment {name!r}",
                               fix)
        else:
            raise
    if env is None:
        fix = _environment_fix(repo, options, None)
        return CheckResult(CHECK_ENVIRONMENT, Status.FAIL,
                           f"environment {name!r} does not exist: production jobs run without "
                           f"anyone's approval. {fix.text()}",
                           details={"environment": name, "fix": fix.to_dict()})
    reviewers_rule = _rule(env, "required_reviewers")
    reviewers = list((reviewers_rule or {}).get("reviewers") or [])
    prevent = (reviewers_rule or {}).get("prevent_self_review") is True
    policy = env.get("deployment_branch_policy")
    problems: list[str] = []
    status = Status.PASS
    if not reviewers:
        problems.append("no required reviewers: nobody approves production jobs")
    if reviewers and not prevent:
        problems.append("prevent_self_review is false: whoever starts a release can approve it")
    branches = "any branch (deployment_branch_policy is null)"
    if policy is None:
        problems.append("any branch or tag may deploy (deployment_branch_policy is null): a "
                        "workflow on a pushed branch can use the environment")
    elif policy.get("protected_branches"):
        branches = "protected branches only"
    else:
        try:
            patterns = [str(p.get("name")) for p in client.paginate(
                client.repo_path(f"/environments/{quote(name, safe='')}/deployment-branch-"
                                 "policies"))]
            branches = f"custom policies {patterns}"
            wide = [p for p in patterns if p in WILDCARD_POLICIES]
            if wide:
                problems.append(f"deployment branch policy {wide[0]!r} lets every branch "
                                "deploy")
        except GitHubError as exc:
            if exc.status != 403:
                raise
            branches = "custom policies (not readable: the token needs `actions: read`)"
            status = Status.WARN
    who = ", ".join(_reviewer_name(r) for r in reviewers) or "none"
    found = (f"environment {name!r}: reviewers {who}; prevent_self_review "
             f"{str(prevent).lower()}; deployment branches: {branches}")
    if not problems:
        return CheckResult(CHECK_ENVIRONMENT, status, found, details={"environment": name})
    fix = _environment_fix(repo, options, env)
    return CheckResult(CHECK_ENVIRONMENT, Status.FAIL,
                       f"{'; '.join(problems)}. Found: {found}. {fix.text()}",
                       details={"environment": name, "problems": problems,
                                "fix": fix.to_dict()})


def check_required_check(repo: _Repository, options: DoctorOptions) -> CheckResult:
    """The default branch requires the mlgate check, by an active branch ruleset or by classic
    branch protection."""
    client = repo.client
    branch = repo.default_branch
    check = options.check
    by_rules: dict[str, Any] = {}
    unreadable: GitHubError | None = None
    try:
        rules = list(client.paginate(client.repo_path(f"/rules/branches/"
                                                      f"{quote(branch, safe='')}")))
    except GitHubError as exc:
        if exc.status != 403:
            raise
        rules, unreadable = [], exc
    for rule in rules:
        if rule.get("type") == "required_status_checks":
            for item in (rule.get("parameters") or {}).get("required_status_checks") or []:
                by_rules.setdefault(str(item.get("context")), rule.get("ruleset_id"))
    if check in by_rules:
        return CheckResult(CHECK_REQUIRED, Status.PASS,
                           f"{branch!r} requires {check!r} (ruleset id {by_rules[check]})",
                           details={"branch": branch, "check": check})
    protected: list[str] | None = None
    permission = "metadata: read"
    try:
        protection = client.get(client.repo_path(f"/branches/{quote(branch, safe='')}/"
                                                 "protection"))
        required = protection.get("required_status_checks") or {}
        protected = list(dict.fromkeys(
            [str(c) for c in required.get("contexts") or []]
            + [str(c.get("context")) for c in required.get("checks") or []]))
    except GitHubError as exc:
        if exc.status == 403 and not _plan_limited(exc):
            unreadable, permission = exc, "administration: read"
        elif exc.status not in (403, 404):  # 404: not protected; 403 "Upgrade ...": cannot be
            raise
    if protected is not None and check in protected:
        return CheckResult(CHECK_REQUIRED, Status.PASS,
                           f"{branch!r} requires {check!r} (branch protection)",
                           details={"branch": branch, "check": check})
    ours = _named(repo.rulesets, CHECK_RULESET_NAME, "branch")
    fix = required_check_fix(repo.name, check, branch, ours)
    classic = ("not readable" if protected is None and permission.startswith("admin")
               else "not protected" if protected is None else f"requires {protected or 'none'}")
    found = (f"rulesets require {sorted(by_rules) or 'none'} on {branch!r}; branch protection: "
             f"{classic}")
    details = {"branch": branch, "check": check, "fix": fix.to_dict()}
    if unreadable is not None:
        reason = _permission_text(unreadable, permission)
        return CheckResult(CHECK_REQUIRED, Status.WARN,
                           f"cannot tell whether {branch!r} requires {check!r}: {reason}. "
                           f"Found: {found}. {fix.text()}",
                           details={**details, "permission": permission})
    ours_elsewhere = [c for c in [*by_rules, *(protected or [])] if c.startswith("mlgate / ")]
    hint = (f" If {ours_elsewhere[0]!r} is your gate's check, pass --check with it or set "
            "github.check_name in mlgate.yaml." if ours_elsewhere else "")
    return CheckResult(CHECK_REQUIRED, Status.FAIL,
                       f"{branch!r} does not require {check!r}: commits whose gates failed "
                       f"(or never ran) can reach it. Found: {found}.{hint} {fix.text()}",
                       details=details)


def check_workflow_token(repo: _Repository, options: DoctorOptions) -> CheckResult:
    """The default GITHUB_TOKEN is read-only and cannot approve pull requests."""
    client = repo.client
    fix = workflow_permissions_fix(repo.name)
    try:
        current = client.get(client.repo_path("/actions/permissions/workflow"))
    except GitHubError as exc:
        if exc.status != 403:
            raise
        return _unreadable(CHECK_TOKEN, exc, "administration: read", "workflow permissions", fix)
    default = current.get("default_workflow_permissions")
    approve = current.get("can_approve_pull_request_reviews")
    problems = []
    if default != "read":
        problems.append(f"default_workflow_permissions is {default!r}: every workflow without "
                        "a `permissions:` block gets a token that can push tags and notes")
    if approve is not False:
        problems.append(f"can_approve_pull_request_reviews is {_json(approve)}: a workflow can "
                        "approve pull requests, so a change can count as reviewed by nobody")
    found = (f"default_workflow_permissions {_json(default)}, can_approve_pull_request_reviews "
             f"{_json(approve)}")
    if not problems:
        return CheckResult(CHECK_TOKEN, Status.PASS, found)
    return CheckResult(CHECK_TOKEN, Status.FAIL, f"{'; '.join(problems)}. {fix.text()}",
                       details={"problems": problems, "fix": fix.to_dict()})


def check_allowed_actions(repo: _Repository, options: DoctorOptions) -> CheckResult:
    """Only selected (or local) actions may run, and they must be pinned to commit SHAs."""
    client = repo.client
    try:
        current = client.get(client.repo_path("/actions/permissions"))
    except GitHubError as exc:
        if exc.status != 403:
            raise
        fix = actions_policy_fix(repo.name, "selected")
        return _unreadable(CHECK_ACTIONS, exc, "administration: read", "Actions permissions",
                           fix)
    allowed = current.get("allowed_actions")
    fix = actions_policy_fix(repo.name, str(allowed or "selected"))
    if current.get("enabled") is False:
        return CheckResult(CHECK_ACTIONS, Status.WARN,
                           f"GitHub Actions is disabled in {repo.name}: mlgate's workflows "
                           f"cannot run. {fix.text()}", details={"fix": fix.to_dict()})
    pinning = current.get("sha_pinning_required")
    problems = []
    if allowed not in ("selected", "local_only"):
        problems.append(f"allowed_actions is {_json(allowed)}: any action from any repository "
                        "can run with the workflows' tokens and secrets")
    if pinning is False:
        problems.append("sha_pinning_required is false: an action used by tag can change under "
                        "you")
    found = (f"allowed_actions {_json(allowed)}, sha_pinning_required "
             f"{_json(pinning) if 'sha_pinning_required' in current else '(not returned)'}")
    if problems:
        return CheckResult(CHECK_ACTIONS, Status.FAIL, f"{'; '.join(problems)}. {fix.text()}",
                           details={"problems": problems, "fix": fix.to_dict()})
    if "sha_pinning_required" not in current:
        return CheckResult(CHECK_ACTIONS, Status.WARN,
                           f"{found}: GitHub did not return sha_pinning_required (GitHub's "
                           "OpenAPI description has it; older GitHub Enterprise Server "
                           "versions do not), so SHA pinning could not be checked",
                           details={"fix": fix.to_dict()})
    return CheckResult(CHECK_ACTIONS, Status.PASS, found)


# -- helpers -----------------------------------------------------------------------------------


def _load_rulesets(repo: _Repository) -> None:
    """Details of every tag ruleset and of mlgate's own branch ruleset. The list endpoint
    returns summaries only (no rules, conditions or bypass list)."""
    client = repo.client
    try:
        summaries = list(client.paginate(client.repo_path("/rulesets"),
                                         {"targets": "tag,branch", "includes_parents": "true"}))
        repo.rulesets = [
            client.get(client.repo_path(f"/rulesets/{int(s['id'])}"), what=f"ruleset {s['id']}")
            for s in summaries
            if s.get("target", "tag") == "tag" or s.get("name") == CHECK_RULESET_NAME
        ]
    except GitHubError as exc:
        if exc.status != 403:
            raise
        repo.rulesets_error = exc


def _bypass_for_fix(tag_rulesets: list[dict[str, Any]],
                    kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who the fixed ruleset lets through: the machines already trusted; else, when releases
    already push as GitHub Actions, a deploy key (the step past the warning); else GitHub
    Actions, which the shipped release workflows push as (a fix must not stop releases)."""
    if kept:
        return kept
    actions = any(a.get("actor_type") == "Integration"
                  and a.get("actor_id") == GITHUB_ACTIONS_APP_ID
                  for r in tag_rulesets for a in r.get("bypass_actors") or [])
    return [DEPLOY_KEY_BYPASS] if actions else [GITHUB_ACTIONS_BYPASS]


def _named(rulesets: list[dict[str, Any]], name: str, target: str) -> dict[str, Any] | None:
    """mlgate's own repository ruleset of that name and target (a fix updates it in place)."""
    return next((r for r in rulesets if r.get("name") == name and r.get("target") == target
                 and r.get("source_type", "Repository") == "Repository"), None)


def _environment_fix(repo: _Repository, options: DoctorOptions,
                     env: dict[str, Any] | None) -> Fix:
    rules = (env or {}).get("protection_rules") or []
    wait = next((int(r.get("wait_timer") or 0) for r in rules if r.get("type") == "wait_timer"),
                0)
    reviewers = [{"type": r.get("type", "User"), "id": (r.get("reviewer") or {}).get("id")}
                 for r in (_rule(env or {}, "required_reviewers") or {}).get("reviewers") or []
                 if (r.get("reviewer") or {}).get("id") is not None]
    if not reviewers:
        reviewers = _user_ids(repo.client, options.approvers)
    policy = (env or {}).get("deployment_branch_policy")
    if policy and policy.get("custom_branch_policies"):
        policy = None  # a wildcard custom policy is the problem: protected branches instead
    return environment_fix(repo.name, options.environment, wait_timer=wait, reviewers=reviewers,
                           logins=list(options.approvers), branch_policy=policy)


def _user_ids(client: GitHubClient, logins: tuple[str, ...]) -> list[dict[str, Any]]:
    """Reviewer entries for the policy's approvers (GitHub wants user ids, not logins)."""
    out = []
    for login in logins[:6]:
        try:
            user = client.get(f"/users/{quote(login, safe='')}", what=f"user {login!r}")
        except GitHubError:
            return []  # an approver GitHub does not know: leave the id to the reader
        out.append({"type": "User", "id": int(user["id"])})
    return out


def _rule(env: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((r for r in env.get("protection_rules") or [] if r.get("type") == kind), None)


def _reviewer_name(entry: dict[str, Any]) -> str:
    reviewer = entry.get("reviewer") or {}
    name = reviewer.get("login") or reviewer.get("slug") or reviewer.get("id")
    return f"{str(entry.get('type', 'User')).lower()} {name}"


def _kinds(names: list[str]) -> str:
    first = names[0]
    return f"{first}@v… and {first}#STAGE#N tags"


def _unreadable(name: str, exc: GitHubError, permission: str, what: str, fix: Fix) -> CheckResult:
    """A 403: a warning naming the permission; or a failure when GitHub says the feature is
    not available to this repository (plan), which no token fixes."""
    details = {"fix": fix.to_dict(), "github": {"status": exc.status,
                                                "message": exc.github_message}}
    if _plan_limited(exc):
        return CheckResult(name, Status.FAIL,
                           f"{what}: GitHub answered 403 {exc.github_message!r}: this repository's "
                           f"plan does not offer the setting. {fix.text()}", details=details)
    return CheckResult(name, Status.WARN,
                       f"cannot read {what}: {_permission_text(exc, permission)}. {fix.text()}",
                       details={**details, "permission": permission})


def _plan_limited(exc: GitHubError) -> bool:
    """GitHub's 403 for a feature the repository's plan lacks ("Upgrade to GitHub Pro or make
    this repository public to enable this feature.")."""
    return exc.status == 403 and "upgrade" in exc.github_message.lower()


def _permission_text(exc: GitHubError, permission: str) -> str:
    where = ("a fine-grained token or GitHub App permission; a workflow's GITHUB_TOKEN cannot "
             "have it" if permission.startswith("administration")
             else "in a workflow: add it to `permissions:`")
    return (f"GitHub answered {exc.status} {exc.github_message!r}; the token needs "
            f"`{permission}` ({where})")


def _json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)
