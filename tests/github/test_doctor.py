"""``mlgate doctor`` end to end against the emulator: each setting right, missing or wrong.

Every broken setting must fail its own check (and only that one) with a fix whose REST call,
sent to the emulator as ``gh api`` would send it (validated against GitHub's OpenAPI
description), makes the doctor pass again. Unreadable settings warn and name the permission;
GitHub and input errors exit 2 with one line.
"""

from __future__ import annotations

import json
import shlex
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from mlgate.github.fixes import CHECK_RULESET_NAME, TAG_RULESET_NAME
from tests.support.cli import CliResult, run_mlgate
from tests.support.github_emulator import GitHubEmulator

ROOT = Path(__file__).resolve().parents[2]
CHECK = "mlgate / churn"
DEPLOY_KEY = {"actor_id": None, "actor_type": "DeployKey", "bypass_mode": "always"}
GITHUB_ACTIONS = {"actor_id": 15368, "actor_type": "Integration", "bypass_mode": "always"}
CONFIG = """\
version: 1
project: churn
ledger:
  stages:
    production:
      approvals: {min: 1, approvers: [alice, bob], source: github, environment: production}
"""
NAMES = ("ledger tag ruleset", "environment reviewers", "required check", "workflow token",
         "allowed actions")


def harden(em: GitHubEmulator) -> dict[str, int]:
    """Every setting the doctor checks, as it should be; returns the ruleset ids."""
    em.add_collaborator("alice", "maintain")
    em.add_collaborator("bob", "write")
    tags = em.add_ruleset("release tags", include=["refs/tags/*@v*", "refs/tags/*#*#*"],
                          bypass_actors=[DEPLOY_KEY])
    branch = em.add_ruleset("main", target="branch", include=["~DEFAULT_BRANCH"], rules=[
        {"type": "pull_request", "parameters": {
            "dismiss_stale_reviews_on_push": True, "require_code_owner_review": False,
            "require_last_push_approval": True, "required_approving_review_count": 1,
            "required_review_thread_resolution": False}},
        _required_checks(CHECK)])
    em.add_environment("production", ["alice", "bob"], branches="protected")
    em.set_actions_permissions(allowed_actions="selected", sha_pinning_required=True)
    em.set_workflow_permissions("read", can_approve=False)
    return {"tags": tags["id"], "branch": branch["id"]}


def _required_checks(*contexts: str) -> dict[str, Any]:
    return {"type": "required_status_checks", "parameters": {
        "strict_required_status_checks_policy": True,
        "required_status_checks": [{"context": c} for c in contexts]}}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mlgate.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def ids(github_emulator: GitHubEmulator) -> dict[str, int]:
    return harden(github_emulator)


def doctor(config: Path, *args: str, env: dict[str, str | None] | None = None,
           ) -> tuple[CliResult, dict[str, dict[str, Any]]]:
    """Run ``mlgate doctor``; return the result and its checks by name (from --json)."""
    report = config.parent / "doctor.json"
    report.unlink(missing_ok=True)
    result = run_mlgate(["doctor", "--config", config, "--json", report, *args], env=env)
    checks: dict[str, dict[str, Any]] = {}
    if report.is_file():
        for gate in json.loads(report.read_text())["gates"]:
            checks.update({c["name"]: c for c in gate["checks"]})
    return result, checks


def apply(em: GitHubEmulator, fix: dict[str, Any]) -> requests.Response:
    """Send a fix the way ``gh api --method M PATH --input -`` does (a token with admin)."""
    response = requests.request(fix["method"], em.url + fix["path"], json=fix["body"],
                                headers={"Authorization": f"Bearer {em.token}"}, timeout=5)
    assert response.status_code < 300, response.text
    return response


def test_every_setting_right_passes(config: Path, github_emulator: GitHubEmulator,
                                    ids: dict[str, int]) -> None:
    result, checks = doctor(config)
    assert result.code == 0, result.stdout + result.stderr
    assert {name: c["status"] for name, c in checks.items()} == dict.fromkeys(NAMES, "pass")
    assert "restricted to deploy keys and GitHub Apps" in checks["ledger tag ruleset"]["message"]
    assert "reviewers user alice, user bob" in checks["environment reviewers"]["message"]
    assert f"ruleset id {ids['branch']}" in checks["required check"]["message"]
    # The doctor only reads.
    assert {r.method for r in github_emulator.requests()} == {"GET"}
    # Rulesets are read one by one: the list has no rules, conditions or bypass list.
    assert github_emulator.requests("GET", f"/repos/*/rulesets/{ids['tags']}")


