"""``profile: batch | online | critical``: defaults for stages, SLO profile and stage rules that
every reader (run, plan, the ledger's policy) expands alike; the config's own keys win."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgate.config import load_config, load_config_text, validate_document
from mlgate.errors import InputError
from mlgate.ledger.policy import ledger_config
from mlgate.ledger.policy_source import policy_from_bytes
from mlgate.resources import checks_dir, load_schema
from mlgate.use_case import PROFILES, apply_profile, profile_defaults
from tests.support.cli import run_mlgate
from tests.support.repos import commit_all

SIGNING = {"method": "ssh", "key": "env:LEDGER_KEY", "allowed_signers": ".github/signers"}


def minimal(profile: str, **extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"version": 1, "project": "churn", "profile": profile, **extra}
    if profile == "critical":
        raw.setdefault("ledger", {"signing": dict(SIGNING)})
    return raw


@pytest.mark.parametrize("name", PROFILES)
def test_each_profile_expands_to_a_valid_config_and_policy(name: str) -> None:
    expanded = apply_profile(minimal(name), "mlgate.yaml")
    validate_document(expanded, None, "mlgate.yaml", load_schema("mlgate.schema.json"))
    policy = ledger_config(load_config_text(yaml.safe_dump(minimal(name)), "mlgate.yaml"))
    assert set(policy.stages) == {"staging", "production"}
    production = policy.stages["production"]
    assert production.promotes_from == "staging"
    assert production.source == "github" and production.self_approval is False
    assert production.min_approvals == (2 if name == "critical" else 1)


def test_the_profiles_differ_where_the_docs_say() -> None:
    got = {n: apply_profile(minimal(n), "mlgate.yaml") for n in PROFILES}
    assert got["batch"]["pipeline"] == {"pr": ["data", "model"],
                                        "release": ["data", "model", "register"]}
    for name in ("online", "critical"):
        assert got[name]["pipeline"]["pr"] == ["data", "model", "load"]
        assert got[name]["ledger"]["stages"]["production"]["gates"] == ["data", "model", "load"]
    assert got["batch"]["load"]["profile"] == "batch"
    assert got["online"]["load"]["profile"] == "interactive"
    critical = got["critical"]["ledger"]
    assert critical["stages"]["production"]["soak"] == "24h"
    assert critical["signing"] == {**SIGNING, "required_for": ["staging", "production"]}
    assert "soak" not in got["online"]["ledger"]["stages"]["production"]


def test_own_keys_win_mapping_by_mapping() -> None:
    own = minimal("critical", pipeline={"pr": ["data"]}, ledger={
        "signing": dict(SIGNING),
        "stages": {"production": {"approvals": {"min": 3, "approvers": ["alice", "bob", "carol"]}},
                   "canary": {"promotes_from": "staging"}}})
    out = apply_profile(own, "mlgate.yaml")
    assert out["pipeline"] == {"pr": ["data"], "release": ["data", "model", "load", "register"]}
    production = out["ledger"]["stages"]["production"]
    assert production["approvals"] == {"min": 3, "approvers": ["alice", "bob", "carol"],
                                       "source": "github", "self_approval": False}
    assert production["soak"] == "24h"  # not overridden: the profile's
    assert out["ledger"]["stages"]["canary"] == {"promotes_from": "staging"}
    assert own["ledger"]["stages"]["production"]["approvals"]["min"] == 3  # input untouched
    # an explicit list or null replaces the default whole
    assert apply_profile(minimal("batch", ledger={"stages": {"staging": None}}),
                         "x")["ledger"]["stages"]["staging"] is None


def test_critical_without_signing_is_refused_at_the_profile_line(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yaml").write_text("version: 1\nproject: churn\n\nprofile: critical\n")
    with pytest.raises(InputError) as err:
        load_config(tmp_path / "mlgate.yaml")
    assert str(err.value).startswith(f"{tmp_path / 'mlgate.yaml'}:4: profile: critical requires "
                                     "signed ledger entries")
    result = run_mlgate(["run", "--stage", "pr", "--plan"], cwd=tmp_path)
    assert result.code == 2
    assert result.error_line.startswith("mlgate: error: mlgate.yaml:4: profile: critical "
                                        "requires signed ledger entries: set ledger.signing")
    # the policy reader (a blob of the default branch) refuses it alike
    with pytest.raises(InputError, match="requires signed ledger entries"):
        policy_from_bytes(b"version: 1\nproject: churn\nprofile: critical\n", "main:mlgate.yaml")


def test_unknown_profile_is_a_schema_error_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yaml").write_text("version: 1\nproject: churn\nprofile: realtime\n")
    result = run_mlgate(["run", "--stage", "pr", "--plan"], cwd=tmp_path)
    assert result.code == 2
    assert result.error_line == ("mlgate: error: mlgate.yaml:3: profile: expected one of "
                                 "'batch', 'online', 'critical', got 'realtime'")


def test_the_ledger_reader_judges_by_the_expanded_rules() -> None:
    text = ("version: 1\nproject: churn\nprofile: critical\nledger:\n  signing:\n"
            "    method: ssh\n    key: env:K\n    allowed_signers: signers\n")
    policy = policy_from_bytes(text.encode(), "main:mlgate.yaml")
    assert policy.stages["production"].soak_s == 24 * 3600
    assert policy.stages["production"].min_approvals == 2
    assert policy.signing is not None
    assert set(policy.signing.required_for) == {"staging", "production"}


def test_builtin_profiles_are_frozen() -> None:
    """The ledger records a digest of the expanded stage rules: editing a shipped profile would
    make every earlier record fail it. A new set of rules gets a new name (and an entry here)."""
    frozen = json.loads((checks_dir() / "profiles" / "frozen.json").read_text())
    got = {n: hashlib.sha256(json.dumps(profile_defaults(n), sort_keys=True).encode()).hexdigest()
           for n in PROFILES}
    assert got == frozen


# -- through the command line, on the example repository ---------------------------------------


def plan_stages(repo: Path, tmp_path: Path, env: dict[str, str] | None = None) -> tuple[str, str]:
    out = tmp_path / "github-output"
    out.write_text("")
    result = run_mlgate(["run", "--stage", "pr", "--plan"], cwd=repo,
                        env={"GITHUB_OUTPUT": str(out), **(env or {})})
    assert result.code == 0, result.stderr
    found = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return found["stages"], result.stdout + result.stderr


def use_profile(repo: Path, name: str) -> None:
    """The example's own pipeline lists removed, ``profile: NAME`` added."""
    text = (repo / "mlgate.yaml").read_text()
    text = re.sub(r"(?m)^pipeline:\n(  .*\n)+", "profile: none\n", text)
    text = re.sub(r"(?m)^profile: .*$", f"profile: {name}", text)
    assert f"profile: {name}" in text
    (repo / "mlgate.yaml").write_text(text)


