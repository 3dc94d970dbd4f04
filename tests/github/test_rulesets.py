"""Judging tag rulesets and their bypass lists (pure functions over the API's JSON)."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.github.rulesets import judge_actor, judge_tag_rulesets, sample_refs
from mlgate.result import Status


def ruleset(rid: int = 1, *, include: list[str] | None = None, enforcement: str = "active",
            rules: tuple[str, ...] = ("creation", "update", "deletion"),
            bypass: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": rid, "name": f"r{rid}", "target": "tag", "source": "o/r",
        "source_type": "Repository", "enforcement": enforcement,
        "conditions": {"ref_name": {"include": include or ["refs/tags/*@v*", "refs/tags/*#*#*"],
                                    "exclude": []}},
        "rules": [{"type": r} for r in rules]}
    if bypass is not None:
        data["bypass_actors"] = bypass
    return data


KEY = {"actor_id": None, "actor_type": "DeployKey", "bypass_mode": "always"}


@pytest.mark.parametrize(
    ("actor", "status", "text"),
    [
        (KEY, Status.PASS, "deploy keys"),
        ({"actor_id": 99, "actor_type": "Integration"}, Status.PASS, "GitHub App 99"),
        ({"actor_id": 15368, "actor_type": "Integration"}, Status.WARN, "GitHub Actions"),
        ({"actor_id": 1, "actor_type": "OrganizationAdmin"}, Status.WARN, "organization admins"),
        ({"actor_id": 5, "actor_type": "RepositoryRole"}, Status.WARN, "the admin role"),
        ({"actor_id": 4, "actor_type": "RepositoryRole"}, Status.FAIL, "the write role"),
        ({"actor_id": 2, "actor_type": "RepositoryRole"}, Status.FAIL, "the maintain role"),
        ({"actor_id": 31, "actor_type": "RepositoryRole"}, Status.FAIL, "custom repository role"),
        ({"actor_id": 7, "actor_type": "Team"}, Status.FAIL, "team 7"),
        ({"actor_id": 8, "actor_type": "User"}, Status.FAIL, "user 8"),
        ({"actor_id": 9, "actor_type": "Martian"}, Status.FAIL, "Martian 9"),
    ],
)
def test_bypass_actors(actor: dict[str, Any], status: Status, text: str) -> None:
    judged = judge_actor(actor)
    assert judged.status is status
    assert text in judged.text


def test_samples_cover_every_kind_of_ledger_tag() -> None:
    refs = sample_refs(["churn", "churn"])
    assert refs == {
        "version tags": ["refs/tags/churn@v1.2.3", "refs/tags/churn@v1.2.3!"],
        "stage tags": ["refs/tags/churn#production#7", "refs/tags/churn#production!#8"],
    }
    assert sample_refs(["dir:churn"])["version tags"][0] == "refs/tags/dir=churn@v1.2.3"


def test_one_good_ruleset_is_enough_and_rules_may_be_split() -> None:
    verdict = judge_tag_rulesets([ruleset(bypass=[KEY])], ["churn"])
    assert verdict.status is Status.PASS and verdict.problems == []
    split = [ruleset(1, rules=("creation",), bypass=[KEY]),
             ruleset(2, rules=("update", "deletion"), bypass=[KEY])]
    assert judge_tag_rulesets(split, ["churn"]).status is Status.PASS


def test_what_is_missing_is_named() -> None:
    verdict = judge_tag_rulesets([ruleset(rules=("creation",), bypass=[KEY])], ["churn"])
    assert verdict.status is Status.FAIL
    assert verdict.problems == [
        "no active tag ruleset restricts update, deletion of version tags (like churn@v1.2.3; "
        "pattern *@v*)",
        "no active tag ruleset restricts update, deletion of stage tags (like "
        "churn#production#7; pattern *#*#*)",
    ]


def test_a_person_bypass_fails_only_when_no_other_ruleset_holds() -> None:
    writers = ruleset(1, bypass=[{"actor_id": 4, "actor_type": "RepositoryRole"}])
    assert judge_tag_rulesets([writers], ["churn"]).status is Status.FAIL
    assert judge_tag_rulesets([writers, ruleset(2, bypass=[KEY])], ["churn"]).status \
        is Status.PASS


def test_hidden_bypass_list_warns_and_names_the_permission() -> None:
    verdict = judge_tag_rulesets([ruleset()], ["churn"])  # no bypass_actors key at all
    assert verdict.status is Status.WARN
    assert "`administration: write`" in verdict.problems[0]


def test_kept_actors_are_the_machines() -> None:
    mixed = ruleset(bypass=[KEY, {"actor_id": 4, "actor_type": "RepositoryRole",
                                  "bypass_mode": "always"},
                            {"actor_id": 99, "actor_type": "Integration",
                             "bypass_mode": "always"}])
    verdict = judge_tag_rulesets([mixed], ["churn"])
    assert verdict.status is Status.FAIL
    assert verdict.kept_actors == [KEY, {"actor_id": 99, "actor_type": "Integration",
                                         "bypass_mode": "always"}]
