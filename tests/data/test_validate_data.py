"""`mlgate validate-data` on the example: it passes, and a corrupted copy fails by name."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.support.cli import run_mlgate
from tests.support.repos import git


def checks_of(report: Path) -> dict[str, dict]:
    doc = json.loads(report.read_text())
    (gate,) = [g for g in doc["gates"] if g["gate"] == "data"]
    return {c["name"]: c for c in gate["checks"]}


def failing(checks: dict[str, dict]) -> set[str]:
    return {n for n, c in checks.items() if c["status"] in ("fail", "error")}


def test_example_passes_every_check(churn_dir: Path, clean_github_env: None) -> None:
    res = run_mlgate(["validate-data", "--json", "out.json"], cwd=churn_dir)
    assert res.code == 0, res.stdout + res.stderr
    checks = checks_of(churn_dir / "out.json")
    assert failing(checks) == set()
    # every part of the gate ran: suite, contract, drift, skew
    assert "suite churn: expect_column_values_to_be_in_set(plan)" in checks
    assert "contract: tenure_months range" in checks
    assert "contract: customer_id unique" in checks
    assert checks["drift: monthly_charges"]["details"]["method"] == "psi"
    assert checks["drift: data set"]["value"] == 0
    assert "skew: support_calls" in checks
    assert "drift per column" in res.stdout


def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
    """Shifted prices, nulls in tenure, a new contract type and a dropped region column."""
    bad = frame.copy()
    bad["monthly_charges"] = bad["monthly_charges"] + 35.0
    bad.loc[bad.index[::10], "tenure_months"] = np.nan
    bad.loc[bad.index[:300], "contract"] = "three-year"
    return bad.drop(columns=["region"])


def test_corrupted_copy_fails_with_the_right_checks(
    churn_dir: Path, holdout: pd.DataFrame, clean_github_env: None
) -> None:
    corrupt(holdout).to_csv(churn_dir / "data" / "holdout.csv", index=False)
    res = run_mlgate(["validate-data", "--json", "out.json"], cwd=churn_dir)
    assert res.code == 1, res.stdout + res.stderr
    checks = checks_of(churn_dir / "out.json")
    failed = failing(checks)
    expected = {
        # shifted column: suite mean, contract range (values above 200? no) and drift
        "suite churn: expect_column_mean_to_be_between(monthly_charges)",
        "drift: monthly_charges",
        # injected nulls
        "contract: tenure_months not null",
        "suite churn: expect_column_values_to_not_be_null(tenure_months)",
        # new category
        "contract: contract allowed values",
        # dropped column
        "contract: region present",
        "suite churn: expect_column_values_to_be_in_set(region)",
        "suite churn: expect_table_columns_to_match_set",
        "drift: region",
    }
    assert expected <= failed, expected - failed
    # a drifted column at the default severity warns; the data-set rule decides
    assert checks["drift: contract"]["status"] == "warn"
    # untouched columns stay green
    assert "contract: plan allowed values" not in failed
    assert "drift: plan" not in failed
    # the report gives observed value, threshold and a few example rows, never the data
    allowed = checks["contract: contract allowed values"]
    assert allowed["value"] == 300
    assert allowed["threshold"] == ["month-to-month", "one-year", "two-year"]
    assert allowed["details"]["unexpected_examples"][0] == "three-year"
    assert 0 < len(allowed["details"]["example_rows"]) <= 3
    assert allowed["details"]["example_rows"][0]["contract"] == "three-year"
    drift = checks["drift: monthly_charges"]
    assert drift["value"] > drift["threshold"] == 0.1
    assert "drifted" in drift["message"]
    assert checks["drift: contract"]["details"]["unseen_categories"] == ["three-year"]
    assert "FAIL  drift: monthly_charges" in res.stdout


def test_flags_alone_work_without_a_config(churn_dir: Path, clean_github_env: None) -> None:
    (churn_dir / "mlgate.yaml").unlink()
    res = run_mlgate(["validate-data", "--data", "data/holdout.csv",
                      "--reference", "data/reference.csv", "--suite", "suites/churn.json",
                      "--training", "data/train.csv", "--serving", "data/serving_sample.csv",
                      "--json", "out.json"], cwd=churn_dir)
    checks = checks_of(churn_dir / "out.json")
    # without the config's exclude list, ids drift (disjoint: a warning) and the label is
    # missing from serving logs (a failure); the rest passes
    assert failing(checks) == {"skew: churned"}
    assert checks["drift: customer_id"]["status"] == "warn"
    assert res.code == 1
    assert checks["drift: data set"]["status"] == "pass"


def test_flags_override_the_config(churn_dir: Path, clean_github_env: None) -> None:
    """--data replaces data.path; the config's suites, contract and drift rules still apply."""
    frame = pd.read_csv(churn_dir / "data" / "holdout.csv")
    frame.loc[5, "plan"] = "gold"
    frame.to_parquet(churn_dir / "data" / "other.parquet")
    res = run_mlgate(["validate-data", "--data", "data/other.parquet", "--json", "o.json"],
                     cwd=churn_dir)
    assert res.code == 1
    failed = failing(checks_of(churn_dir / "o.json"))
    assert failed == {"contract: plan allowed values",
                      "suite churn: expect_column_values_to_be_in_set(plan)"}