def _drop(key: str) -> Callable[[GitHubEmulator, dict[str, int]], None]:
    return lambda em, ids: em.rulesets.pop(ids[key]) and None


def _edit(key: str, **fields: Any) -> Callable[[GitHubEmulator, dict[str, int]], None]:
    return lambda em, ids: em.rulesets[ids[key]].update(fields)


BROKEN: dict[str, tuple[Callable[[GitHubEmulator, dict[str, int]], Any], str, str]] = {
    # case: (break it, failing check, what the message must say)
    "no tag ruleset": (_drop("tags"), "ledger tag ruleset",
                       "no active tag ruleset restricts creation, update, deletion of version "
                       "tags (like churn@v1.2.3"),
    "tag ruleset in evaluate mode": (_edit("tags", enforcement="evaluate"), "ledger tag ruleset",
                                     "'release tags' (id 1001) is `evaluate`: it blocks nothing"),
    "tag ruleset disabled": (_edit("tags", enforcement="disabled"), "ledger tag ruleset",
                             "is `disabled`"),
    "write role may bypass": (
        _edit("tags", bypass_actors=[DEPLOY_KEY, {"actor_id": 4, "actor_type": "RepositoryRole",
                                                  "bypass_mode": "always"}]),
        "ledger tag ruleset", "people can bypass it: deploy keys, the write role"),
    "maintainer team may bypass": (
        _edit("tags", bypass_actors=[{"actor_id": 77, "actor_type": "Team",
                                      "bypass_mode": "always"}]),
        "ledger tag ruleset", "people can bypass it: team 77"),
    "stage tags not covered": (_edit("tags", conditions={"ref_name": {
        "include": ["refs/tags/*@v*"], "exclude": []}}), "ledger tag ruleset",
        "restricts creation, update, deletion of stage tags (like churn#production#7"),
    "unassignments excluded": (_edit("tags", conditions={"ref_name": {
        "include": ["refs/tags/*@v*", "refs/tags/*#*#*"], "exclude": ["refs/tags/*!#*"]}}),
        "ledger tag ruleset", "of stage tags"),
    "deletions allowed": (_edit("tags", rules=[{"type": "creation"}, {"type": "update"}]),
                          "ledger tag ruleset", "restricts deletion of version tags"),
    "branch ruleset instead of tag ruleset": (_edit("tags", target="branch"),
                                              "ledger tag ruleset", "Found: no tag rulesets"),
    "no environment": (lambda em, ids: em.environments.pop("production"),
                       "environment reviewers", "environment 'production' does not exist"),
    "reviewers without prevent_self_review": (
        lambda em, ids: em.add_environment("production", ["alice"], branches="protected",
                                           prevent_self_review=False),
        "environment reviewers", "prevent_self_review is false"),
    "no reviewers": (lambda em, ids: em.add_environment("production", branches="protected"),
                     "environment reviewers", "no required reviewers"),
    "any branch may deploy": (lambda em, ids: em.add_environment("production", ["alice"]),
                              "environment reviewers", "deployment_branch_policy is null"),
    "wildcard branch policy": (
        lambda em, ids: em.add_environment("production", ["alice"], branches=["main", "*"]),
        "environment reviewers", "deployment branch policy '*' lets every branch deploy"),
    "no required check": (_drop("branch"), "required check",
                          "'main' does not require 'mlgate / churn'"),
    "another check required": (_edit("branch", rules=[_required_checks("ci")]),
                               "required check", "rulesets require ['ci']"),
    "another mlgate check required": (
        _edit("branch", rules=[_required_checks("mlgate / data+model")]), "required check",
        "If 'mlgate / data+model' is your gate's check, pass --check with it"),
    "check ruleset in evaluate mode": (_edit("branch", enforcement="evaluate"),
                                       "required check", "does not require"),
    "write default token": (lambda em, ids: em.set_workflow_permissions("write"),
                            "workflow token", "default_workflow_permissions is 'write'"),
    "actions may approve pull requests": (
        lambda em, ids: em.set_workflow_permissions("read", can_approve=True),
        "workflow token", "can_approve_pull_request_reviews is true"),
    "all actions allowed": (lambda em, ids: em.set_actions_permissions(allowed_actions="all"),
                            "allowed actions", "allowed_actions is 'all'"),
    "no sha pinning": (lambda em, ids: em.set_actions_permissions(sha_pinning_required=False),
                       "allowed actions", "sha_pinning_required is false"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_setting_fails_its_check_and_its_fix_repairs_it(
    case: str, config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    breaks, name, expected = BROKEN[case]
    breaks(github_emulator, ids)
    result, checks = doctor(config)
    assert result.code == 1, result.stdout + result.stderr
    failing = {n for n, c in checks.items() if c["status"] == "fail"}
    assert failing == {name}
    check = checks[name]
    assert expected in check["message"]
    fix = check["details"]["fix"]
    assert f"Fix: `{fix['gh']}`; in the UI: Settings → " in check["message"]
    assert f"FAIL  {name}" in result.stdout  # the terminal shows it too
    _assert_gh_line(fix)
    apply(github_emulator, fix)
    again, checks = doctor(config)
    assert again.code == 0, again.stdout
    if checks[name]["status"] == "warn":
        # Nothing to keep from the old bypass list: the fix lets GitHub Actions through, as the
        # shipped release workflows push with GITHUB_TOKEN, and says what the next step is.
        assert fix["body"]["bypass_actors"] == [GITHUB_ACTIONS]
        assert "GitHub Actions (app 15368): any workflow run" in checks[name]["message"]
        step = checks[name]["details"]["fix"]
        assert step["body"]["bypass_actors"] == [DEPLOY_KEY]
        apply(github_emulator, step)
        checks = doctor(config)[1]
    assert checks[name]["status"] == "pass"


def _assert_gh_line(fix: dict[str, Any]) -> None:
    """The printed command is the fix: ``echo JSON | gh api --method M PATH --input -``."""
    words = shlex.split(fix["gh"])
    assert words[:2] == ["echo", words[1]] and words[2] == "|"
    assert json.loads(words[1]) == fix["body"]
    assert words[3:] == ["gh", "api", "--method", fix["method"], fix["path"].lstrip("/"),
                         "--input", "-"]


def test_fix_updates_mlgates_own_ruleset_in_place(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    """A ruleset already named like the fix's is replaced (PUT), not duplicated (a POST
    would be refused: names are unique)."""
    github_emulator.rulesets[ids["tags"]].update(name=TAG_RULESET_NAME, enforcement="evaluate")
    github_emulator.rulesets[ids["branch"]].update(name=CHECK_RULESET_NAME,
                                                   rules=[_required_checks("ci")])
    result, checks = doctor(config)
    assert result.code == 1
    tag_fix = checks["ledger tag ruleset"]["details"]["fix"]
    check_fix = checks["required check"]["details"]["fix"]
    assert (tag_fix["method"], tag_fix["path"]) == (
        "PUT", f"/repos/octo-org/churn/rulesets/{ids['tags']}")
    assert tag_fix["body"]["bypass_actors"] == [DEPLOY_KEY]  # the machine bypass is kept
    assert (check_fix["method"], check_fix["path"]) == (
        "PUT", f"/repos/octo-org/churn/rulesets/{ids['branch']}")
    contexts = check_fix["body"]["rules"][0]["parameters"]["required_status_checks"]
    assert contexts == [{"context": "ci"}, {"context": CHECK}]  # existing checks kept
    apply(github_emulator, tag_fix)
    apply(github_emulator, check_fix)
    assert doctor(config)[0].code == 0
    assert len(github_emulator.rulesets) == 2


def test_environment_fix_resolves_the_policys_approvers(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    github_emulator.environments.pop("production")
    _, checks = doctor(config)
    body = checks["environment reviewers"]["details"]["fix"]["body"]
    ids_by_login = {login: uid for uid, login in github_emulator.users.items()}
    assert body["reviewers"] == [{"type": "User", "id": ids_by_login["alice"]},
                                 {"type": "User", "id": ids_by_login["bob"]}]
    assert body["prevent_self_review"] is True
    assert body["deployment_branch_policy"] == {"protected_branches": True,
                                                "custom_branch_policies": False}


def test_environment_fix_without_known_reviewers_says_what_to_fill_in(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    github_emulator.environments.pop("production")
    result, checks = doctor(config, "--environment", "release")
    assert result.code == 1
    check = checks["environment reviewers"]
    assert "environment 'release' does not exist" in check["message"]
    assert check["details"]["fix"]["body"]["reviewers"] == [{"type": "User",
                                                             "id": "REVIEWER_ID"}]
    assert "Replace REVIEWER_ID with a reviewer's user id" in check["message"]
    assert check["details"]["fix"]["path"] == "/repos/octo-org/churn/environments/release"


def test_environment_name_comes_from_the_production_stage(
    tmp_path: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    config = tmp_path / "mlgate.yaml"
    config.write_text(CONFIG.replace("environment: production", "environment: prod-approval"))
    result, checks = doctor(config)
    assert result.code == 1
    assert "environment 'prod-approval' does not exist" in checks["environment reviewers"][
        "message"]
    github_emulator.add_environment("prod-approval", ["alice"], branches=["main", "release/*"])
    result, checks = doctor(config)
    assert result.code == 0, result.stdout
    assert "custom policies ['main', 'release/*']" in checks["environment reviewers"]["message"]


def test_classic_branch_protection_satisfies_the_required_check(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    github_emulator.rulesets.pop(ids["branch"])
    github_emulator.protect_branch("main", checks=[CHECK])
    result, checks = doctor(config)
    assert result.code == 0, result.stdout
    assert "(branch protection)" in checks["required check"]["message"]
    github_emulator.protect_branch("main", contexts=["ci"])
    result, checks = doctor(config)
    assert result.code == 1
    assert "branch protection: requires ['ci']" in checks["required check"]["message"]


def test_check_name_from_flag_and_config(
    tmp_path: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    config = tmp_path / "mlgate.yaml"
    config.write_text(CONFIG + "github: {check_name: 'ML gate'}\n")
    result, checks = doctor(config)
    assert result.code == 1
    assert "'main' does not require 'ML gate'" in checks["required check"]["message"]
    result, checks = doctor(config, "--check", CHECK)
    assert result.code == 0, result.stdout


def test_organization_tag_ruleset_counts(config: Path, github_emulator: GitHubEmulator,
                                         ids: dict[str, int]) -> None:
    github_emulator.rulesets.pop(ids["tags"])
    github_emulator.add_ruleset("org release tags", include=["~ALL"], organization=True,
                                bypass_actors=[{"actor_id": 4242, "actor_type": "Integration",
                                                "bypass_mode": "always"}])
    result, checks = doctor(config)
    assert result.code == 0, result.stdout
    assert "bypass: GitHub App 4242" in checks["ledger tag ruleset"]["message"]


def test_a_lax_ruleset_beside_one_that_holds_changes_nothing(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    """Rules of all active rulesets apply together: a bypass of one does not bypass another."""
    github_emulator.add_ruleset("lax", include=["refs/tags/*"], bypass_actors=[
        {"actor_id": 4, "actor_type": "RepositoryRole", "bypass_mode": "always"}])
    result, checks = doctor(config)
    assert result.code == 0, result.stdout
    assert checks["ledger tag ruleset"]["status"] == "pass"


def test_artifact_names_with_a_slash_need_double_star_patterns(
    tmp_path: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    """GitHub's ``*`` stops at ``/``: ``refs/tags/*@v*`` misses ``team/churn@v1.2.3``."""
    config = tmp_path / "mlgate.yaml"
    config.write_text(CONFIG.replace("ledger:\n", "ledger:\n  name: team/churn\n"))
    result, checks = doctor(config, "--check", CHECK)
    assert result.code == 1
    check = checks["ledger tag ruleset"]
    assert "(like team/churn@v1.2.3; pattern *@v*)" in check["message"]
    include = check["details"]["fix"]["body"]["conditions"]["ref_name"]["include"]
    assert "refs/tags/**/*@v*" in include and "refs/tags/**/*#*#*" in include
    apply(github_emulator, check["details"]["fix"])
    assert doctor(config, "--check", CHECK)[0].code == 0


@pytest.mark.parametrize(
    ("actors", "expected", "proposed"),
    [
        ([GITHUB_ACTIONS], "GitHub Actions (app 15368): any workflow run given `contents: write`",
         [DEPLOY_KEY]),
        ([DEPLOY_KEY, {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}],
         "the admin role (admins can also edit the ruleset)", [DEPLOY_KEY]),
        ([{"actor_id": 1, "actor_type": "OrganizationAdmin", "bypass_mode": "always"}],
         "organization admins", [GITHUB_ACTIONS]),
        ([], "nobody (the release workflow cannot push ledger tags either", [GITHUB_ACTIONS]),
    ],
)
def test_weak_bypass_warns(config: Path, github_emulator: GitHubEmulator, ids: dict[str, int],
                           actors: list[dict[str, Any]], expected: str,
                           proposed: list[dict[str, Any]]) -> None:
    github_emulator.rulesets[ids["tags"]]["bypass_actors"] = actors
    result, checks = doctor(config)
    assert result.code == 0, result.stdout  # warnings do not fail
    check = checks["ledger tag ruleset"]
    assert check["status"] == "warn"
    assert expected in check["message"]
    assert check["details"]["fix"]["body"]["bypass_actors"] == proposed


def test_token_without_admin_rights_warns_naming_the_permissions(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    """A workflow's GITHUB_TOKEN cannot read the Actions settings, and GitHub hides ruleset
    bypass lists from tokens that may not edit them."""
    token = github_emulator.restricted_token(administration="none")
    result, checks = doctor(config, env={"GITHUB_TOKEN": token})
    assert result.code == 0, result.stdout + result.stderr
    statuses = {n: c["status"] for n, c in checks.items()}
    assert statuses == {"ledger tag ruleset": "warn", "environment reviewers": "pass",
                        "required check": "pass", "workflow token": "warn",
                        "allowed actions": "warn"}
    assert "`administration: write`" in checks["ledger tag ruleset"]["message"]
    for name in ("workflow token", "allowed actions"):
        message = checks[name]["message"]
        assert "GitHub answered 403 'Resource not accessible by integration'" in message
        assert "the token needs `administration: read`" in message
        assert "GITHUB_TOKEN cannot have it" in message
        assert checks[name]["details"]["permission"] == "administration: read"
    assert token not in result.stdout + result.stderr


def test_403_on_one_endpoint_warns_that_check_only(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    token = github_emulator.restricted_token(actions="none")
    result, checks = doctor(config, env={"GITHUB_TOKEN": token})
    assert result.code == 0
    assert {n for n, c in checks.items() if c["status"] != "pass"} == {"environment reviewers"}
    message = checks["environment reviewers"]["message"]
    assert message.startswith("cannot read environment 'production': GitHub answered 403")
    assert "`actions: read` (in a workflow: add it to `permissions:`)" in message


def test_unreadable_branch_protection_warns(config: Path, github_emulator: GitHubEmulator,
                                            ids: dict[str, int]) -> None:
    github_emulator.rulesets.pop(ids["branch"])
    github_emulator.protect_branch("main", checks=[CHECK])
    token = github_emulator.restricted_token(administration="none")
    result, checks = doctor(config, env={"GITHUB_TOKEN": token})
    assert result.code == 0, result.stdout  # a warning, not a failure
    check = checks["required check"]
    assert check["status"] == "warn"
    assert "cannot tell whether 'main' requires 'mlgate / churn'" in check["message"]
    assert "`administration: read`" in check["message"]


def test_actions_disabled_or_pinning_not_returned_warns(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    github_emulator.set_actions_permissions(sha_pinning_required=None)
    result, checks = doctor(config)
    assert result.code == 0
    assert checks["allowed actions"]["status"] == "warn"
    assert "GitHub did not return sha_pinning_required" in checks["allowed actions"]["message"]
    github_emulator.set_actions_permissions(enabled=False)
    result, checks = doctor(config)
    assert "GitHub Actions is disabled" in checks["allowed actions"]["message"]


def test_selected_actions_note_is_a_valid_call(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    """Switching from all actions to selected ones names the allow list to set, as a call."""
    github_emulator.set_actions_permissions(allowed_actions="all")
    _, checks = doctor(config)
    fix = checks["allowed actions"]["details"]["fix"]
    apply(github_emulator, fix)
    line = fix["note"].split("`")[1]
    words = shlex.split(line)
    assert words[3:7] == ["gh", "api", "--method", "PUT"]
    apply(github_emulator, {"method": "PUT", "path": "/" + words[7], "body": json.loads(words[1])})
    assert github_emulator.selected_actions == {"github_owned_allowed": True,
                                                "verified_allowed": False,
                                                "patterns_allowed": []}


def test_a_setting_the_plan_lacks_fails(config: Path, github_emulator: GitHubEmulator,
                                        ids: dict[str, int]) -> None:
    """No token fixes a 403 "Upgrade ...": the setting is missing, so the check fails."""
    upgrade = "Upgrade to GitHub Pro or make this repository public to enable this feature."
    github_emulator.inject("GET", "/repos/*/rulesets", 403, message=upgrade)
    result, checks = doctor(config)
    assert result.code == 1
    check = checks["ledger tag ruleset"]
    assert check["status"] == "fail"
    assert f"rulesets: GitHub answered 403 {upgrade!r}: this repository's plan" in check[
        "message"]
    github_emulator.rulesets.pop(ids["branch"])
    github_emulator.inject("GET", "/repos/*/branches/main/protection", 403, message=upgrade)
    result, checks = doctor(config)
    assert checks["required check"]["status"] == "fail"
    assert "branch protection: not protected" in checks["required check"]["message"]


# -- bad input: exit 2, one line --------------------------------------------------------------


def _one_error_line(result: CliResult) -> str:
    assert result.code == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.error_line


def test_no_token_is_bad_input(config: Path, github_emulator: GitHubEmulator) -> None:
    line = _one_error_line(doctor(config, env={"GITHUB_TOKEN": None})[0])
    assert line.startswith("mlgate: error: GITHUB_TOKEN: no GitHub token")


def test_no_repository_is_bad_input(config: Path, github_emulator: GitHubEmulator) -> None:
    line = _one_error_line(doctor(config, env={"GITHUB_REPOSITORY": None})[0])
    assert "GITHUB_REPOSITORY" in line


def test_unreachable_api_is_bad_input(config: Path, github_emulator: GitHubEmulator) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result, _ = doctor(config, env={"GITHUB_API_URL": f"http://127.0.0.1:{port}",
                                    "MLGATE_GITHUB_BACKOFF_S": "0"})
    line = _one_error_line(result)
    assert "cannot reach GitHub" in line and github_emulator.token not in result.stderr


def test_bad_token_and_server_errors_are_bad_input(
    config: Path, github_emulator: GitHubEmulator, ids: dict[str, int]
) -> None:
    line = _one_error_line(doctor(config, env={"GITHUB_TOKEN": "ghs_wrong"})[0])
    assert "401 'Bad credentials'" in line and "ghs_wrong" not in line
    github_emulator.inject("GET", "/repos/*/actions/permissions", 500, times=10)
    line = _one_error_line(doctor(config, env={"MLGATE_GITHUB_BACKOFF_S": "0"})[0])
    assert "GitHub API GET /repos/octo-org/churn/actions/permissions" in line


def test_no_check_name_is_bad_input(tmp_path: Path, github_emulator: GitHubEmulator) -> None:
    result = run_mlgate(["doctor"], cwd=tmp_path)  # no mlgate.yaml here, no --check
    assert "--check: no check name to look for" in _one_error_line(result)


# -- docs -------------------------------------------------------------------------------------


def test_hardening_guide_covers_every_check_and_fix(
    config: Path, github_emulator: GitHubEmulator
) -> None:
    """docs/hardening.md has a section per check and shows each fix's call."""
    guide = (ROOT / "docs" / "hardening.md").read_text(encoding="utf-8")
    github_emulator.set_workflow_permissions("write")  # GitHub's default is already read
    result, checks = doctor(config, "--check", CHECK)  # nothing set up: every fix is shown
    assert result.code == 1
    assert set(checks) == set(NAMES)
    for name, check in checks.items():
        assert f"`{name}`" in guide, name
        fix = check["details"]["fix"]
        call = f"gh api --method {fix['method']} {fix['path'].lstrip('/')}"
        assert call.replace("octo-org/churn", "OWNER/REPO") in guide, call
    assert "## Signed ledger events" in guide and "## Signed model artifacts" in guide
