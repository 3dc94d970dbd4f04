"""Label drift: the target is kept out of feature drift and skew and judged on its own.

Real targets: the churn example (binary), scikit-learn's wine classes (three classes) and its
diabetes progression score (continuous), resampled with fixed seeds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_diabetes, load_wine

from mlgate.data.label import TABLE_CLASSES, class_labels, label_drift
from mlgate.data.settings import DataSettings, LabelRules
from tests.support.cli import CliResult, run_mlgate


def report(cwd: Path, name: str = "o.json") -> tuple[dict[str, dict], dict[str, dict]]:
    """Checks and tables of the data gate in a JSON report, by name/title."""
    doc = json.loads((cwd / name).read_text())
    (gate,) = [g for g in doc["gates"] if g["gate"] == "data"]
    return ({c["name"]: c for c in gate["checks"]}, {t["title"]: t for t in gate["tables"]})


def validate(cwd: Path, *args: str) -> CliResult:
    res = run_mlgate(["validate-data", *args, "--json", "o.json"], cwd=cwd)
    assert "Traceback" not in res.stderr, res.stderr
    return res


def write_config(cwd: Path, data: dict[str, Any], model: dict[str, Any] | None = None) -> None:
    document: dict[str, Any] = {"version": 1, "project": "p", "data": data}
    if model is not None:
        document["model"] = model
    (cwd / "mlgate.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def table_rows(table: dict) -> dict[str, dict[str, Any]]:
    return {str(row[0]): dict(zip(table["columns"], row, strict=True)) for row in table["rows"]}


# --- the churn example ---------------------------------------------------------------------------

@pytest.mark.parametrize("skew_exclude", [["customer_id"], ["customer_id", "churned"]])
def test_churn_target_is_label_drift_not_a_feature(
    churn_dir: Path, skew_exclude: list[str], clean_github_env: None
) -> None:
    """model.target (churned) is the data gate's target: out of the feature drift table and of
    skew (serving logs have no label), in a label drift check and a class-share table; an
    explicit skew.exclude naming it keeps working."""
    config = churn_dir / "mlgate.yaml"
    document = yaml.safe_load(config.read_text())
    document["data"]["skew"]["exclude"] = skew_exclude
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    res = validate(churn_dir)
    assert res.code == 0, res.stdout + res.stderr
    checks, tables = report(churn_dir)
    assert "drift: churned" not in checks and "skew: churned" not in checks
    assert "churned" not in [row[0] for row in tables["drift per column"]["rows"]]
    assert "churned" not in [row[0] for row in tables["skew per column"]["rows"]]
    assert checks["drift: data set"]["details"]["compared_columns"] == 8
    label = checks["label drift: churned"]
    assert label["status"] == "pass"
    assert label["details"]["type"] == "classes"
    # 2000 and 3000 rows: above small_sample, so a distance over class shares decides
    assert label["details"]["method"] == "js" and label["threshold"] == 0.1
    assert label["details"]["n_reference"] == 2000 and label["details"]["n_data"] == 3000
    reference = pd.read_csv(churn_dir / "data" / "reference.csv")["churned"]
    holdout = pd.read_csv(churn_dir / "data" / "holdout.csv")["churned"]
    rows = table_rows(tables["label drift: churned"])
    assert set(rows) == {"0", "1"}
    assert rows["1"]["reference share"] == pytest.approx(reference.mean(), abs=1e-4)
    assert rows["1"]["data share"] == pytest.approx(holdout.mean(), abs=1e-4)
    assert rows["1"]["data rows"] == int(holdout.sum())
    assert rows["1"]["change"] == pytest.approx(holdout.mean() - reference.mean(), abs=1e-4)
    # the message names the class people track (the rarer one), and the terminal shows the table
    assert "class '1'" in label["message"]
    assert "label drift: churned" in res.stdout


def test_churn_rate_doubling_fails_label_drift_only(
    churn_dir: Path, clean_github_env: None
) -> None:
    """A holdout whose churn rate doubled (customers resampled, features of each kept) fails
    label drift at severity fail; feature drift has no say on it."""
    holdout = pd.read_csv(churn_dir / "data" / "holdout.csv")
    rng = np.random.default_rng(7)
    churners = holdout[holdout["churned"] == 1]
    stayers = holdout[holdout["churned"] == 0]
    n = len(holdout)
    shifted = pd.concat([
        churners.sample(int(n * 0.66), replace=True, random_state=rng),
        stayers.sample(n - int(n * 0.66), replace=True, random_state=rng),
    ])
    shifted["customer_id"] = [f"C{500_000 + i:06d}" for i in range(n)]
    shifted.to_csv(churn_dir / "data" / "holdout.csv", index=False)
    config = churn_dir / "mlgate.yaml"
    document = yaml.safe_load(config.read_text())
    document["data"]["label_drift"] = {"severity": "fail"}
    document["data"]["drift"]["max_drift_share"] = 1.0  # features move with the label here
    document["data"]["drift"]["columns"] = {}
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    res = validate(churn_dir)
    checks, tables = report(churn_dir)
    label = checks["label drift: churned"]
    assert label["status"] == "fail", label
    assert label["value"] > 0.1 and "drifted" in label["message"]
    assert res.code == 1
    assert {n for n, c in checks.items() if c["status"] == "fail"} == {"label drift: churned"}
    assert table_rows(tables["label drift: churned"])["1"]["data share"] == pytest.approx(
        0.66, abs=1e-3)


# --- wine: three classes -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    frame = load_wine(as_frame=True).frame
    return frame


def doubled(frame: pd.DataFrame, cls: int, seed: int = 0) -> pd.DataFrame:
    """The frame with the rows of one class drawn twice (that class's count doubles)."""
    extra = frame[frame["target"] == cls].sample(frac=1.0, random_state=seed)
    return pd.concat([frame, extra]).sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("severity, status, code", [("fail", "fail", 1), ("warn", "warn", 0),
                                                     (None, "warn", 0)])
def test_wine_class_doubled_drifts(
    tmp_path: Path, wine: pd.DataFrame, severity: str | None, status: str, code: int
) -> None:
    wine.to_csv(tmp_path / "ref.csv", index=False)
    doubled(wine, 0).to_csv(tmp_path / "cur.csv", index=False)
    label: dict[str, Any] = {} if severity is None else {"severity": severity}
    write_config(tmp_path, {"path": "cur.csv", "reference": "ref.csv", "target": "target",
                            "label_drift": label, "drift": {"max_drift_share": 1.0}})
    res = validate(tmp_path)
    checks, tables = report(tmp_path)
    check = checks["label drift: target"]
    assert check["status"] == status
    assert res.code == code, res.stdout
    # 178 and 237 rows: at most small_sample, so the chi-squared test over classes decides
    assert check["details"]["method"] == "chi2" and check["threshold"] == 0.05
    assert check["value"] < 0.05
    assert check["details"]["severity"] == (severity or "warn")
    assert "drift: target" not in checks
    rows = table_rows(tables["label drift: target"])
    assert list(rows) == ["0", "1", "2"]
    assert rows["0"]["reference rows"] == 59 and rows["0"]["data rows"] == 118
    assert rows["0"]["data share"] == pytest.approx(118 / 237, abs=1e-4)
    assert rows["0"]["reference share"] == pytest.approx(59 / 178, abs=1e-4)
    assert "class '0' 33.1% -> 49.8%" in check["message"]


def test_wine_large_samples_use_jensen_shannon(tmp_path: Path, wine: pd.DataFrame) -> None:
    """Above small_sample the distance decides: a doubled class drifts, a same-share resample
    does not (even though the chi-squared p-value may be small on 6,000 rows)."""
    big_ref = wine.sample(6000, replace=True, random_state=1)
    same = wine.sample(6000, replace=True, random_state=2)
    weights = np.where(wine["target"] == 2, 2.0, 1.0)
    shifted = wine.sample(6000, replace=True, weights=weights, random_state=3)
    big_ref.to_csv(tmp_path / "ref.csv", index=False)
    for name, cur, drifted in (("same", same, False), ("shifted", shifted, True)):
        cur.to_csv(tmp_path / f"{name}.csv", index=False)
        res = validate(tmp_path, "--data", f"{name}.csv", "--reference", "ref.csv",
                       "--target", "target")
        check = report(tmp_path)[0]["label drift: target"]
        assert check["details"]["method"] == "js", check
        assert (check["status"] == "warn") is drifted, check
        assert (check["value"] > 0.1) is drifted
        assert res.code == 0  # warn by default: reported, not blocking


def test_label_drift_threshold_and_method_are_configurable(
    tmp_path: Path, wine: pd.DataFrame
) -> None:
    """The same doubled class passes with a looser threshold and is judged by PSI when asked."""
    wine.to_csv(tmp_path / "ref.csv", index=False)
    doubled(wine, 0).to_csv(tmp_path / "cur.csv", index=False)
    write_config(tmp_path, {"path": "cur.csv", "reference": "ref.csv", "target": "target",
                            "drift": {"max_drift_share": 1.0},
                            "label_drift": {"method": "psi", "threshold": 0.5,
                                            "severity": "fail"}})
    assert validate(tmp_path).code == 0
    check = report(tmp_path)[0]["label drift: target"]
    assert check["details"]["method"] == "psi" and check["threshold"] == 0.5
    assert check["status"] == "pass" and 0 < check["value"] < 0.5
    assert check["value"] == check["details"]["psi"]


# --- diabetes: a continuous target ---------------------------------------------------------------

@pytest.fixture(scope="module")
def diabetes() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two random halves of the diabetes data (221 rows each)."""
    frame = load_diabetes(as_frame=True, scaled=False).frame
    order = np.random.default_rng(0).permutation(len(frame))
    half = len(frame) // 2
    return frame.iloc[order[:half]], frame.iloc[order[half:]]


@pytest.mark.parametrize("severity, status, code", [("fail", "fail", 1), ("warn", "warn", 0)])
def test_regression_target_shift_uses_a_numeric_method(
    tmp_path: Path, diabetes: tuple[pd.DataFrame, pd.DataFrame], severity: str, status: str,
    code: int,
) -> None:
    ref, cur = diabetes
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.assign(target=cur["target"] + 60).to_csv(tmp_path / "cur.csv", index=False)
    write_config(tmp_path, {"path": "cur.csv", "reference": "ref.csv",
                            "label_drift": {"severity": severity}},
                 model={"target": "target"})
    res = validate(tmp_path)
    checks, tables = report(tmp_path)
    check = checks["label drift: target"]
    # whole-number scores, but 200+ distinct values: numeric, compared like a numeric feature
    assert check["details"]["type"] == "numeric"
    assert check["details"]["method"] == "ks" and check["value"] < 0.05
    assert check["status"] == status
    assert res.code == code
    # the features did not move: feature drift passes, without the target in it
    assert "drift: target" not in checks
    assert checks["drift: data set"]["value"] == 0
    rows = table_rows(tables["label drift: target"])
    assert rows["mean"]["data"] == pytest.approx(rows["mean"]["reference"] + 60
                                                 + (cur["target"].mean() - ref["target"].mean()),
                                                 abs=1e-3)
    assert rows["rows"]["reference"] == len(ref)


def test_unshifted_regression_target_passes(
    tmp_path: Path, diabetes: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    ref, cur = diabetes
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    res = validate(tmp_path, "--data", "cur.csv", "--reference", "ref.csv", "--target", "target")
    check = report(tmp_path)[0]["label drift: target"]
    assert res.code == 0 and check["status"] == "pass"
    assert check["details"]["method"] == "ks" and check["value"] > 0.05


def test_task_and_kind_decide_how_a_target_is_read(
    tmp_path: Path, diabetes: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """model.task: classification makes even a many-valued number a class label; kind wins."""
    ref, cur = diabetes
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    base = {"path": "cur.csv", "reference": "ref.csv"}
    write_config(tmp_path, base, model={"target": "target", "task": "classification"})
    validate(tmp_path)
    checks, tables = report(tmp_path)
    assert checks["label drift: target"]["details"]["type"] == "classes"
    rows = tables["label drift: target"]["rows"]
    assert len(rows) == TABLE_CLASSES + 1 and rows[-1][0].endswith("more classes)")
    write_config(tmp_path, {**base, "label_drift": {"kind": "numeric"}},
                 model={"target": "target", "task": "classification"})
    validate(tmp_path)
    assert report(tmp_path)[0]["label drift: target"]["details"]["type"] == "numeric"


# --- skew ----------------------------------------------------------------------------------------

def test_target_is_excluded_from_skew(churn_dir: Path, clean_github_env: None) -> None:
    """Serving logs have no label: with the target known, skew no longer fails on it."""
    (churn_dir / "mlgate.yaml").unlink()
    flags = ["--data", "data/holdout.csv", "--reference", "data/reference.csv",
             "--training", "data/train.csv", "--serving", "data/serving_sample.csv"]
    without = validate(churn_dir, *flags)
    assert without.code == 1
    assert report(churn_dir)[0]["skew: churned"]["status"] == "fail"
    res = validate(churn_dir, *flags, "--target", "churned")
    checks, tables = report(churn_dir)
    assert "skew: churned" not in checks and "drift: churned" not in checks
    assert checks["label drift: churned"]["status"] == "pass"
    assert {n for n, c in checks.items() if c["status"] == "fail"} == set()
    assert res.code == 0
    # training has the label, serving has not: neither side reports it as a skew column
    assert "churned" not in [row[0] for row in tables["skew per column"]["rows"]]


# --- missing targets, one class, config errors ---------------------------------------------------

def test_target_missing_from_the_data_fails(churn_dir: Path, clean_github_env: None) -> None:
    holdout = pd.read_csv(churn_dir / "data" / "holdout.csv")
    holdout.drop(columns=["churned"]).to_csv(churn_dir / "data" / "holdout.csv", index=False)
    res = validate(churn_dir)
    checks, _ = report(churn_dir)
    check = checks["label drift: churned"]
    assert check["status"] == "fail" and check["value"] == "missing"
    assert "'churned' is in data/reference.csv but missing from data/holdout.csv" in (
        check["message"])
    assert "drift: churned" not in checks
    assert res.code == 1


def test_reference_without_an_implied_target_warns(
    churn_dir: Path, clean_github_env: None
) -> None:
    """model.target only: the person never asked for label drift, so an unlabeled reference is
    a warning saying how to get it (or silence it), and nothing else changes."""
    ref = pd.read_csv(churn_dir / "data" / "reference.csv")
    ref.drop(columns=["churned"]).to_csv(churn_dir / "data" / "reference.csv", index=False)
    res = validate(churn_dir)
    assert res.code == 0, res.stdout + res.stderr
    checks, tables = report(churn_dir)
    check = checks["label drift: churned"]
    assert check["status"] == "warn" and check["value"] == "not in reference"
    assert "model.target" in check["message"] and "label_drift.enabled: false" in (
        check["message"])
    assert "drift: churned" not in checks and "label drift: churned" not in tables
    config = churn_dir / "mlgate.yaml"
    document = yaml.safe_load(config.read_text())
    document["data"]["label_drift"] = {"enabled": False}
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    assert validate(churn_dir).code == 0
    checks, _ = report(churn_dir)
    assert not any("churned" in name and "drift" in name for name in checks)


@pytest.mark.parametrize("where, args, key", [
    ("config", (), "mlgate.yaml:data.target"),
    ("flag", ("--target", "churn"), "--target"),
])
def test_reference_without_a_named_target_is_a_config_error(
    churn_dir: Path, where: str, args: tuple[str, ...], key: str
) -> None:
    """A target named for the data gate that the reference lacks (here a typo) can never pass:
    exit 2 naming the setting, not a failing gate."""
    if where == "config":
        config = churn_dir / "mlgate.yaml"
        document = yaml.safe_load(config.read_text())
        document["data"]["target"] = "churn"
        config.write_text(yaml.safe_dump(document, sort_keys=False))
    res = validate(churn_dir, *args)
    assert res.code == 2
    assert res.error_line.startswith(f"mlgate: error: {key}: target column 'churn' is not in "
                                     f"data/reference.csv"), res.error_line


def test_one_class_target_is_still_reported(tmp_path: Path, wine: pd.DataFrame) -> None:
    only0 = wine[wine["target"] == 0]
    only0.to_csv(tmp_path / "ref.csv", index=False)
    only0.sample(frac=1.0, random_state=0).to_csv(tmp_path / "same.csv", index=False)
    res = validate(tmp_path, "--data", "same.csv", "--reference", "ref.csv", "--target", "target")
    checks, tables = report(tmp_path)
    check = checks["label drift: target"]
    assert res.code == 0 and check["status"] == "pass"
    assert check["details"]["classes"] == 1 and "one class only: '0'" in check["message"]
    assert tables["label drift: target"]["rows"] == [["0", 59, 1.0, 59, 1.0, 0.0]]
    # the data gains a class the reference never had: drift, with the unseen class named
    wine[wine["target"] <= 1].to_csv(tmp_path / "two.csv", index=False)
    validate(tmp_path, "--data", "two.csv", "--reference", "ref.csv", "--target", "target")
    check = report(tmp_path)[0]["label drift: target"]
    assert check["status"] == "warn"
    assert check["details"]["unseen_classes"] == ["1"]
    assert check["details"]["example_rows"][0]["target"] == 1


@pytest.mark.parametrize("label_drift, fragment", [
    ({"method": "wasserstein"}, "data.label_drift.method"),
    ({"severity": "block"}, "data.label_drift.severity"),
    ({"threshold": -1}, "data.label_drift.threshold"),
    ({"bogus": 1}, "data.label_drift"),
    ({"kind": "numeric", "method": "chi2"}, "mlgate.yaml:data.label_drift.method"),
    ({"kind": "classes", "method": "ks"}, "mlgate.yaml:data.label_drift.method"),
])
def test_label_drift_config_errors_name_the_key(
    churn_dir: Path, label_drift: dict[str, Any], fragment: str
) -> None:
    config = churn_dir / "mlgate.yaml"
    document = yaml.safe_load(config.read_text())
    document["data"]["label_drift"] = label_drift
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    res = validate(churn_dir)
    assert res.code == 2, res.stdout
    assert fragment in res.error_line, res.error_line


def test_empty_target_name_is_a_config_error(churn_dir: Path) -> None:
    config = churn_dir / "mlgate.yaml"
    document = yaml.safe_load(config.read_text())
    document["data"]["target"] = ""
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    res = validate(churn_dir)
    assert res.code == 2 and "data.target" in res.error_line


def test_numeric_method_on_a_text_target_names_the_method(churn_dir: Path) -> None:
    config = churn_dir / "mlgate.yaml"
    document = yaml.safe_load(config.read_text())
    document["data"]["target"] = "plan"
    document["data"]["label_drift"] = {"method": "ks"}
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    res = validate(churn_dir)
    assert res.code == 2
    assert res.error_line.startswith("mlgate: error: mlgate.yaml:data.label_drift.method: "
                                     "target column 'plan' holds"), res.error_line
    assert "method ks needs numbers" in res.error_line


# --- units ---------------------------------------------------------------------------------------

def test_class_labels_match_across_dtypes() -> None:
    """A label column read as float (a CSV with an empty cell) names its classes like ints."""
    as_float = pd.Series([0.0, 1.0, np.nan, 1.0])
    as_int = pd.Series([0, 1, 1])
    as_text = pd.Series(["0", "1", None])
    assert class_labels(as_float).tolist() == ["0", "1", "1"]
    assert class_labels(as_int).tolist() == ["0", "1", "1"]
    assert class_labels(as_text).tolist() == ["0", "1"]
    assert class_labels(pd.Series([0.5, 1.0])).tolist() == ["0.5", "1.0"]
    assert class_labels(pd.Series([True, False])).tolist() == ["True", "False"]


def test_null_labels_do_not_make_classes_drift() -> None:
    """The reference has missing labels (float dtype), the data none (int): same classes."""
    ref = pd.DataFrame({"y": [0.0, 1.0, np.nan] * 100})
    cur = pd.DataFrame({"y": [0, 1] * 100})
    settings = DataSettings(data=Path("d.csv"), target="y", label=LabelRules())
    (check,), (table,) = label_drift(ref, cur, settings, "ref.csv", "d.csv")
    assert check.status.value == "pass"
    assert [row[0] for row in table.rows] == ["0", "1"]
    assert check.details["null_share_reference"] == pytest.approx(1 / 3, abs=1e-4)
