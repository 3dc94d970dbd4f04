"""The fix for each setting ``mlgate doctor`` checks: one REST call and the same in the UI.

A finding is only useful with the exact change that resolves it, so every failed or warned
check carries a :class:`Fix`: the method, path and JSON body of the REST call (shown as a
``gh api`` command line that can be pasted into a shell) and the path through the settings
pages. Bodies are built to validate against GitHub's OpenAPI description of the operation
(the tests send them to the emulator, which checks), and keep what is already right (wait
timers, reviewers, deploy-key bypasses) rather than resetting it.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from mlgate.github.rulesets import GITHUB_ACTIONS_APP_ID

TAG_RULESET_NAME = "mlgate ledger tags"
CHECK_RULESET_NAME = "mlgate required check"
DEPLOY_KEY_BYPASS = {"actor_id": None, "actor_type": "DeployKey", "bypass_mode": "always"}
# "GitHub Actions" on github.com: what GITHUB_TOKEN pushes as.
GITHUB_ACTIONS_BYPASS = {"actor_id": GITHUB_ACTIONS_APP_ID, "actor_type": "Integration",
                         "bypass_mode": "always"}
REVIEWER_PLACEHOLDER = "REVIEWER_ID"


@dataclass(frozen=True)
class Fix:
    """A REST call that fixes a setting, and where the same is done in GitHub's UI."""

    method: str
    path: str  # /repos/OWNER/NAME/...
    body: dict[str, Any] | None
    ui: str
    note: str = ""

    def gh(self) -> str:
        """The call as one shell line: ``echo 'JSON' | gh api --method M PATH --input -``."""
        command = f"gh api --method {self.method} {shlex.quote(self.path.lstrip('/'))}"
        if self.body is None:
            return command
        return f"echo {shlex.quote(json.dumps(self.body))} | {command} --input -"

    def text(self) -> str:
        note = f" {self.note}" if self.note else ""
        return f"Fix: `{self.gh()}`; in the UI: {self.ui}.{note}"

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body, "gh": self.gh(),
                "ui": self.ui, "note": self.note}


def tag_ruleset_fix(repository: str, existing_id: int | None, patterns: list[str],
                    bypass_actors: list[dict[str, Any]]) -> Fix:
    """Create (or, when mlgate's own ruleset exists, replace) an active tag ruleset that
    restricts creating, updating and deleting the ledger's tags to ``bypass_actors``."""
    body = {
        "name": TAG_RULESET_NAME,
        "target": "tag",
        "enforcement": "active",
        "bypass_actors": bypass_actors,
        "conditions": {"ref_name": {"include": [f"refs/tags/{p}" for p in patterns],
                                    "exclude": []}},
        "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}],
    }
    shown = " and ".join(f"`{p}`" for p in patterns)
    ui = (f"Settings → Rules → Rulesets → New ruleset → New tag ruleset: name "
          f"'{TAG_RULESET_NAME}', Enforcement status Active, Bypass list: Add bypass → what the "
          "release workflow pushes with (Deploy keys, its GitHub App, or GitHub Actions), Target "
          f"tags: Add target → Include by pattern {shown}, Rules: Restrict creations, Restrict "
          "updates, Restrict deletions → Create")
    note = ""
    if GITHUB_ACTIONS_BYPASS in bypass_actors:
        note = ("GitHub Actions (app 15368 on github.com) is the bypass because mlgate's release "
                "workflows push with GITHUB_TOKEN; it lets any workflow run with `contents: "
                "write` push ledger tags, so the doctor keeps warning until the release jobs push "
                "with a deploy key or GitHub App instead (docs/hardening.md).")
    elif DEPLOY_KEY_BYPASS in bypass_actors:
        note = ("DeployKey means the repository's deploy keys: the release jobs must push with "
                "one that has write access (actions/checkout `ssh-key:`), its private key only "
                "in the secrets of environments that protected branches alone may use "
                "(docs/hardening.md).")
    if existing_id is not None:
        return Fix("PUT", f"/repos/{repository}/rulesets/{existing_id}", body, ui, note)
    return Fix("POST", f"/repos/{repository}/rulesets", body, ui, note)


