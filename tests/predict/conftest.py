"""Example repositories whose production stage holds a real, registered version.

Each example (churn, wine, diabetes) becomes a committed git repository with a bare origin, its
candidate trained by its own train.py, registered with data and model gate reports bound to
the committed files, promoted to staging and (approved by alice) to production: exactly what
the release path leaves behind, so ``mlgate predict`` reads a valid ledger entry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from mlgate.provenance import file_input
from mlgate.report.json_report import write_json
from mlgate.result import CheckResult, GateResult, Status
from tests.support.cli import CliResult, run_mlgate
from tests.support.repos import example_repo, private_copy, use_local_approvals

TARGETS = {"churn": "churned", "wine": "cultivar", "diabetes": "progression"}


def ml(repo: Path, *args: str) -> CliResult:
    """``mlgate ARGS`` run in ``repo`` (where mlgate.yaml is)."""
    return run_mlgate(list(args), cwd=repo)


def _evidence(repo: Path, where: Path) -> list[Path]:
    """Passing data and model gate reports whose inputs are the committed files."""
    config = file_input(repo / "mlgate.yaml")
    data = GateResult("data", [CheckResult("drift", Status.PASS, "ok")],
                      inputs={"data": file_input(repo / "data" / "holdout.csv"),
                              "config": config})
    model = GateResult("model", [CheckResult("auc", Status.PASS, "ok")],
                       inputs={"model": file_input(repo / "models" / "candidate.skops"),
                               "data": file_input(repo / "data" / "holdout.csv"),
                               "config": config})
    where.mkdir(parents=True, exist_ok=True)
    return [write_json(where / "data.json", [data], "validate-data"),
            write_json(where / "model.json", [model], "gate-model")]


def release_to_production(repo: Path) -> str:
    """Register the committed candidate and promote it through staging to production."""
    use_local_approvals(repo)
    evidence = _evidence(repo, repo.parent / "evidence")
    for args in (["register", "--evidence", *map(str, evidence)],
                 ["promote", "--version", "v0.1.0", "--to", "staging"],
                 ["promote", "--version", "v0.1.0", "--to", "production",
                  "--approved-by", "alice"]):
        out = run_mlgate([*args, "--repo", str(repo)])
        assert out.code == 0, out.stdout + out.stderr
    return "v0.1.0"


@pytest.fixture(scope="session")
def _production_templates(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            repo = example_repo(tmp_path_factory.mktemp(f"predict-{name}"), name=name)
            release_to_production(repo)
            made[name] = repo
        return made[name]

    return get


@pytest.fixture
def production(_production_templates: Callable[[str], Path], tmp_path: Path,
               clean_github_env: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """A private copy of an example repository with v0.1.0 in production."""
    for name in ("GITHUB_ACTOR", "GITHUB_RUN_ID", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)

    def clone(name: str) -> Path:
        source = _production_templates(name)
        return private_copy(source, tmp_path / name)

    return clone


def unlabelled_batch(repo: Path, name: str, out: Path) -> Path:
    """The example's held-out rows without the target column: a batch as it arrives."""
    frame = pd.read_csv(repo / "data" / "holdout.csv").drop(columns=[TARGETS[name]])
    frame.to_csv(out, index=False)
    return out
