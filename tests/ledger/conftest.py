"""Fixtures for the ledger tests: the example repository with gate evidence, and helpers that
read back what git (and the real ``gto``) sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlgate.report.json_report import write_json
from mlgate.result import CheckResult, GateResult, Status
from tests.support.cli import CliResult, run_mlgate
from tests.support.repos import git

GTO = Path(sys.executable).parent / "gto"


@pytest.fixture
def repo(churn_repo: Path, clean_github_env: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example repo (committed candidate, bare origin) with a neutral environment."""
    for name in ("GITHUB_ACTOR", "GITHUB_RUN_ID", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    return churn_repo


@pytest.fixture
def evidence(tmp_path: Path) -> list[Path]:
    """Passing data and model gate reports, as ``mlgate --json`` writes them."""
    data = GateResult("data", [CheckResult("schema", Status.PASS, "12 columns"),
                               CheckResult("drift", Status.PASS, "psi 0.01", 0.01, 0.2)])
    model = GateResult("model", [CheckResult("auc", Status.PASS, "0.91", 0.91, 0.8)])
    return [write_json(tmp_path / "data.json", [data], "validate-data"),
            write_json(tmp_path / "model.json", [model], "gate-model")]


def ml(repo: Path, *args: str, env: dict[str, str | None] | None = None) -> CliResult:
    return run_mlgate([*args, "--repo", str(repo)], env=env)


def tags(repo: Path) -> list[str]:
    return sorted(git("tag", "--list", cwd=repo).split())


def remote_refs(repo: Path) -> dict[str, str]:
    out = git("ls-remote", "origin", cwd=repo)
    return {line.split("\t")[1]: line.split("\t")[0] for line in out.splitlines() if line}


def record(repo: Path, tag: str) -> dict[str, Any]:
    message = git("for-each-ref", "--format=%(contents)", f"refs/tags/{tag}", cwd=repo)
    human, _, body = message.partition("\n\n")
    assert human and "\n" not in human.strip()
    doc: dict[str, Any] = json.loads(body)
    return doc


def gto_show(repo: Path) -> dict[str, Any]:
    proc = subprocess.run([str(GTO), "show", "-r", str(repo), "--json"], capture_output=True,
                          text=True, check=True)
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def gto_history(repo: Path, name: str = "churn") -> list[dict[str, Any]]:
    proc = subprocess.run([str(GTO), "history", name, "-r", str(repo), "--json"],
                          capture_output=True, text=True, check=True)
    doc: list[dict[str, Any]] = json.loads(proc.stdout)
    return doc


def register_and_stage(repo: Path, evidence: list[Path], version: str | None = None) -> str:
    """Register HEAD's candidate and promote it to staging; returns the version."""
    args = ["register", "churn", "--evidence", *map(str, evidence)]
    if version:
        args += ["--version", version]
    out = ml(repo, *args)
    assert out.code == 0, out.stderr + out.stdout
    ver = tags_for(repo, "churn@")[-1].split("@", 1)[1] if version is None else version
    out = ml(repo, "promote", "churn", "--version", ver, "--to", "staging")
    assert out.code == 0, out.stderr + out.stdout
    return ver


def tags_for(repo: Path, prefix: str) -> list[str]:
    return [t for t in git("tag", "--list", "--sort=creatordate", cwd=repo).split()
            if t.startswith(prefix)]


def new_candidate(repo: Path, seed: int) -> None:
    """Commit a different candidate model (a new version to register)."""
    from tests.support.repos import commit_all, train_candidate

    train_candidate(repo, repo / "models" / "candidate.skops", fraction=0.8, seed=seed)
    commit_all(repo, f"retrain candidate (seed {seed})", push=True)
