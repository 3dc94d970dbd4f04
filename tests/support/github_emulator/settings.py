"""Repository settings in the emulator: rulesets, branch protection, environment protection,
Actions permissions, and the users they name.

These are what ``mlgate doctor`` reads and what its fixes write, so a test can set a repository
up wrong, run the doctor, apply the ``gh api`` call it prints and run it again. Behaviour copied
from GitHub's REST API and its documentation:

* ``GET /rulesets`` lists summaries (no rules, conditions or bypass list); ``GET
  /rulesets/{id}`` has them, but ``bypass_actors`` only for tokens with write access to the
  ruleset (here: ``administration: write``); organization rulesets are included unless
  ``includes_parents=false``; ``targets`` filters by target.
* ``GET /rules/branches/{branch}`` returns the rules of *active* branch rulesets whose ref-name
  conditions match ``refs/heads/BRANCH`` (``evaluate`` and ``disabled`` ones are left out).
  Patterns are matched segment by segment (``*`` never crosses ``/``, a ``**`` segment spans
  any number of segments), as GitHub's ``File.fnmatch`` with ``FNM_PATHNAME`` does.
* ``GET /branches/{branch}/protection`` answers 404 "Branch not protected" when there is none.
* ``PUT /environments/{name}`` replaces the environment's protection (omitted fields are
  cleared); reviewers are given by user id; the deployment branch policy must be either
  protected branches or custom policies.
* ``PUT /actions/permissions``, ``PUT /actions/permissions/selected-actions`` (409 unless
  ``allowed_actions`` is ``selected``) and ``PUT /actions/permissions/workflow`` answer 204 and
  keep fields the body leaves out.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from tests.support.github_emulator.replies import Reply
from tests.support.github_emulator.spec import Spec

# operationId -> permissions of which the token needs at least one ("scope:level").
SETTINGS_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "repos/get-repo-rulesets": ("metadata:read",),
    "repos/get-repo-ruleset": ("metadata:read",),
    "repos/create-repo-ruleset": ("administration:write",),
    "repos/update-repo-ruleset": ("administration:write",),
    "repos/get-branch-rules": ("metadata:read",),
    "repos/get-branch-protection": ("administration:read",),
    "repos/get-environment": ("actions:read",),
    "repos/create-or-update-environment": ("administration:write",),
    "repos/list-deployment-branch-policies": ("actions:read",),
    "actions/get-github-actions-permissions-repository": ("administration:read",),
    "actions/set-github-actions-permissions-repository": ("administration:write",),
    "actions/set-allowed-actions-repository": ("administration:write",),
    "actions/get-github-actions-default-workflow-permissions-repository":
        ("administration:read",),
    "actions/set-github-actions-default-workflow-permissions-repository":
        ("administration:write",),
    "users/get-by-username": (),
}
_LEVELS = {"none": 0, "read": 1, "write": 2}
_SUMMARY = ("id", "name", "target", "source_type", "source", "enforcement", "node_id", "_links",
            "created_at", "updated_at")


class RepositorySettings:
    """Mixin of :class:`~tests.support.github_emulator.server.GitHubEmulator`: the settings
    state, the methods that seed it, and the operations that read and write it."""

    # Provided by the emulator.
    spec: Spec
    repository: str
    owner: str
    url: str
    default_branch: str
    tokens: dict[str, dict[str, str]]
    users: dict[int, str]
    collaborators: dict[str, str]
    environments: dict[str, dict[str, Any]]
    _ids: itertools.count[int]

    def _user(self, login: str) -> dict[str, Any]:
        raise NotImplementedError

    def _api(self, suffix: str) -> str:
        raise NotImplementedError

    def _html(self, suffix: str) -> str:
        raise NotImplementedError

    def _page(self, items: list[Any], query: dict[str, list[str]],
              path: str) -> tuple[int, list[Any], dict[str, str]]:
        raise NotImplementedError

    def _init_settings(self) -> None:
        self.rulesets: dict[int, dict[str, Any]] = {}
        self.branch_protection: dict[str, dict[str, Any]] = {}
        self.branch_policies: dict[str, list[dict[str, Any]]] = {}
        # GitHub's defaults for a new repository.
        self.actions_permissions: dict[str, Any] = {
            "enabled": True, "allowed_actions": "all", "sha_pinning_required": False}
        self.selected_actions: dict[str, Any] = {
            "github_owned_allowed": True, "verified_allowed": False, "patterns_allowed": []}
        self.workflow_permissions: dict[str, Any] = {
            "default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}

    # -- seeding -----------------------------------------------------------------------------

    def add_ruleset(self, name: str, *, target: str = "tag", enforcement: str = "active",
                    include: Sequence[str] = (), exclude: Sequence[str] = (),
                    rules: Iterable[str | dict[str, Any]] = ("creation", "update", "deletion"),
                    bypass_actors: Sequence[dict[str, Any]] = (),
                    organization: bool = False) -> dict[str, Any]:
        """A ruleset; ``rules`` are rule types or whole rule objects; ``organization`` makes it
        an organization ruleset that applies to this repository."""
        body = {"name": name, "target": target, "enforcement": enforcement,
                "conditions": {"ref_name": {"include": list(include), "exclude": list(exclude)}},
                "rules": [r if isinstance(r, dict) else {"type": r} for r in rules],
                "bypass_actors": [dict(a) for a in bypass_actors]}
        return self._save_ruleset(body, None, organization=organization)

    def protect_branch(self, branch: str = "main", *, contexts: Sequence[str] = (),
                       checks: Sequence[str] = ()) -> dict[str, Any]:
        """Classic branch protection with these required status ``contexts`` and ``checks``."""
        protection = self.spec.example("repos/get-branch-protection", "200")
        # The spec's example breaks its own schema in these two (team and app owners); the
        # doctor reads neither.
        protection.pop("required_pull_request_reviews", None)
        protection.pop("restrictions", None)
        base = self._api(f"/branches/{branch}/protection")
        protection.update(url=base, name=branch, protection_url=base)
        required = protection["required_status_checks"]
        required.update(url=f"{base}/required_status_checks",
                        contexts_url=f"{base}/required_status_checks/contexts",
                        contexts=[*contexts, *checks],
                        checks=[{"context": c, "app_id": None} for c in [*contexts, *checks]])
        if not contexts and not checks:
            del protection["required_status_checks"]
        self.branch_protection[branch] = protection
        return protection

    def add_environment(self, name: str, reviewers: list[str] | None = None,
                        wait_timer: int = 0, *, prevent_self_review: bool = True,
                        branches: str | list[str] | None = None) -> dict[str, Any]:
        """An environment; ``branches`` is None (any branch may deploy), ``"protected"``
        (protected branches only) or a list of custom branch name patterns."""
        env = self.spec.example("repos/get-environment", "200")
        env.update(id=next(self._ids), name=name, url=self._api(f"/environments/{name}"),
                   html_url=self._html(f"/deployments/activity_log?environments_filter={name}"),
                   created_at=_now(), updated_at=_now())
        self.environments[name] = env
        users = [{"type": "User", "id": self._user(r)["id"]} for r in reviewers or []]
        policy = None
        if branches == "protected":
            policy = {"protected_branches": True, "custom_branch_policies": False}
        elif branches is not None:
            policy = {"protected_branches": False, "custom_branch_policies": True}
        self._protect_environment(env, {"wait_timer": wait_timer,
                                        "prevent_self_review": prevent_self_review,
                                        "reviewers": users, "deployment_branch_policy": policy})
        if isinstance(branches, list):
            self.branch_policies[name] = [
                {"id": next(self._ids), "node_id": f"DBP_{i}", "name": pattern, "type": "branch"}
                for i, pattern in enumerate(branches)]
        return env

    def set_actions_permissions(self, **fields: Any) -> None:
        """``enabled``, ``allowed_actions`` (all, local_only, selected), ``sha_pinning_required``;
        ``sha_pinning_required=None`` removes the field (GitHub versions without it)."""
        self.actions_permissions.update(fields)

    def set_workflow_permissions(self, default: str = "read", can_approve: bool = False) -> None:
        self.workflow_permissions = {"default_workflow_permissions": default,
                                     "can_approve_pull_request_reviews": can_approve}

    # -- helpers -----------------------------------------------------------------------------

    def _save_ruleset(self, body: dict[str, Any], existing: dict[str, Any] | None, *,
                      organization: bool = False) -> dict[str, Any]:
        name = body.get("name", existing["name"] if existing else "")
        clash = [r for r in self.rulesets.values() if r["name"] == name
                 and r["source_type"] == "Repository" and r is not existing]
        if clash and not organization:
            raise Reply(422, "Validation Failed",
                        errors=[{"resource": "Ruleset", "field": "name", "code": "custom",
                                 "message": "Name must be unique"}])
        rid = existing["id"] if existing else next(self._ids)
        ruleset = existing or {
            "id": rid, "node_id": f"RRS_{rid}",
            "source_type": "Organization" if organization else "Repository",
            "source": self.owner if organization else self.repository,
            "created_at": _now(), "target": "branch", "bypass_actors": [], "rules": [],
            "conditions": {"ref_name": {"include": [], "exclude": []}},
            "_links": {"self": {"href": self._api(f"/rulesets/{rid}")},
                       "html": {"href": self._html(f"/rules/{rid}")}}}
        for key in ("name", "target", "enforcement", "bypass_actors", "conditions", "rules"):
            if key in body:
                ruleset[key] = body[key]
        ruleset["updated_at"] = _now()
        self.rulesets[rid] = ruleset
        return ruleset

    def _visible_ruleset(self, ruleset: dict[str, Any], token: str) -> dict[str, Any]:
        out = dict(ruleset)
        if _LEVELS[self.tokens[token].get("administration", "none")] < _LEVELS["write"]:
            out.pop("bypass_actors", None)  # only for those who may edit the ruleset
        return out

    def _applies(self, ruleset: dict[str, Any], ref: str) -> bool:
        names = (ruleset.get("conditions") or {}).get("ref_name") or {}
        return (any(self._ref_matches(p, ref) for p in names.get("include", []))
                and not any(self._ref_matches(p, ref) for p in names.get("exclude", [])))

    def _ref_matches(self, pattern: str, ref: str) -> bool:
        if pattern == "~ALL":
            return True
        if pattern == "~DEFAULT_BRANCH":
            return ref == f"refs/heads/{self.default_branch}"
        return _segments_match(pattern.split("/"), ref.split("/"))

    def _protect_environment(self, env: dict[str, Any], body: dict[str, Any]) -> None:
        policy = body.get("deployment_branch_policy")
        if policy is not None and policy["protected_branches"] == policy["custom_branch_policies"]:
            raise Reply(422, "Validation Failed: exactly one of protected_branches and "
                             "custom_branch_policies must be true")
        reviewers = body.get("reviewers") or []
        if len(reviewers) > 6:
            raise Reply(422, "Validation Failed: too many reviewers (at most 6)")
        shown = []
        for reviewer in reviewers:
            login = self.users.get(reviewer.get("id", -1))
            if reviewer.get("type") != "User" or login is None:
                raise Reply(422, f"Validation Failed: reviewer {reviewer!r} does not exist")
            shown.append({"type": "User", "reviewer": self._user(login)})
        rules: list[dict[str, Any]] = []
        if body.get("wait_timer"):
            rules.append({"id": next(self._ids), "node_id": "GA_wait", "type": "wait_timer",
                          "wait_timer": body["wait_timer"]})
        if shown:
            rules.append({"id": next(self._ids), "node_id": "GA_reviewers",
                          "type": "required_reviewers",
                          "prevent_self_review": bool(body.get("prevent_self_review", False)),
                          "reviewers": shown})
        if policy is not None:
            rules.append({"id": next(self._ids), "node_id": "GA_branch", "type": "branch_policy"})
        env["protection_rules"] = rules
        env["deployment_branch_policy"] = policy
        env["updated_at"] = _now()
        if policy is None or not policy["custom_branch_policies"]:
            self.branch_policies.pop(env["name"], None)

    # -- operations --------------------------------------------------------------------------

    def op_repos__get_repo_rulesets(self, query: dict[str, list[str]],
                                    **_: Any) -> tuple[int, Any, dict[str, str]]:
        targets = {t.strip() for t in query.get("targets", [""])[0].split(",") if t.strip()}
        parents = query.get("includes_parents", ["true"])[0] != "false"
        items = [{k: r[k] for k in _SUMMARY if k in r} for r in self.rulesets.values()
                 if (not targets or r["target"] in targets)
                 and (parents or r["source_type"] == "Repository")]
        return self._page(items, query, f"/repos/{self.repository}/rulesets")

    def op_repos__get_repo_ruleset(self, params: dict[str, str], query: dict[str, list[str]],
                                   token: str, **_: Any) -> tuple[int, Any]:
        ruleset = self.rulesets.get(int(params["ruleset_id"]))
        parents = query.get("includes_parents", ["true"])[0] != "false"
        if ruleset is None or (not parents and ruleset["source_type"] != "Repository"):
            raise Reply(404, "Not Found")
        return 200, self._visible_ruleset(ruleset, token)

    def op_repos__create_repo_ruleset(self, body: dict[str, Any], token: str,
                                      **_: Any) -> tuple[int, Any]:
        return 201, self._visible_ruleset(self._save_ruleset(body, None), token)

    def op_repos__update_repo_ruleset(self, params: dict[str, str], body: dict[str, Any],
                                      token: str, **_: Any) -> tuple[int, Any]:
        ruleset = self.rulesets.get(int(params["ruleset_id"]))
        if ruleset is None or ruleset["source_type"] != "Repository":
            raise Reply(404, "Not Found")
        return 200, self._visible_ruleset(self._save_ruleset(body, ruleset), token)

    def op_repos__get_branch_rules(self, params: dict[str, str], query: dict[str, list[str]],
                                   **_: Any) -> tuple[int, Any, dict[str, str]]:
        ref = f"refs/heads/{params['branch']}"
        items = [{**rule, "ruleset_source_type": r["source_type"], "ruleset_source": r["source"],
                  "ruleset_id": r["id"]}
                 for r in self.rulesets.values()
                 if r["target"] == "branch" and r["enforcement"] == "active"
                 and self._applies(r, ref)
                 for rule in r["rules"]]
        return self._page(items, query, f"/repos/{self.repository}/rules/branches/"
                                        f"{params['branch']}")

    def op_repos__get_branch_protection(self, params: dict[str, str],
                                        **_: Any) -> tuple[int, Any]:
        protection = self.branch_protection.get(params["branch"])
        if protection is None:
            raise Reply(404, "Branch not protected")
        return 200, protection

    def op_repos__get_environment(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        env = self.environments.get(params["environment_name"])
        if env is None:
            raise Reply(404, "Not Found")
        return 200, env

    def op_repos__create_or_update_environment(self, params: dict[str, str],
                                               body: dict[str, Any],
                                               **_: Any) -> tuple[int, Any]:
        name = params["environment_name"]
        env = self.environments.get(name) or self.add_environment(name)
        self._protect_environment(env, body or {})
        return 200, env

    def op_repos__list_deployment_branch_policies(self, params: dict[str, str],
                                                  query: dict[str, list[str]],
                                                  **_: Any) -> tuple[int, Any, dict[str, str]]:
        name = params["environment_name"]
        if name not in self.environments:
            raise Reply(404, "Not Found")
        items = self.branch_policies.get(name, [])
        path = f"/repos/{self.repository}/environments/{name}/deployment-branch-policies"
        status, page, headers = self._page(items, query, path)
        return status, {"total_count": len(items), "branch_policies": page}, headers

    def op_actions__get_github_actions_permissions_repository(self, **_: Any) -> tuple[int, Any]:
        shown = {k: v for k, v in self.actions_permissions.items() if v is not None}
        if not shown["enabled"]:
            return 200, {"enabled": False}
        if shown.get("allowed_actions") == "selected":
            shown["selected_actions_url"] = self._api("/actions/permissions/selected-actions")
        return 200, shown

    def op_actions__set_github_actions_permissions_repository(self, body: dict[str, Any],
                                                              **_: Any) -> tuple[int, Any]:
        self.actions_permissions.update(body)
        return 204, None

    def op_actions__set_allowed_actions_repository(self, body: dict[str, Any],
                                                   **_: Any) -> tuple[int, Any]:
        if self.actions_permissions.get("allowed_actions") != "selected":
            raise Reply(409, "Conflict: allowed_actions is not 'selected'")
        self.selected_actions.update(body)
        return 204, None

    def op_actions__get_github_actions_default_workflow_permissions_repository(
            self, **_: Any) -> tuple[int, Any]:
        return 200, dict(self.workflow_permissions)

    def op_actions__set_github_actions_default_workflow_permissions_repository(
            self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        self.workflow_permissions.update(body)
        return 204, None

    def op_users__get_by_username(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        login = params["username"]
        if login not in self.users.values() and login not in self.collaborators:
            raise Reply(404, "Not Found")
        user = self.spec.example("users/get-by-username", "200")
        user.update({k: v for k, v in self._user(login).items() if k in user})
        user.update(name=login, email=None, company=None, blog="", location=None, bio=None,
                    twitter_username=None)
        return 200, user


def _segments_match(pattern: list[str], name: list[str]) -> bool:
    """``File.fnmatch(pattern, name, File::FNM_PATHNAME)`` on path segments: each segment is
    matched on its own (so ``*`` never crosses ``/``) and a ``**/`` segment spans any number of
    them (a final ``**`` is one segment, like ``*``)."""
    if not pattern:
        return not name
    if pattern[0] == "**" and len(pattern) > 1:
        return any(_segments_match(pattern[1:], name[i:]) for i in range(len(name) + 1))
    return bool(name) and fnmatch.fnmatchcase(name[0], pattern[0]) and _segments_match(
        pattern[1:], name[1:])


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
