"""``mlgate predict`` on the three examples with their production version: scores, refusals
(exit 1, nothing written) and bad input (exit 2, one line naming the file or field)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.predict.conftest import TARGETS, ml, unlabelled_batch
from tests.support.repos import git

NOTES = "refs/notes/mlgate-batch"


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def note(repo: Path, tag: str) -> dict[str, Any]:
    text = git("notes", f"--ref={NOTES}", "show", f"{tag}^{{commit}}", cwd=repo)
    doc: dict[str, Any] = json.loads(text)
    return doc


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.mark.parametrize("name", ["churn", "wine", "diabetes"])
def test_scores_a_batch_with_the_production_version_and_records_lineage(
        name: str, production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production(name)
    batch = unlabelled_batch(repo, name, tmp_path / "batch.csv")
    out = tmp_path / "out" / "scores.csv"
    result = ml(repo, "predict", "--data", str(batch), "--output", str(out),
                "--json", str(tmp_path / "report.json"))
    assert result.code == 0, result.stdout + result.stderr
    rows = pd.read_csv(batch)
    scored = pd.read_csv(out)
    assert len(scored) == len(rows)
    proba = [c for c in scored.columns if c.startswith("proba_")]
    if name == "churn":  # the contract names an id column: only it is kept
        assert list(scored.columns[:2]) == ["customer_id", "prediction"]
        assert proba == ["proba_0", "proba_1"]
        assert scored["customer_id"].tolist() == rows["customer_id"].tolist()
    elif name == "wine":
        assert list(scored.columns[:len(rows.columns)]) == list(rows.columns)
        assert proba == ["proba_0", "proba_1", "proba_2"]
        assert set(scored["prediction"]) <= {0, 1, 2}
    else:  # a regressor: the value, no probabilities
        assert proba == [] and scored["prediction"].between(0, 400).all()
    assert TARGETS[name] not in scored.columns
    # the lineage record next to the output, and the same record as a git note
    lineage = json.loads((tmp_path / "out" / "scores.lineage.json").read_text())
    assert lineage["model"]["version"] == "v0.1.0"
    assert lineage["model"]["tag"] == f"{name}#production#2"
    assert lineage["model"]["sha256"] == sha256(repo / "models" / "candidate.skops")
    assert lineage["input"]["sha256"] == sha256(batch)
    assert lineage["output"]["sha256"] == sha256(out)
    assert lineage["rows"] == {"input": len(rows), "output": len(rows)}
    assert set(lineage["gates"]) == {"data", "predict"}  # a warning (one column) passes
    assert {v["status"] for v in lineage["gates"].values()} <= {"pass", "warn"}
    assert lineage["baseline"].startswith("the model's predictions on data/")
    [run] = note(repo, f"{name}@v0.1.0")["runs"]
    assert run == lineage
    report = json.loads((tmp_path / "report.json").read_text())
    assert [g["gate"] for g in report["gates"]] == ["data", "predict"]
    assert leftovers(tmp_path / "out") == ["scores.csv", "scores.lineage.json"]


def test_the_next_batch_is_compared_with_the_previous_one(
        production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production("churn")
    batch = unlabelled_batch(repo, "churn", tmp_path / "batch.csv")
    for day in ("monday", "tuesday"):
        out = tmp_path / f"{day}.parquet"
        result = ml(repo, "predict", "--data", str(batch), "--output", str(out))
        assert result.code == 0, result.stdout + result.stderr
        assert len(pd.read_parquet(out)) == len(pd.read_csv(batch))
    second = json.loads((tmp_path / "tuesday.lineage.json").read_text())
    assert second["baseline"].startswith("the previous batch's predictions")
    assert "monday.parquet" in second["baseline"]
    assert len(note(repo, "churn@v0.1.0")["runs"]) == 2


def test_push_publishes_the_record_to_the_remote(
        production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production("wine")
    batch = unlabelled_batch(repo, "wine", tmp_path / "batch.csv")
    result = ml(repo, "predict", "--data", str(batch), "--output", str(tmp_path / "o.csv"),
                "--push")
    assert result.code == 0, result.stdout + result.stderr
    assert NOTES in git("ls-remote", "origin", cwd=repo)


def drifted(repo: Path, name: str, out: Path) -> Path:
    """The held-out rows with every numeric feature moved by two standard deviations."""
    frame = pd.read_csv(repo / "data" / "holdout.csv").drop(columns=[TARGETS[name]])
    for col in frame.select_dtypes("number").columns:
        shift = 2 * frame[col].std()
        frame[col] = frame[col] + (round(shift) if frame[col].dtype.kind == "i" else shift)
    frame.to_csv(out, index=False)
    return out


@pytest.mark.parametrize("name", ["churn", "wine", "diabetes"])
def test_a_drifted_batch_is_refused_and_nothing_is_written(
        name: str, production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production(name)
    batch = drifted(repo, name, tmp_path / "batch.csv")
    out = tmp_path / "out" / "scores.csv"
    result = ml(repo, "predict", "--data", str(batch), "--output", str(out),
                "--json", str(tmp_path / "report.json"))
    assert result.code == 1, result.stdout + result.stderr
    assert leftovers(tmp_path / "out") == []
    data, predict = json.loads((tmp_path / "report.json").read_text())["gates"]
    failed = {c["name"] for c in data["checks"] if c["status"] == "fail"}
    assert any(n.startswith("drift: ") for n in failed), failed
    assert {c["name"]: c["status"] for c in predict["checks"]} == {"output": "fail"}
    assert git("notes", f"--ref={NOTES}", "list", cwd=repo, check=False) == ""


def test_a_refused_batch_leaves_the_previous_output_untouched(
        production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production("churn")
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "scores.csv"
    out.write_text("yesterday's scores\n")
    batch = drifted(repo, "churn", tmp_path / "batch.csv")
    assert ml(repo, "predict", "--data", str(batch), "--output", str(out)).code == 1
    assert out.read_text() == "yesterday's scores\n"
    assert leftovers(tmp_path / "out") == ["scores.csv"]


def bad(repo: Path, tmp_path: Path, *args: str, data: Path | None = None) -> str:
    """Run predict with bad input: exit 2, nothing written, the one error line returned."""
    batch = data or unlabelled_batch(repo, "churn", tmp_path / "batch.csv")
    out = tmp_path / "out" / "scores.csv"
    result = ml(repo, "predict", "--data", str(batch), "--output", str(out), *args)
    assert result.code == 2, result.stdout + result.stderr
    assert leftovers(tmp_path / "out") == []
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("mlgate: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_missing_batch_file(production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production("churn")
    line = bad(repo, tmp_path, data=tmp_path / "nope.csv")
    assert "nope.csv" in line and "not found" in line


def test_malformed_batch(production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production("churn")
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"a,b\n1,2,3,4\n\x00\x01\x02")
    assert "garbage.csv" in bad(repo, tmp_path, data=garbage)


def test_unknown_stage(production: Callable[[str], Path], tmp_path: Path) -> None:
    line = bad(production("churn"), tmp_path, "--model", "churn#prod")
    assert "churn#prod" in line and "'prod'" in line


def test_stage_without_a_version(production: Callable[[str], Path], tmp_path: Path) -> None:
    line = bad(production("churn"), tmp_path, "--model", "other#production")
    assert "no version of 'other' is in stage 'production'" in line


def test_a_forged_version_is_not_used(production: Callable[[str], Path],
                                      tmp_path: Path) -> None:
    repo = production("churn")
    git("tag", "-a", "churn@v9.0.0", "-m", "Register churn v9.0.0\n\n{}", cwd=repo)
    line = bad(repo, tmp_path, "--model", "churn@v9.0.0")
    assert "churn@v9.0.0 is not a valid ledger version" in line


def test_a_model_file_is_not_accepted(production: Callable[[str], Path],
                                      tmp_path: Path) -> None:
    repo = production("churn")
    line = bad(repo, tmp_path, "--model", str(repo / "models" / "candidate.skops"))
    assert "--model" in line and "ledger only" in line


def test_a_model_that_will_not_load(production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production("diabetes")  # its transformer is trusted only by model.trusted_types
    config = repo / "mlgate.yaml"
    config.write_text(config.read_text().replace("    - features.ClinicalInteractions\n", "")
                      .replace("  trusted_types:", "  trusted_types: []"))
    batch = unlabelled_batch(repo, "diabetes", tmp_path / "batch.csv")
    line = bad(repo, tmp_path, data=batch)
    assert "features.ClinicalInteractions" in line and "not trusted" in line


def test_unsupported_output_type(production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production("churn")
    batch = unlabelled_batch(repo, "churn", tmp_path / "batch.csv")
    result = ml(repo, "predict", "--data", str(batch), "--output", str(tmp_path / "o.txt"))
    assert result.code == 2 and "--output" in result.stderr and ".txt" in result.stderr
    assert not (tmp_path / "o.txt").exists()


def test_a_batch_without_a_model_column_is_refused_by_the_contract(
        production: Callable[[str], Path], tmp_path: Path) -> None:
    repo = production("churn")
    batch = unlabelled_batch(repo, "churn", tmp_path / "batch.csv")
    pd.read_csv(batch).drop(columns=["plan"]).to_csv(batch, index=False)
    result = ml(repo, "predict", "--data", str(batch), "--output", str(tmp_path / "o.csv"))
    assert result.code == 1 and "plan present" in result.stdout
    assert not (tmp_path / "o.csv").exists()


def test_predictions_that_drift_from_the_previous_batch_are_refused(
        production: Callable[[str], Path], tmp_path: Path) -> None:
    """The data gate only warns here (its drift rule loosened), so the predictions' own check
    is what refuses: the second batch holds only the customers the model scored likeliest to
    churn, and its predictions are judged against the first batch's."""
    repo = production("churn")
    config = repo / "mlgate.yaml"
    text = config.read_text()
    loosened = text.replace("monthly_charges: {threshold: 0.1, severity: fail}",
                            "monthly_charges: {threshold: 0.1}").replace(
        "max_drift_share: 0.5", "max_drift_share: 1.0")
    assert loosened.count("max_drift_share: 1.0") == 1 and "severity: fail}" not in loosened
    config.write_text(loosened)
    batch = unlabelled_batch(repo, "churn", tmp_path / "batch.csv")
    first = tmp_path / "first.csv"
    assert ml(repo, "predict", "--data", str(batch), "--output", str(first)).code == 0
    scored = pd.read_csv(first)
    likely = scored["proba_1"] >= scored["proba_1"].quantile(0.7)
    pd.read_csv(batch)[likely.to_numpy()].to_csv(tmp_path / "likely.csv", index=False)
    out = tmp_path / "out" / "second.csv"
    result = ml(repo, "predict", "--data", str(tmp_path / "likely.csv"), "--output", str(out),
                "--json", str(tmp_path / "report.json"))
    assert result.code == 1, result.stdout + result.stderr
    assert leftovers(tmp_path / "out") == []
    data, predict = json.loads((tmp_path / "report.json").read_text())["gates"]
    assert data["status"] in ("pass", "warn")  # the batch itself got through
    status = {c["name"]: c["status"] for c in predict["checks"]}
    assert status["predictions: proba_1"] == "warn"  # drifted; the data-set rule decides
    assert status["predictions: data set"] == "fail" and status["output"] == "fail", status
    assert "first.csv" in predict["data"]["baseline"]
    assert len(note(repo, "churn@v0.1.0")["runs"]) == 1  # the refused run is not recorded
