"""``mlgate run --plan``: mlgate.yaml decides which stages run; a workflow input may add or
drop one, except that an untrusted run cannot drop a stage the default branch requires."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.cli import run_mlgate
from tests.support.repos import commit_all


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.fixture
def repo(churn_repo: Path, clean_github_env: None) -> Path:
    return churn_repo  # pipeline.pr: [data, model, load]


def plan(repo: Path, tmp_path: Path, *args: str, env: dict | None = None
         ) -> tuple[int, dict[str, str], str]:
    out = tmp_path / "github-output"
    out.write_text("")
    result = run_mlgate(["run", "--stage", "pr", "--plan", *args], cwd=repo,
                        env={"GITHUB_OUTPUT": str(out), **(env or {})})
    return result.code, outputs(out), result.stdout + result.stderr


def test_the_config_decides_by_default(repo: Path, tmp_path: Path) -> None:
    code, got, text = plan(repo, tmp_path)
    assert code == 0, text
    assert got["stages"] == "data model load"
    assert (got["train"], got["data"], got["model"], got["load"]) == (
        "false", "true", "true", "true")
    assert not (repo / ".mlgate" / "results" / "pr").exists(), "a plan runs nothing"


def test_inputs_turn_stages_on_and_off_in_a_trusted_run(repo: Path, tmp_path: Path) -> None:
    text = (repo / "mlgate.yaml").read_text()
    (repo / "mlgate.yaml").write_text(re.sub(r"pr: \[.*\]", "pr: [data, model]", text))
    code, got, _ = plan(repo, tmp_path, "--enable", "load", "--disable", "data")
    assert code == 0
    assert got["stages"] == "model load"


def test_an_untrusted_run_cannot_drop_what_main_requires(repo: Path, tmp_path: Path) -> None:
    untrusted = {"MLGATE_UNTRUSTED": "1", "MLGATE_DEFAULT_BRANCH": "main"}
    # The pull request's own config drops the data gate too: main's pipeline still holds.
    text = (repo / "mlgate.yaml").read_text()
    (repo / "mlgate.yaml").write_text(re.sub(r"pr: \[.*\]", "pr: [model]", text))
    code, got, text = plan(repo, tmp_path, "--disable", "data", "--disable", "load",
                           env=untrusted)
    assert code == 0, text
    assert got["stages"] == "data model load"
    assert "default branch's pipeline.pr requires it" in text


def test_an_untrusted_run_may_drop_what_only_it_added(repo: Path, tmp_path: Path) -> None:
    text = (repo / "mlgate.yaml").read_text()
    (repo / "mlgate.yaml").write_text(re.sub(r"pr: \[.*\]", "pr: [data, model]", text))
    commit_all(repo, "main requires data and model", push=True)
    code, got, _ = plan(repo, tmp_path, "--enable", "load",
                        env={"MLGATE_UNTRUSTED": "1", "MLGATE_DEFAULT_BRANCH": "main"})
    assert code == 0 and got["stages"] == "data model load"
    code, got, _ = plan(repo, tmp_path, "--disable", "load",
                        env={"MLGATE_UNTRUSTED": "1", "MLGATE_DEFAULT_BRANCH": "main"})
    assert got["stages"] == "data model"


@pytest.mark.parametrize(("args", "expected"), [
    (["--enable", "register"], "unknown stage 'register'"),
    (["--enable", "data", "--disable", "data"], "both enabled and disabled"),
])
def test_bad_plan_flags(repo: Path, tmp_path: Path, args: list[str], expected: str) -> None:
    code, _, text = plan(repo, tmp_path, *args)
    assert code == 2 and expected in text


def test_enable_without_plan_is_a_usage_error(repo: Path) -> None:
    result = run_mlgate(["run", "--stage", "pr", "--enable", "load"], cwd=repo)
    assert result.code == 2 and "go with --plan" in result.error_line
