"""The model gate's figures and "What changed in the model", with real scikit-learn models.

The gate runs through the real command line on the example repositories (churn: binary,
wine: multiclass, diabetes: regression) and on tiny data sets built so the right answer is
known (one feature decides the target); the figures are read back from the ``--json`` report.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlgate.figures import MAX_POINTS, Figure
from mlgate.model.figures import GRID, MAX_CLASSES, per_class_figure
from mlgate.model.metrics import Outputs
from mlgate.report.json_report import read_json as read_report
from tests.model.conftest import read_json
from tests.support.cli import run_mlgate
from tests.support.repos import example_repo, git

IMPORTANCE = "What changed in the model"


def model_gate(report: Path) -> dict[str, Any]:
    return next(g for g in read_json(report)["gates"] if g["gate"] == "model")


def figures_of(report: Path) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in model_gate(report)["figures"]}


def series(figure: dict[str, Any]) -> dict[str, list[float | None]]:
    return {s["name"]: s["values"] for s in figure["series"]}


def assert_small_and_finite(figure: dict[str, Any]) -> None:
    assert 0 < len(figure["x"]) <= MAX_POINTS
    for s in figure["series"]:
        assert len(s["values"]) == len(figure["x"])
        for key in ("values", "low", "high"):
            for v in s.get(key) or []:
                assert v is None or np.isfinite(v), (figure["id"], s["name"], key)


# ---- binary: the churn example --------------------------------------------------------


@pytest.fixture(scope="module")
def churn_report(tmp_path_factory: pytest.TempPathFactory, _example_template: Path) -> Path:
    """The churn example gated once (candidate vs champion, slices by region)."""
    work = tmp_path_factory.mktemp("churn-figures") / "work"
    shutil.copytree(_example_template.parent, work, symlinks=True)
    repo = work / "churn"
    git("remote", "set-url", "origin", str(work / "origin.git"), cwd=repo)
    report = work / "model.json"
    result = run_mlgate(["gate-model", "--json", report], cwd=repo)
    assert result.code == 0, result.stdout + result.stderr
    return report


def test_binary_gate_draws_metrics_roc_pr_calibration_slices_and_importance(
    churn_report: Path, clean_github_env: None
) -> None:
    figures = figures_of(churn_report)
    assert set(figures) == {"model.metrics", "model.roc", "model.pr", "model.calibration",
                            "model.slices", "model.importance"}
    for figure in figures.values():
        assert_small_and_finite(figure)
    priorities = {i: f["priority"] for i, f in figures.items()}
    assert priorities == {"model.metrics": 10, "model.roc": 20, "model.pr": 25,
                          "model.calibration": 30, "model.slices": 35, "model.importance": 40}

    metrics = figures["model.metrics"]
    assert metrics["kind"] == "bar" and metrics["x"] == ["roc_auc", "log_loss"]
    candidate = metrics["series"][0]
    assert candidate["name"] == "candidate" and "low" in candidate and "high" in candidate
    checks = {c["name"]: c for c in model_gate(churn_report)["checks"]}
    auc = checks["champion roc_auc"]["details"]
    assert candidate["values"][0] == pytest.approx(auc["candidate"])
    assert series(metrics)["champion"][0] == pytest.approx(auc["champion"])
    assert candidate["low"][0] == pytest.approx(auc["champion"] + auc["ci_low"])
    assert candidate["low"][0] <= candidate["values"][0] <= candidate["high"][0]


def test_roc_of_a_good_model_lies_above_the_diagonal_and_never_falls(
    churn_report: Path, clean_github_env: None
) -> None:
    roc = figures_of(churn_report)["model.roc"]
    assert roc["kind"] == "line" and roc["x"] == GRID and len(GRID) == 21
    assert roc["y_range"] == [0.0, 1.0]
    curves = series(roc)
    assert set(curves) == {"candidate", "champion"}
    for values in curves.values():
        assert all(v is not None for v in values)
        tpr = np.array(values, dtype=float)
        assert np.all(np.diff(tpr) >= 0)
        assert tpr[-1] == pytest.approx(1.0)
        above = (tpr - np.array(roc["x"]))[1:-1]
        assert above.min() > 0 and above.mean() > 0.15  # AUC ~0.82: well above chance
    # Two different models (full data vs the champion): not the same curve.
    assert curves["candidate"] != curves["champion"]


def test_precision_recall_is_the_monotone_envelope_and_calibration_has_perfect(
    churn_report: Path, clean_github_env: None
) -> None:
    figures = figures_of(churn_report)
    values = series(figures["model.pr"])["candidate"]
    assert all(v is not None for v in values)
    precision = np.array(values, dtype=float)
    assert np.all((precision >= 0) & (precision <= 1))
    assert np.all(np.diff(precision) <= 0)  # the best precision at recall >= r never rises
    calibration = figures["model.calibration"]
    assert calibration["x"] == [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]
    curves = series(calibration)
    assert curves["perfect"] == calibration["x"]
    assert set(curves) == {"candidate", "champion", "perfect"}
    assert all(v is None or 0 <= v <= 1 for v in curves["candidate"])


def test_slices_figure_shows_each_region_against_the_slice_threshold(
    churn_report: Path, clean_github_env: None
) -> None:
    slices = figures_of(churn_report)["model.slices"]
    assert slices["x"] == ["east", "north", "south", "west"]
    assert slices["thresholds"] == [{"name": "min 0.7", "value": 0.7}]
    per_slice = model_gate(churn_report)["checks"]
    gap = next(c for c in per_slice if c["name"] == "slice gap region roc_auc")
    assert series(slices)["candidate"] == pytest.approx(
        [gap["details"]["per_slice"][r] for r in slices["x"]])


def test_figures_round_trip_through_the_json_report(
    churn_report: Path, clean_github_env: None
) -> None:
    [result] = read_report(churn_report)
    raw = model_gate(churn_report)["figures"]
    assert [f.to_dict() for f in result.figures] == raw
    assert all(isinstance(f, Figure) for f in result.figures)
    table = next(t for t in result.tables if t.title == IMPORTANCE)
    assert table.columns == ["feature", "candidate importance", "champion importance", "shift"]
    shifts = [abs(float(r[3])) for r in table.rows]
    assert shifts == sorted(shifts, reverse=True)  # what moved most comes first


# ---- multiclass (wine) and regression (diabetes) examples ------------------------------


@pytest.fixture(scope="module")
def example_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    reports = {}
    for name in ("wine", "diabetes"):
        repo = example_repo(tmp_path_factory.mktemp(f"{name}-figures"), name=name)
        report = repo.parent / f"{name}.json"
        result = run_mlgate(["gate-model", "--json", report], cwd=repo)
        assert result.code == 0, result.stdout + result.stderr
        reports[name] = report
    return reports


def test_multiclass_gate_draws_f1_per_class_and_top_class_calibration(
    example_reports: dict[str, Path], clean_github_env: None
) -> None:
    figures = figures_of(example_reports["wine"])
    assert {"model.metrics", "model.per_class", "model.calibration", "model.importance"} <= set(
        figures)
    assert "model.roc" not in figures and "model.residuals" not in figures
    per_class = figures["model.per_class"]
    assert per_class["kind"] == "bar" and per_class["x"] == ["0", "1", "2"]
    assert set(series(per_class)) == {"candidate", "champion"}
    assert series(per_class)["candidate"] != series(per_class)["champion"]
    calibration = figures["model.calibration"]
    assert calibration["x_label"] == "top-class probability"
    assert series(calibration)["perfect"] == calibration["x"]
    for figure in figures.values():
        assert_small_and_finite(figure)


def test_regression_residual_histogram_counts_every_held_out_row(
    example_reports: dict[str, Path], clean_github_env: None
) -> None:
    report = example_reports["diabetes"]
    figures = figures_of(report)
    assert {"model.metrics", "model.residuals", "model.importance"} <= set(figures)
    assert "model.calibration" not in figures
    residuals = figures["model.residuals"]
    assert residuals["kind"] == "bar" and len(residuals["x"]) <= 20
    assert all(".." in label for label in residuals["x"])
    rows = model_gate(report)["data"]["rows"]
    counts = series(residuals)
    assert set(counts) == {"candidate", "champion"}
    assert all(np.nansum(np.array(c, dtype=float)) == rows for c in counts.values())
    assert counts["candidate"] != counts["champion"]
    for figure in figures.values():
        assert_small_and_finite(figure)


def test_per_class_keeps_the_30_most_frequent_classes() -> None:
    rng = np.random.default_rng(0)
    n_classes = 40
    y = np.concatenate([np.full(i + 1, i) for i in range(n_classes)])  # class i has i+1 rows
    pred = np.where(rng.random(len(y)) < 0.8, y, rng.integers(0, n_classes, len(y)))
    classes = np.array([f"c{i}" for i in range(n_classes)], dtype=object)
    figure = per_class_figure(y, classes, [("candidate", Outputs(pred))])
    assert figure is not None
    assert figure.x == [f"c{i}" for i in range(n_classes - MAX_CLASSES, n_classes)]
    assert "30 most frequent of 40" in figure.note


# ---- permutation importance: what changed in the model --------------------------------


def signal_data(seed: int, rows: int = 400) -> pd.DataFrame:
    """`signal` decides the label, `echo` weakly, `colour` (text) and `noise` not at all."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=rows)
    echo = signal + rng.normal(scale=2.0, size=rows)
    return pd.DataFrame({
        "signal": signal,
        "echo": echo,
        "noise": rng.normal(size=rows),
        "colour": rng.choice(["red", "green", "blue"], size=rows),
        "label": (signal > 0).astype(int),
    })


