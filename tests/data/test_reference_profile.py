"""Reference statistics computed once (`mlgate profile`) and reused by the data gate.

What must hold: a valid profile gives exactly the checks of a run that reads the reference;
with the profile named as the reference, the raw file is never needed (deleted here); a stale
profile is ignored with a warning; a malformed or tampered one is exit 2 naming the file; the
statistics agree with scipy's within the resolution the report states.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from mlgate.data import reference_profile as rp
from mlgate.data.drift import compare
from mlgate.data.settings import DriftRules
from tests.support.cli import run_mlgate

PROFILE = ".mlgate/profiles"


def gate(cwd: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    res = run_mlgate(["validate-data", *args, "--json", "o.json"], cwd=cwd)
    assert "Traceback" not in res.stderr
    doc: dict[str, Any] = {}
    if res.code in (0, 1):
        (doc,) = [g for g in json.loads((cwd / "o.json").read_text())["gates"]
                  if g["gate"] == "data"]
    return res.code, res.error_line, doc


def drift_checks(doc: dict[str, Any]) -> dict[str, tuple[str, Any, dict[str, Any]]]:
    return {c["name"]: (c["status"], c.get("value"), c.get("details", {}))
            for c in doc["checks"] if c["name"].startswith(("drift", "label drift"))}


def set_data(cwd: Path, **keys: Any) -> None:
    config = yaml.safe_load((cwd / "mlgate.yaml").read_text())
    for key, value in keys.items():
        if value is None:
            config["data"].pop(key, None)
        else:
            config["data"][key] = value
    (cwd / "mlgate.yaml").write_text(yaml.safe_dump(config))


@pytest.fixture
def churn_dir(churn_dir: Path) -> Path:
    """The example without its suites and contract (Great Expectations has nothing to do
    with drift, and costs seconds per run)."""
    set_data(churn_dir, suites=None, contract=None)
    return churn_dir


def profile_file(cwd: Path) -> Path:
    (path,) = (cwd / PROFILE).glob("*.json")
    return path


def test_profile_is_written_under_the_reference_digest(churn_dir: Path) -> None:
    res = run_mlgate(["profile", "--json", "p.json"], cwd=churn_dir)
    assert res.code == 0, res.stderr
    path = profile_file(churn_dir)
    assert f"wrote {PROFILE}/{path.name}" in res.stdout
    doc = json.loads(path.read_text())
    assert doc["reference"]["sha256"] == "sha256:" + path.stem
    assert doc["label"]["column"] == "churned"  # model.target of the example
    assert path.stat().st_size < 200_000  # small: statistics, never rows
    assert rp.load(path).rows == doc["reference"]["rows"]


def test_saved_profile_gives_the_same_checks_without_parsing_the_reference(
    churn_dir: Path, monkeypatch: pytest.MonkeyPatch, clean_github_env: None
) -> None:
    code, _, plain = gate(churn_dir)
    assert code == 0 and "reference_profile" not in plain["inputs"]
    assert run_mlgate(["profile"], cwd=churn_dir).code == 0
    from mlgate.data import loading

    real = loading.load_frame

    def no_reference(path: Any, role: str = "data") -> pd.DataFrame:
        assert role != "reference", "the reference was parsed although its profile is valid"
        return real(path, role)

    monkeypatch.setattr(loading, "load_frame", no_reference)
    code, _, cached = gate(churn_dir)
    assert code == 0
    assert drift_checks(cached) == drift_checks(plain)
    assert cached["inputs"]["reference"] == plain["inputs"]["reference"]
    assert cached["inputs"]["reference_profile"]["path"].endswith(".json")
    assert cached["data"]["profile"] == plain["data"]["profile"]


def test_profile_as_the_reference_needs_no_raw_file(churn_dir: Path,
                                                    clean_github_env: None) -> None:
    _, _, plain = gate(churn_dir)
    assert run_mlgate(["profile", "--out", "ref-profile.json"], cwd=churn_dir).code == 0
    (churn_dir / "data" / "reference.csv").unlink()  # deleted on request: only statistics stay
    set_data(churn_dir, reference=None, reference_profile="ref-profile.json")
    code, line, cached = gate(churn_dir)
    assert code == 0, line
    assert drift_checks(cached) == drift_checks(plain)
    # the gate still records which reference its statistics describe
    assert cached["inputs"]["reference"]["sha256"] == plain["inputs"]["reference"]["sha256"]
    assert cached["inputs"]["reference_profile"]["path"].endswith("ref-profile.json")


def test_stale_profile_is_ignored_with_a_warning(churn_dir: Path, clean_github_env: None
                                                 ) -> None:
    assert run_mlgate(["profile", "--out", "ref-profile.json"], cwd=churn_dir).code == 0
    ref = pd.read_csv(churn_dir / "data" / "reference.csv")
    ref["monthly_charges"] += 40  # the reference changed (or was swapped) after profiling
    ref.to_csv(churn_dir / "data" / "reference.csv", index=False)
    fresh_code, _, fresh = gate(churn_dir)
    set_data(churn_dir, reference_profile="ref-profile.json")
    code, _, doc = gate(churn_dir)
    checks = drift_checks(doc)
    status, value, details = checks.pop("drift: reference profile")
    assert status == "warn" and value == "stale"
    assert details["reference_sha256"] == fresh["inputs"]["reference"]["sha256"]
    assert checks == drift_checks(fresh)  # computed from the reference as it is now
    assert checks["drift: monthly_charges"][0] != "pass"
    assert "reference_profile" not in doc["inputs"]
    assert code == fresh_code


@pytest.mark.parametrize("damage", ["not json", "schema", "counts", "digest"])
def test_damaged_profile_is_exit_2_naming_the_file(churn_dir: Path, damage: str) -> None:
    assert run_mlgate(["profile"], cwd=churn_dir).code == 0
    path = profile_file(churn_dir)
    doc = json.loads(path.read_text())
    numeric = next(c for c in doc["columns"] if c["kind"] == "numeric")
    if damage == "not json":
        path.write_text("{")
    elif damage == "schema":
        doc["format"] = "something else"
        path.write_text(json.dumps(doc))
    elif damage == "counts":
        numeric["numeric"]["counts"][3] += 5  # a doctored histogram no longer adds up
        path.write_text(json.dumps(doc))
    else:
        doc["reference"]["sha256"] = "sha256:" + "0" * 64
        path.write_text(json.dumps(doc))
    code, line, _ = gate(churn_dir)
    assert code == 2
    assert line.startswith(f"mlgate: error: {PROFILE}/{path.name}: ")
    assert "\n" not in line


def test_profile_without_the_target_cannot_stand_in_for_the_reference(churn_dir: Path) -> None:
    assert run_mlgate(["profile", "--out", "p.json", "--target", "tenure_months"],
                      cwd=churn_dir).code == 0
    set_data(churn_dir, reference=None, reference_profile="p.json")
    code, line, _ = gate(churn_dir)
    assert code == 2 and line.startswith("mlgate: error: p.json: ")
    assert "--target churned" in line


def test_profile_command_bad_inputs(tmp_path: Path) -> None:
    res = run_mlgate(["profile"], cwd=tmp_path)
    assert res.code == 2 and "--reference" in res.error_line
    res = run_mlgate(["profile", "--reference", "nope.csv"], cwd=tmp_path)
    assert res.code == 2 and res.error_line == "mlgate: error: nope.csv: reference file not found"


def generated(seed: int, rows: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "normal": rng.normal(shift, 1, rows),
        "lognormal": rng.lognormal(shift, 1, rows),
        "counts": rng.poisson(3 + 3 * shift, rows).astype(float),
        "steady": rng.uniform(0, 1, rows),
        "plan": rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3 - shift / 2, 0.2 + shift / 2]),
    })
    frame.loc[frame.index[::97], "normal"] = np.nan
    return frame


def test_saved_and_in_memory_profiles_agree_with_scipy_on_generated_data(tmp_path: Path) -> None:
    ref, cur = generated(1, 80_000, 0.0), generated(2, 70_000, 0.5)
    saved = rp.build(ref, summaries=False)
    saved.sha256, saved.path = "sha256:" + "ab" * 32, "ref.parquet"
    rp.save(saved, tmp_path / "p.json")
    rules = DriftRules(numeric_method="ks_stat", categorical_method="psi")
    memory_checks, _ = compare(ref, cur, rules, "drift", "ref", "cur")
    saved_checks, _ = compare(rp.load(tmp_path / "p.json"), cur, rules, "drift", "ref", "cur")
    assert [(c.name, c.status, c.value, c.details) for c in memory_checks] == \
        [(c.name, c.status, c.value, c.details) for c in saved_checks]
    by_name = {c.name: c for c in saved_checks}
    for col in ("normal", "lognormal", "counts", "steady"):
        details = by_name[f"drift: {col}"].details
        want = stats.ks_2samp(ref[col].dropna(), cur[col].dropna()).statistic
        # the report rounds to 6 decimals
        assert details["ks"] - 1e-6 <= want <= details["ks"] + details["ks_resolution"] + 2e-6
        assert details["ks_resolution"] < 0.002
        # flagged exactly when scipy's statistic is above the threshold
        assert (by_name[f"drift: {col}"].status.value == "warn") == (want > 0.1)
    assert by_name["drift: counts"].details["ks_resolution"] == 0  # discrete: exact
    assert by_name["drift: normal"].details["null_share_reference"] == round(1 / 97, 4)
    flagged = {c.name for c in saved_checks if c.status.value == "warn"}
    assert flagged == {"drift: normal", "drift: lognormal", "drift: counts", "drift: plan"}