def test_run_data_stage(churn_repo: Path, clean_github_env: None) -> None:
    config = churn_repo / "mlgate.yaml"
    document = yaml.safe_load(config.read_text())
    document["pipeline"]["pr"] = ["data"]
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    res = run_mlgate(["run", "--stage", "pr"], cwd=churn_repo)
    assert res.code == 0, res.stdout + res.stderr
    results = churn_repo / ".mlgate" / "results"
    assert [p.name for p in results.rglob("*.json") if p.stem in {"model", "load"}] == []
    (data_json,) = results.rglob("data.json")
    assert '"gate": "data"' in data_json.read_text()
    # Evidence: the config read is the edited one, and the edit is not committed: dirty.
    (gate,) = json.loads(data_json.read_text())["gates"]
    digest = "sha256:" + hashlib.sha256(config.read_bytes()).hexdigest()
    assert gate["inputs"]["config"] == {"path": "mlgate.yaml", "sha256": digest,
                                        "size": config.stat().st_size}
    assert gate["meta"]["commit"] == git("rev-parse", "HEAD", cwd=churn_repo)
    assert gate["meta"]["dirty"] is True
    (evidence,) = results.rglob("data-contract-suite.json")
    suite = json.loads(evidence.read_text())
    types = {e["type"] for e in suite["expectations"]}
    assert "expect_column_values_to_be_unique" in types


@pytest.mark.parametrize("threshold, code", [(0.5, 0), (0.0, 1)])
def test_data_set_rule_uses_max_drift_share(
    churn_dir: Path, holdout: pd.DataFrame, threshold: float, code: int,
    clean_github_env: None,
) -> None:
    """Two of nine columns drift at warn severity: the share rule alone decides the gate."""
    shifted = holdout.copy()
    shifted["tenure_months"] = shifted["tenure_months"] // 2
    shifted["support_calls"] = shifted["support_calls"] + 3
    shifted.to_csv(churn_dir / "cur.csv", index=False)
    (churn_dir / "mlgate.yaml").write_text(
        "version: 1\nproject: churn\ndata:\n  path: cur.csv\n  reference: data/reference.csv\n"
        f"  drift: {{exclude: [customer_id], max_drift_share: {threshold}}}\n"
    )
    res = run_mlgate(["validate-data", "--json", "o.json"], cwd=churn_dir)
    checks = checks_of(churn_dir / "o.json")
    assert checks["drift: tenure_months"]["status"] == "warn"
    assert checks["drift: support_calls"]["status"] == "warn"
    assert checks["drift: data set"]["value"] == pytest.approx(2 / 9, abs=1e-3)
    assert res.code == code