def test_the_plan_follows_the_profile(churn_repo: Path, tmp_path: Path,
                                      clean_github_env: None) -> None:
    use_profile(churn_repo, "batch")
    assert plan_stages(churn_repo, tmp_path)[0] == "data model"
    use_profile(churn_repo, "online")
    assert plan_stages(churn_repo, tmp_path)[0] == "data model load"


def test_a_pull_request_cannot_drop_the_load_test_by_switching_profile(
        churn_repo: Path, tmp_path: Path, clean_github_env: None) -> None:
    use_profile(churn_repo, "online")
    commit_all(churn_repo, "online profile", push=True)
    use_profile(churn_repo, "batch")  # the pull request's copy
    untrusted = {"MLGATE_UNTRUSTED": "1", "MLGATE_DEFAULT_BRANCH": "main"}
    assert plan_stages(churn_repo, tmp_path, untrusted)[0] == "data model load"
    assert plan_stages(churn_repo, tmp_path)[0] == "data model"  # trusted: its own copy


def test_online_without_a_service_says_where_the_load_stage_came_from(
        churn_repo: Path, clean_github_env: None) -> None:
    text = (churn_repo / "mlgate.yaml").read_text()
    text = re.sub(r"(?m)^load:\n(  .*\n)+", "", text)
    (churn_repo / "mlgate.yaml").write_text(text)
    use_profile(churn_repo, "online")
    result = run_mlgate(["run", "--stage", "pr", "--quiet"], cwd=churn_repo)
    assert result.code == 2, result.stdout
    assert (churn_repo / ".mlgate/results/pr/model.json").is_file()  # the gates before it ran
    assert "the load stage needs `load:` with a `target`" in result.error_line
    assert "profile online runs the load stage" in result.error_line
