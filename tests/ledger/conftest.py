"""Fixtures for the ledger tests: the example repository with gate evidence, and helpers that
read back what git (and the real ``gto``) sees."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlgate.report.json_report import write_json
from mlgate.result import CheckResult, GateResult, Status
from tests.support.cli import CliResult, run_mlgate
from tests.support.repos import git, use_local_approvals

GTO = Path(sys.executable).parent / "gto"


@pytest.fixture
def repo(churn_repo: Path, clean_github_env: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example repo (committed candidate, bare origin) with a neutral environment."""
    for name in ("GITHUB_ACTOR", "GITHUB_RUN_ID", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    use_local_approvals(churn_repo)
    return churn_repo


@pytest.fixture
def evidence(repo: Path, tmp_path: Path) -> list[Path]:
    """Passing data and model gate reports about the repo's committed candidate and data."""
    return bound_evidence(repo, tmp_path / "evidence-0")


def file_input(repo: Path, rel: str) -> dict[str, Any]:
    """An input as the gates record it (repository path, sha256, size)."""
    content = (repo / rel).read_bytes()
    return {"path": rel, "sha256": "sha256:" + hashlib.sha256(content).hexdigest(),
            "size": len(content)}


def bound_evidence(repo: Path, where: Path, model_status: Status = Status.PASS) -> list[Path]:
    """Data and model gate reports, as ``mlgate --json`` writes them, whose recorded inputs are
    the files committed at HEAD (the candidate model, the held-out data, the config)."""
    config = file_input(repo, "mlgate.yaml")
    data = GateResult("data", [CheckResult("schema", Status.PASS, "12 columns"),
                               CheckResult("drift", Status.PASS, "psi 0.01", 0.01, 0.2)],
                      inputs={"data": file_input(repo, "data/holdout.csv"),
                              "reference": file_input(repo, "data/reference.csv"),
                              "config": config})
    model = GateResult("model", [CheckResult("auc", model_status, "0.91", 0.91, 0.8)],
                       inputs={"model": file_input(repo, "models/candidate.skops"),
                               "data": file_input(repo, "data/holdout.csv"),
                               "config": config})
    where.mkdir(parents=True, exist_ok=True)
    return [write_json(where / "data.json", [data], "validate-data"),
            write_json(where / "model.json", [model], "gate-model")]


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


def register_and_stage(repo: Path, evidence: list[Path] | None = None,
                       version: str | None = None) -> str:
    """Register HEAD's candidate (with evidence bound to it unless given) and promote it to
    staging; returns the version."""
    if evidence is None:
        head = git("rev-parse", "HEAD", cwd=repo)
        evidence = bound_evidence(repo, repo.parent / f"evidence-{head}")
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