def pipeline(columns: list[str]) -> Pipeline:
    """Takes the raw frame (text column included), like a real project's model."""
    numeric = [c for c in columns if c != "colour"]
    encode = ColumnTransformer([
        ("numeric", StandardScaler(), numeric),
        ("colour", OneHotEncoder(handle_unknown="ignore"), ["colour"]),
    ])
    return Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])


@pytest.fixture(scope="module")
def signal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("importance")
    train, holdout = signal_data(0), signal_data(1)
    holdout.to_csv(root / "holdout.csv", index=False)
    features = ["signal", "echo", "noise", "colour"]
    sio.dump(pipeline(features).fit(train[features], train["label"]), root / "candidate.skops")
    # The champion never saw `signal`: it leans on `echo`, so that is what moved most.
    blind = ["echo", "noise", "colour"]
    sio.dump(pipeline(blind).fit(train[blind], train["label"]), root / "champion.skops")
    return root


def run_signal_gate(root: Path, *extra: str, importance: dict[str, Any] | None = None) -> Any:
    config: dict[str, Any] = {"version": 1, "project": "signal", "model": {
        "data": "holdout.csv", "target": "label", "path": "candidate.skops",
        "policy": {"thresholds": {"roc_auc": {"min": 0.5}}}}}
    if importance is not None:
        config["model"]["importance"] = importance
    (root / "mlgate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    report = root / "report.json"
    report.unlink(missing_ok=True)
    return run_mlgate(["gate-model", "--json", report, *extra], cwd=root), report


def importance_table(report: Path) -> dict[str, Any] | None:
    return next((t for t in model_gate(report)["tables"] if t["title"] == IMPORTANCE), None)


def test_importance_lists_the_feature_the_model_depends_on_first(
    signal_dir: Path, clean_github_env: None
) -> None:
    result, report = run_signal_gate(signal_dir)
    assert result.code == 0, result.stdout + result.stderr
    table = importance_table(report)
    assert table is not None
    assert table["rows"][0][0] == "signal"
    assert {r[0] for r in table["rows"]} == {"signal", "echo", "noise", "colour"}
    assert [r[2] for r in table["rows"]] == ["-"] * 4  # no champion
    importance = figures_of(report)["model.importance"]
    assert importance["kind"] == "bar" and importance["x"][0] == "signal"
    assert [s["name"] for s in importance["series"]] == ["candidate"]
    values = importance["series"][0]["values"]
    assert values == sorted(values, reverse=True)  # by candidate importance without a champion
    assert values[0] > 0.1


def test_importance_against_a_champion_sorts_by_shift(
    signal_dir: Path, clean_github_env: None
) -> None:
    result, report = run_signal_gate(signal_dir, "--champion", "champion.skops")
    assert result.code == 0, result.stdout + result.stderr
    table = importance_table(report)
    assert table is not None
    rows = {r[0]: r for r in table["rows"]}
    assert table["rows"][0][0] == "signal"
    assert rows["signal"][2] == "-"  # the champion does not take `signal`
    assert float(rows["echo"][3]) < 0  # the champion leaned on `echo`, the candidate does not
    figure = figures_of(report)["model.importance"]
    assert [s["name"] for s in figure["series"]] == ["candidate", "champion"]
    assert series(figure)["champion"][0] is None


def test_importance_top_limits_the_rows_and_enabled_false_skips_it(
    signal_dir: Path, clean_github_env: None
) -> None:
    result, report = run_signal_gate(signal_dir, importance={"top": 2, "n_repeats": 2})
    assert result.code == 0, result.stdout + result.stderr
    table = importance_table(report)
    assert table is not None and len(table["rows"]) == 2
    assert len(figures_of(report)["model.importance"]["x"]) == 2

    result, report = run_signal_gate(signal_dir, importance={"enabled": False})
    assert result.code == 0, result.stdout + result.stderr
    assert importance_table(report) is None
    assert "model.importance" not in figures_of(report)
    assert "model.roc" in figures_of(report)  # the other figures stay


def test_importance_is_skipped_silently_for_a_predictions_file(
    signal_dir: Path, clean_github_env: None
) -> None:
    holdout = pd.read_csv(signal_dir / "holdout.csv")
    model = sio.load(signal_dir / "candidate.skops")
    score = model.predict_proba(holdout.drop(columns="label"))[:, 1]
    pd.DataFrame({"score": score}).to_csv(signal_dir / "preds.csv", index=False)
    result, report = run_signal_gate(signal_dir, "--predictions", "preds.csv")
    assert result.code == 0, result.stdout + result.stderr
    assert importance_table(report) is None
    assert "importance" not in model_gate(report)["data"]
    assert {"model.metrics", "model.roc", "model.pr"} <= set(figures_of(report))


def test_importance_n_repeats_0_is_a_one_line_config_error(
    signal_dir: Path, clean_github_env: None
) -> None:
    result, _ = run_signal_gate(signal_dir, importance={"n_repeats": 0})
    assert result.code == 2
    assert "n_repeats" in result.error_line and "mlgate.yaml" in result.error_line
    assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) == 1