def environment_fix(repository: str, name: str, *, wait_timer: int,
                    reviewers: list[dict[str, Any]], logins: list[str],
                    branch_policy: dict[str, bool] | None) -> Fix:
    """Set required reviewers, prevent self-review and a deployment branch policy on the
    environment (creating it when missing), keeping its wait timer and reviewers."""
    policy = branch_policy or {"protected_branches": True, "custom_branch_policies": False}
    note = ""
    if not reviewers:
        reviewers = [{"type": "User", "id": REVIEWER_PLACEHOLDER}]
        who = ", ".join(logins) if logins else "LOGIN"
        note = (f"Replace {REVIEWER_PLACEHOLDER} with a reviewer's user id (`gh api users/LOGIN "
                f"--jq .id` for {who}); list up to six.")
    body = {"wait_timer": wait_timer, "prevent_self_review": True, "reviewers": reviewers,
            "deployment_branch_policy": policy}
    kind = ("Protected branches only" if policy["protected_branches"]
            else "Selected branches and tags (without a `*` pattern)")
    ui = (f"Settings → Environments → {name} (New environment if missing) → Deployment "
          "protection rules: tick Required reviewers, add the people who approve releases, "
          f"tick Prevent self-review; Deployment branches and tags: {kind} → Save protection "
          "rules")
    return Fix("PUT", f"/repos/{repository}/environments/{quote(name, safe='')}", body, ui, note)


def required_check_fix(repository: str, check: str, branch: str,
                       existing: dict[str, Any] | None) -> Fix:
    """A branch ruleset on the default branch that requires the check (added to mlgate's own
    ruleset when it exists, keeping its other rules and checks)."""
    checks = [{"context": check}]
    rules: list[dict[str, Any]] = []
    for rule in (existing or {}).get("rules") or []:
        if rule.get("type") == "required_status_checks":
            params = rule.get("parameters") or {}
            checks = [c for c in params.get("required_status_checks") or []
                      if c.get("context") != check] + checks
        else:
            rules.append(rule)
    rules.append({"type": "required_status_checks", "parameters": {
        "strict_required_status_checks_policy": False,
        "required_status_checks": checks}})
    body = {
        "name": CHECK_RULESET_NAME,
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": rules,
    }
    ui = (f"Settings → Rules → Rulesets → New ruleset → New branch ruleset: name "
          f"'{CHECK_RULESET_NAME}', Enforcement status Active, Target branches: Add target → "
          f"Include default branch ({branch}), Rules: Require status checks to pass → Add checks "
          f"→ '{check}' → Create (or, under Settings → Branches, add '{check}' to the branch "
          "protection rule's required status checks)")
    if existing is not None:
        return Fix("PUT", f"/repos/{repository}/rulesets/{existing['id']}", body, ui)
    return Fix("POST", f"/repos/{repository}/rulesets", body, ui)


def workflow_permissions_fix(repository: str) -> Fix:
    """Read-only default ``GITHUB_TOKEN`` and no pull-request approvals by Actions."""
    body = {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
    ui = ("Settings → Actions → General → Workflow permissions: Read repository contents and "
          "packages permissions, untick Allow GitHub Actions to create and approve pull "
          "requests → Save")
    note = ("GitHub answers 409 when the organization's setting decides: change it there "
            "(Organization settings → Actions → General).")
    return Fix("PUT", f"/repos/{repository}/actions/permissions/workflow", body, ui, note)


def actions_policy_fix(repository: str, allowed_actions: str) -> Fix:
    """Only selected (or local) actions, pinned to full commit SHAs."""
    allowed = allowed_actions if allowed_actions in ("selected", "local_only") else "selected"
    body = {"enabled": True, "allowed_actions": allowed, "sha_pinning_required": True}
    ui = ("Settings → Actions → General → Actions permissions: Allow OWNER, and select "
          "non-OWNER, actions and reusable workflows, tick Allow actions created by GitHub, "
          "tick Require actions to be pinned to a full-length commit SHA → Save")
    note = ("With SHA pinning, run mlgate through the workflows `mlgate init` writes (every "
            "action pinned; its reusable workflows use mlgate's actions by tag).")
    if allowed == "selected":
        note = (f"Then allow what those workflows use (GitHub's own actions): "
                f"`{selected_actions_fix(repository).gh()}`. {note}")
    return Fix("PUT", f"/repos/{repository}/actions/permissions", body, ui, note)


def selected_actions_fix(repository: str) -> Fix:
    """The allow list of ``allowed_actions: selected``: GitHub's own actions (checkout,
    setup-python, cache: all that mlgate's pinned workflows use), nothing else."""
    body = {"github_owned_allowed": True, "verified_allowed": False, "patterns_allowed": []}
    ui = ("Settings → Actions → General → Actions permissions: tick Allow actions created by "
          "GitHub, untick Allow actions by Marketplace verified creators → Save")
    return Fix("PUT", f"/repos/{repository}/actions/permissions/selected-actions", body, ui)
