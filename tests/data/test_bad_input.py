"""Every bad input gives exit 2 with one line naming the file/field, or a named failing check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.cli import run_mlgate


def validate(cwd: Path, *args: str) -> tuple[int, str, dict[str, dict]]:
    res = run_mlgate(["validate-data", *args, "--json", "o.json"], cwd=cwd)
    checks: dict[str, dict] = {}
    if (cwd / "o.json").exists() and res.code in (0, 1):
        doc = json.loads((cwd / "o.json").read_text())
        checks = {c["name"]: c for g in doc["gates"] for c in g["checks"]}
    assert "Traceback" not in res.stderr
    return res.code, res.error_line, checks


@pytest.fixture
def plain(churn_dir: Path) -> Path:
    """The example without its mlgate.yaml: flags alone."""
    (churn_dir / "mlgate.yaml").unlink()
    return churn_dir


def test_missing_data_file(plain: Path) -> None:
    code, line, _ = validate(plain, "--data", "data/nope.csv")
    assert code == 2
    assert line == "mlgate: error: data/nope.csv: data file not found"


def test_missing_reference_file(plain: Path) -> None:
    code, line, _ = validate(plain, "--data", "data/holdout.csv", "--reference", "ref.parquet")
    assert code == 2 and "ref.parquet: reference file not found" in line


def test_missing_data_setting(plain: Path) -> None:
    code, line, _ = validate(plain)
    assert code == 2 and "--data" in line


def test_unreadable_csv(plain: Path) -> None:
    (plain / "bad.csv").write_text("a,b\n1,2\n3,4,5,6\n")
    code, line, _ = validate(plain, "--data", "bad.csv")
    assert code == 2
    assert line.startswith("mlgate: error: bad.csv: unreadable CSV:")
    assert "line 3" in line


def test_binary_file_is_unreadable(plain: Path) -> None:
    (plain / "bin.csv").write_bytes(b"\xff\xfe\x00\x81garbage\x00\x9c" * 50)
    code, line, _ = validate(plain, "--data", "bin.csv")
    assert code == 2 and "bin.csv: unreadable" in line


def test_corrupt_parquet(plain: Path) -> None:
    (plain / "x.parquet").write_bytes(b"PAR1 not really parquet")
    code, line, _ = validate(plain, "--data", "x.parquet")
    assert code == 2 and "x.parquet: unreadable" in line


def test_empty_file(plain: Path) -> None:
    (plain / "empty.csv").write_text("")
    code, line, _ = validate(plain, "--data", "empty.csv")
    assert code == 2 and line.endswith("empty.csv: data file is empty (0 bytes)")


def test_header_only_file(plain: Path) -> None:
    (plain / "head.csv").write_text("customer_id,tenure_months\n")
    code, line, _ = validate(plain, "--data", "head.csv")
    assert code == 2 and "head.csv: data file has a header but no data rows" in line


def test_blank_lines_only(plain: Path) -> None:
    (plain / "blank.csv").write_text("\n\n\n")
    code, line, _ = validate(plain, "--data", "blank.csv")
    assert code == 2 and "blank.csv: data file has no columns" in line


def test_missing_column_is_a_named_failing_check(churn_dir: Path, holdout: pd.DataFrame) -> None:
    holdout.drop(columns=["plan"]).to_csv(churn_dir / "data" / "holdout.csv", index=False)
    code, _, checks = validate(churn_dir)
    assert code == 1
    assert checks["contract: plan present"]["status"] == "fail"
    assert "column 'plan' is not in the data" in checks["contract: plan allowed values"]["message"]
    assert checks["drift: plan"]["status"] == "fail"


def test_wrong_type_is_a_named_failing_check(churn_dir: Path, holdout: pd.DataFrame) -> None:
    bad = holdout.astype({"tenure_months": object})
    bad.loc[[4, 9], "tenure_months"] = ["twelve", "??"]
    bad.to_csv(churn_dir / "data" / "holdout.csv", index=False)
    code, _, checks = validate(churn_dir)
    assert code == 1
    dtype = checks["contract: tenure_months dtype"]
    assert dtype["status"] == "fail"
    assert dtype["value"] == "string" and dtype["threshold"] == "int"
    assert dtype["details"]["unexpected_examples"] == ["twelve", "??"]
    assert [r["row"] for r in dtype["details"]["example_rows"]] == [4, 9]
    drift = checks["drift: tenure_months"]
    assert drift["status"] == "fail" and "non-numeric" in drift["message"]
    # the range check is not attempted on a column of the wrong type
    assert "contract: tenure_months range" not in checks


def test_infinite_values_fail_the_finite_check(churn_dir: Path, holdout: pd.DataFrame) -> None:
    bad = holdout.copy()
    bad.loc[[7, 8], "total_charges"] = [np.inf, -np.inf]
    bad.to_csv(churn_dir / "data" / "holdout.csv", index=False)
    code, _, checks = validate(churn_dir)
    assert code == 1
    finite = checks["finite: total_charges"]
    assert finite["status"] == "fail" and finite["value"] == 2
    assert [r["row"] for r in finite["details"]["example_rows"]] == [7, 8]
    # drift ignores non-finite values but says how many there were
    assert checks["drift: total_charges"]["details"]["nonfinite_data"] == 2
    assert checks["drift: total_charges"]["status"] == "pass"


def test_nan_values_fail_not_null_only_where_forbidden(
    churn_dir: Path, holdout: pd.DataFrame
) -> None:
    bad = holdout.copy()
    bad.loc[::50, "monthly_charges"] = np.nan  # nullable: false
    bad.loc[::50, "total_charges"] = np.nan  # nullable (default)
    bad.to_csv(churn_dir / "data" / "holdout.csv", index=False)
    code, _, checks = validate(churn_dir)
    assert code == 1
    assert checks["contract: monthly_charges not null"]["status"] == "fail"
    assert checks["contract: monthly_charges not null"]["value"] == 60
    assert "contract: total_charges not null" not in checks
    assert checks["drift: total_charges"]["details"]["null_share_data"] == 0.02


def test_all_nan_column(churn_dir: Path, holdout: pd.DataFrame) -> None:
    bad = holdout.copy()
    bad["total_charges"] = np.nan
    bad.to_csv(churn_dir / "data" / "holdout.csv", index=False)
    code, _, checks = validate(churn_dir)
    assert code == 1
    assert "no finite values in the data" in checks["drift: total_charges"]["message"]


def test_reference_with_no_common_columns(plain: Path) -> None:
    pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]}).to_csv(plain / "ref.csv", index=False)
    code, line, _ = validate(plain, "--data", "data/holdout.csv", "--reference", "ref.csv")
    assert code == 2
    assert line.startswith("mlgate: error: ref.csv: shares no columns with data/holdout.csv")


def test_reference_with_disjoint_values_drifts(plain: Path, holdout: pd.DataFrame) -> None:
    ref = holdout.copy()
    ref["monthly_charges"] += 1000.0
    ref["plan"] = "legacy"
    ref.to_csv(plain / "ref.csv", index=False)
    code, _, checks = validate(plain, "--data", "data/holdout.csv", "--reference", "ref.csv")
    assert code == 0  # 2 of 10 columns drifted, under the default 50% share
    for col in ("monthly_charges", "plan"):
        check = checks[f"drift: {col}"]
        assert check["status"] == "warn"
        assert isinstance(check["value"], float) and 5 < check["value"] < 100  # finite PSI
    assert checks["drift: monthly_charges"]["details"]["ks"] == 1.0
    assert checks["drift: monthly_charges"]["details"]["outside_reference_range"] == 3000


def test_malformed_suite_json(plain: Path) -> None:
    (plain / "s.json").write_text('{"name": "s", "expectations": [\n  {"type": }\n]}')
    code, line, _ = validate(plain, "--data", "data/holdout.csv", "--suite", "s.json")
    assert code == 2
    assert line.startswith("mlgate: error: s.json: malformed suite JSON:") and "line 2" in line


@pytest.mark.parametrize(
    "items, message",
    [
        ([{"type": "expect_foo", "kwargs": {}}],
         "s.json: expectations[1]: unknown expectation type 'expect_foo'"),
        ([{"kwargs": {"column": "plan"}}], "s.json: expectations[1]: missing expectation 'type'"),
        (["expect_column_to_exist"], "s.json: expectations[1]: expected an object"),
        ([{"type": "expect_column_values_to_be_between", "kwargs": {"colum": "plan"}}],
         "s.json: expectations[1]: expect_column_values_to_be_between: invalid kwargs: column"),
        ([{"type": "expect_column_values_to_be_between",
           "kwargs": {"column": "plan", "min_value": "low"}}],
         "s.json: expectations[1]: expect_column_values_to_be_between: invalid kwargs: min_value"),
    ],
)
def test_bad_expectation_names_file_and_index(plain: Path, items: list, message: str) -> None:
    good = {"type": "expect_column_to_exist", "kwargs": {"column": "plan"}}
    (plain / "s.json").write_text(json.dumps({"name": "s", "expectations": [good, *items]}))
    code, line, _ = validate(plain, "--data", "data/holdout.csv", "--suite", "s.json")
    assert code == 2
    assert message in line, line


def test_suite_without_expectations_list(plain: Path) -> None:
    (plain / "s.json").write_text('["not", "a", "suite"]')
    code, line, _ = validate(plain, "--data", "data/holdout.csv", "--suite", "s.json")
    assert code == 2 and "s.json: a suite must be a JSON object" in line


def test_missing_suite_file(plain: Path) -> None:
    code, line, _ = validate(plain, "--data", "data/holdout.csv", "--suite", "nope.json")
    assert code == 2 and "nope.json: suite file not found" in line


def test_contract_file_errors_name_line_and_field(plain: Path) -> None:
    (plain / "c.yaml").write_text("columns:\n  - name: plan\n    dtype: text\n")
    code, line, _ = validate(plain, "--data", "data/holdout.csv", "--contract", "c.yaml")
    assert code == 2
    assert "c.yaml:3: columns[0].dtype: expected one of" in line


def test_contract_file_works(plain: Path) -> None:
    (plain / "c.yaml").write_text(
        "row_count: {min: 5000}\ncolumns:\n  - {name: plan, allowed: [basic, standard]}\n")
    code, _, checks = validate(plain, "--data", "data/holdout.csv", "--contract", "c.yaml")
    assert code == 1
    assert checks["contract: row count"]["status"] == "fail"
    assert checks["contract: row count"]["value"] == 3000
    assert checks["contract: plan allowed values"]["details"]["unexpected_examples"] == [
        "premium"] * 5


def test_unknown_config_key(churn_dir: Path) -> None:
    text = (churn_dir / "mlgate.yaml").read_text()
    (churn_dir / "mlgate.yaml").write_text(text.replace("max_drift_share: 0.5",
                                                        "max_drift_share: 0.5\n    bogus: 1"))
    code, line, _ = validate(churn_dir)
    assert code == 2 and "data.drift" in line and "bogus" in line


def test_training_without_serving(plain: Path) -> None:
    code, line, _ = validate(plain, "--data", "data/holdout.csv", "--training", "data/train.csv")
    assert code == 2 and "--training and --serving must be given together" in line


def test_catalogue_suite_by_name(plain: Path) -> None:
    code, _, checks = validate(plain, "--data", "data/holdout.csv", "--suite", "non_empty",
                               "--suite", "churn_example")
    assert code == 0
    assert checks["suite non_empty: expect_table_row_count_to_be_between"]["value"] == 3000
    assert "suite churn_example: expect_column_values_to_be_unique(customer_id)" in checks


def test_datetime_and_bool_columns(plain: Path, holdout: pd.DataFrame) -> None:
    """Parquet keeps dtypes: datetimes are not compared (warned), booleans are categories."""
    frame = holdout.assign(
        signup=pd.Timestamp("2024-01-01") + pd.to_timedelta(holdout["tenure_months"], "D"),
        has_partner=holdout["partner"] == "yes",
    )
    frame.to_parquet(plain / "cur.parquet")
    frame.iloc[::2].to_parquet(plain / "ref.parquet")
    code, _, checks = validate(plain, "--data", "cur.parquet", "--reference", "ref.parquet")
    assert checks["drift: signup"]["status"] == "warn"
    assert checks["drift: has_partner"]["details"]["type"] == "categorical"
    assert checks["drift: has_partner"]["status"] == "pass"
    assert code == 0


@pytest.mark.parametrize(("column", "method", "kind"), [
    ("tenure_months", "chi2", "numeric"),
    ("plan", "ks", "categorical"),
])
def test_a_per_column_method_that_does_not_fit_the_column(churn_dir: Path, column: str,
                                                           method: str, kind: str) -> None:
    """A method for the other kind of column is exit 2 naming the key, not a crash."""
    config = churn_dir / "mlgate.yaml"
    config.write_text(config.read_text().replace(
        "    columns:\n      monthly_charges:",
        f"    columns:\n      {column}: {{method: {method}}}\n      monthly_charges:"))
    code, line, _ = validate(churn_dir)
    assert code == 2, line
    assert line.startswith(f"mlgate: error: mlgate.yaml:data.drift.columns.{column}.method: "
                           f"method '{method}' does not apply to '{column}', a {kind} column")
