"""The data gate's figures (drift, skew, label) and its data profile, on the churn example's data
and scikit-learn's diabetes set: what they show must agree with the checks and with pandas."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes

from mlgate.data.drift import ColumnOutcome, compare
from mlgate.data.figures import MAX_COLUMNS, drift_figures
from mlgate.data.label import label_drift
from mlgate.data.profile import MAX_COLUMNS as PROFILE_COLUMNS
from mlgate.data.profile import profile
from mlgate.data.settings import DataSettings, DriftRules, LabelRules
from mlgate.figures import Figure
from tests.support.cli import run_mlgate

EXAMPLE_DATA = Path(__file__).resolve().parents[2] / "examples" / "churn" / "data"


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE_DATA / "reference.csv")


def gate_report(cwd: Path) -> dict[str, Any]:
    doc = json.loads((cwd / "o.json").read_text())
    (gate,) = [g for g in doc["gates"] if g["gate"] == "data"]
    return dict(gate)


def bars(figure: Figure | dict[str, Any]) -> dict[str, float | None]:
    fig = figure if isinstance(figure, Figure) else Figure.from_dict(figure)
    (series,) = fig.series
    return dict(zip(fig.x, series.values, strict=True))


def test_gate_figures_and_profile_in_the_json_report(
    churn_dir: Path, holdout: pd.DataFrame, clean_github_env: None
) -> None:
    """Prices shifted on purpose: their bar is above their threshold line, every other column's
    below its own; the figures and the profile survive the JSON report unchanged."""
    shifted = holdout.copy()
    shifted["monthly_charges"] = shifted["monthly_charges"] + 35.0
    shifted.to_csv(churn_dir / "data" / "holdout.csv", index=False)
    res = run_mlgate(["validate-data", "--json", "o.json"], cwd=churn_dir)
    assert res.code == 1, res.stdout + res.stderr
    gate = gate_report(churn_dir)
    figures = {f["id"]: f for f in gate["figures"]}
    for data in figures.values():  # round trip: what the renderers read back is what was sent
        assert Figure.from_dict(data).to_dict() == data
    drift = figures["data.drift"]  # 2000 vs 3000 rows: PSI for every column, one figure
    assert drift["kind"] == "bar" and drift["priority"] == 15
    checks = {c["name"]: c for c in gate["checks"]}
    values = bars(drift)
    assert set(values) == {"tenure_months", "monthly_charges", "total_charges", "contract",
                           "plan", "region", "support_calls", "partner"}  # no id, no target
    assert next(iter(values)) == "monthly_charges"  # the worst first
    lines = {t["value"] for t in drift["thresholds"]}
    assert lines == {0.1, 0.2}  # monthly_charges has its own threshold in the example
    for column, value in values.items():
        limit = checks[f"drift: {column}"]["threshold"]
        assert value is not None
        assert (value > limit) == (column == "monthly_charges"), (column, value, limit)
    skew = [f for f in figures.values() if f["id"].startswith("data.skew")]
    assert skew and all(f["priority"] == 30 for f in skew)
    assert figures["data.label"]["priority"] == 25
    prof = gate["data"]["profile"]
    assert prof["rows"] == {"reference": 2000, "current": len(holdout)}
    assert prof["truncated"] is False
    col = {c["name"]: c for c in prof["columns"]}["monthly_charges"]
    assert col["current"]["mean"] == pytest.approx(shifted["monthly_charges"].mean())


def test_tests_on_small_samples_get_a_figure_each(reference: pd.DataFrame,
                                                  holdout: pd.DataFrame) -> None:
    """500 rows: a KS test for numeric columns, chi-squared for categorical ones, so two
    figures with their own p-value line; a shifted column is drawn above it (as -log10 p)."""
    cur = holdout.sample(500, random_state=0).copy()
    cur["tenure_months"] = cur["tenure_months"] + 12
    cur.loc[cur.index[:150], "plan"] = "premium"
    ref = reference.sample(500, random_state=1)
    outcomes: list[ColumnOutcome] = []
    compare(ref, cur, DriftRules(exclude=["customer_id", "churned"]), "drift", "r", "c",
            outcomes)
    figures = {f.id: f for f in drift_figures(outcomes, "drift", "r", "c")}
    assert set(figures) == {"data.drift.ks", "data.drift.chi2"}
    for fig, shifted in ((figures["data.drift.ks"], "tenure_months"),
                         (figures["data.drift.chi2"], "plan")):
        (line,) = fig.thresholds
        assert line.value == pytest.approx(-math.log10(0.05))
        for column, value in bars(fig).items():
            assert value is not None
            assert (value > line.value) == (column == shifted), (column, value)


def test_at_most_forty_columns_the_furthest_past_their_threshold(holdout: pd.DataFrame
                                                                 ) -> None:
    """60 copies of the prices, copy k shifted by k: the 40 most shifted are shown, worst
    first, and the note says so."""
    prices = holdout["monthly_charges"].to_numpy()
    ref = pd.DataFrame({f"c{k:02d}": prices for k in range(60)})
    cur = pd.DataFrame({f"c{k:02d}": prices + k for k in range(60)})
    outcomes: list[ColumnOutcome] = []
    compare(ref, cur, DriftRules(), "skew", "train", "serving", outcomes)
    (fig,) = drift_figures(outcomes, "skew", "train", "serving")
    assert fig.id == "data.skew" and fig.priority == 30
    assert len(fig.x) == MAX_COLUMNS
    assert set(fig.x) == {f"c{k:02d}" for k in range(20, 60)}
    values = [v for v in fig.series[0].values if v is not None]
    assert values == sorted(values, reverse=True)
    assert "40 of 60" in fig.note


def test_label_class_shares_sum_to_one(reference: pd.DataFrame, holdout: pd.DataFrame
                                       ) -> None:
    figures: list[Figure] = []
    settings = DataSettings(data=Path("d.csv"), target="churned", label=LabelRules())
    label_drift(reference, holdout, settings, "ref.csv", "d.csv", figures)
    (fig,) = figures
    assert fig.id == "data.label" and fig.x == ["0", "1"]
    assert [s.name for s in fig.series] == ["reference", "current"]
    for series, frame in zip(fig.series, (reference, holdout), strict=True):
        assert sum(v or 0 for v in series.values) == pytest.approx(1.0)
        assert series.values[1] == pytest.approx(frame["churned"].mean())


def test_label_with_many_classes_keeps_an_other_bar() -> None:
    """Sixty classes (diabetes progression binned): the chart keeps 30 bars, the last one the
    rest, and both series still sum to 1."""
    y = load_diabetes(as_frame=True).frame["target"]
    ref = pd.DataFrame({"y": (y // 5).astype(int).astype(str)})
    cur = pd.DataFrame({"y": ((y + 20) // 5).astype(int).astype(str)})
    figures: list[Figure] = []
    settings = DataSettings(data=Path("d.csv"), target="y",
                            label=LabelRules(kind="classes"))
    label_drift(ref, cur, settings, "ref.csv", "d.csv", figures)
    (fig,) = figures
    assert len(fig.x) == 30 and fig.x[-1].endswith("other classes)")
    for series in fig.series:
        assert sum(v or 0 for v in series.values) == pytest.approx(1.0)


def test_numeric_label_compares_quantiles() -> None:
    y = load_diabetes(as_frame=True).frame["target"]
    ref, cur = pd.DataFrame({"y": y}), pd.DataFrame({"y": y * 1.2})
    figures: list[Figure] = []
    settings = DataSettings(data=Path("d.csv"), target="y", label=LabelRules())
    label_drift(ref, cur, settings, "ref.csv", "d.csv", figures)
    (fig,) = figures
    assert fig.x == ["min", "q05", "q25", "median", "q75", "q95", "max"]
    reference, current = fig.series
    assert reference.values[3] == pytest.approx(y.median())
    assert current.values[3] == pytest.approx((y * 1.2).median())
    assert current.values[-1] == pytest.approx(y.max() * 1.2)


def test_profile_matches_pandas(reference: pd.DataFrame, holdout: pd.DataFrame) -> None:
    cur = holdout.copy()
    cur.loc[cur.index[::4], "total_charges"] = np.nan
    cur.loc[cur.index[::5], "region"] = None
    prof = json.loads(json.dumps(profile(reference, cur), allow_nan=False))
    columns = {c["name"]: c for c in prof["columns"]}
    assert list(columns) == [str(c) for c in reference.columns]
    num = columns["total_charges"]
    assert num["kind"] == "numeric"
    for side, frame in (("reference", reference), ("current", cur)):
        series = frame["total_charges"]
        stats = num[side]
        assert stats["mean"] == pytest.approx(series.mean())
        assert stats["std"] == pytest.approx(series.std())
        assert stats["min"] == pytest.approx(series.min())
        assert stats["max"] == pytest.approx(series.max())
        for key, q in (("q05", .05), ("q25", .25), ("q50", .5), ("q75", .75), ("q95", .95)):
            assert stats[key] == pytest.approx(series.quantile(q))
        assert stats["null_share"] == pytest.approx(series.isna().mean())
    assert num["current"]["null_share"] == pytest.approx(0.25, abs=1e-3)
    cat = columns["region"]
    assert cat["kind"] == "categorical"
    assert cat["current"]["null_share"] == pytest.approx(0.2, abs=1e-3)
    shares = cur["region"].value_counts(normalize=True)
    assert [t["value"] for t in cat["current"]["top"]] == list(shares.index[:5])
    assert [t["share"] for t in cat["current"]["top"]] == pytest.approx(list(shares[:5]))
    assert cat["current"]["distinct"] == cur["region"].nunique()
    ids = columns["customer_id"]["reference"]
    assert ids["distinct"] == len(reference) and len(ids["top"]) == 5


def test_profile_of_a_wide_frame_is_truncated(holdout: pd.DataFrame) -> None:
    prices = holdout["monthly_charges"]
    wide = pd.DataFrame({f"c{k}": prices + k for k in range(PROFILE_COLUMNS + 20)})
    prof = profile(wide, wide.iloc[:100])
    assert prof["truncated"] is True
    assert len(prof["columns"]) == PROFILE_COLUMNS
    assert prof["rows"] == {"reference": len(holdout), "current": 100}
    narrow = profile(wide.iloc[:, :3], wide.iloc[:, 1:4])  # one column on each side only
    cols = {c["name"]: c for c in narrow["columns"]}
    assert narrow["truncated"] is False
    assert cols["c0"]["current"] is None and cols["c3"]["reference"] is None


def test_no_profile_without_a_reference(churn_dir: Path, clean_github_env: None) -> None:
    (churn_dir / "mlgate.yaml").write_text(
        "version: 1\nproject: p\ndata: {path: data/holdout.csv}\n")
    res = run_mlgate(["validate-data", "--json", "o.json"], cwd=churn_dir)
    assert res.code == 0, res.stdout + res.stderr
    gate = gate_report(churn_dir)
    assert "profile" not in gate["data"]
    assert gate["figures"] == []
