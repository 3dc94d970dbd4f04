"""The model gate on the example churn repository, with real trained models."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import yaml

from tests.model.conftest import checks_of, read_json
from tests.support.cli import run_mlgate


def test_better_candidate_passes_against_champion(churn_repo: Path, clean_github_env: None) -> None:
    report = churn_repo / "model.json"
    result = run_mlgate(["gate-model", "--json", report], cwd=churn_repo)
    assert result.code == 0, result.stdout + result.stderr
    checks = checks_of(report)
    auc = checks["champion roc_auc"]
    assert auc["status"] == "pass"
    assert auc["details"]["ci_low"] >= -0.01
    assert auc["details"]["champion"] < auc["details"]["candidate"] + 0.01
    # No production version yet: the configured champion_file is the champion.
    assert "champion.skops" in auc["message"] and "no churn#production" in auc["message"]
    assert {
        "threshold roc_auc",
        "threshold log_loss",
        "slice gap region roc_auc",
        "budget model size",
        "budget latency",
    } <= set(checks)
    table = read_json(report)["gates"][0]["tables"][0]
    assert table["title"] == "candidate vs champion"
    assert table["columns"] == [
        "metric",
        "candidate",
        "champion",
        "difference",
        "95% CI",
        "decision",
    ]
    assert next(r for r in table["rows"] if r[0] == "roc_auc")[5] == "pass"


def test_candidate_on_5_percent_of_data_is_blocked_naming_metric_and_interval(
    churn_repo: Path, models_dir: Path, clean_github_env: None
) -> None:
    shutil.copy(models_dir / "worse.skops", churn_repo / "models" / "candidate.skops")
    report = churn_repo / "model.json"
    result = run_mlgate(["gate-model", "--json", report], cwd=churn_repo)
    assert result.code == 1
    # Evidence: the blocked report names the bytes it judged (the 5%-data model), so it
    # cannot be passed off as evidence for the full model, nor the other way round.
    recorded = read_json(report)["gates"][0]["inputs"]["model"]
    blob = (models_dir / "worse.skops").read_bytes()
    assert recorded == {"path": "models/candidate.skops", "size": len(blob),
                        "sha256": "sha256:" + hashlib.sha256(blob).hexdigest()}
    checks = checks_of(report)
    failed = {n: c for n, c in checks.items() if c["status"] == "fail"}
    assert "champion roc_auc" in failed, failed
    auc = failed["champion roc_auc"]
    low, high = auc["details"]["ci_low"], auc["details"]["ci_high"]
    assert low < -0.01 and low < high
    assert auc["details"]["decision"] == "fail"
    assert f"95% CI [{low:+.4f}, {high:+.4f}]" in auc["message"]
    assert "roc_auc" in auc["message"] and "below -0.0100" in auc["message"]
    # The terminal output names the failed check, the metric and the interval too.
    assert "champion roc_auc" in result.stdout and f"[{low:+.4f}, {high:+.4f}]" in result.stdout
    # Absolute thresholds alone would have let it through: the comparison is what blocks it.
    assert checks["threshold roc_auc"]["status"] == "pass"


def test_candidate_worse_only_on_one_region_is_blocked_by_the_slice_gate(
    churn_repo: Path, models_dir: Path, tmp_path: Path, clean_github_env: None
) -> None:
    policy = tmp_path / "slices.yaml"
    policy.write_text(
        yaml.safe_dump(
            {
                "thresholds": {"roc_auc": {"min": 0.75}},
                "slices": [
                    {
                        "column": "region",
                        "metric": "roc_auc",
                        "min_size": 100,
                        "min": 0.7,
                        "max_gap": 0.1,
                    }
                ],
            }
        )
    )
    report = tmp_path / "model.json"
    args = ["gate-model", "--policy", policy, "--json", report]
    good = run_mlgate(args, cwd=churn_repo)
    assert good.code == 0, good.stdout
    broken = models_dir / "east-broken.skops"
    result = run_mlgate([*args, "--model", broken], cwd=churn_repo)
    assert result.code == 1
    checks = checks_of(report)
    failed = sorted(n for n, c in checks.items() if c["status"] == "fail")
    assert failed == ["slice gap region roc_auc", "slice region=east roc_auc"]
    assert checks["threshold roc_auc"]["status"] == "pass"  # overall it looks acceptable
    for region in ("north", "south", "west"):
        assert checks[f"slice region={region} roc_auc"]["status"] == "pass"
    assert checks["slice region=east roc_auc"]["value"] < 0.6
    assert "region=east" in checks["slice gap region roc_auc"]["message"]


def test_champion_from_the_ledger_production_stage(
    churn_repo: Path, models_dir: Path, clean_github_env: None
) -> None:
    """Register and promote the champion with the real ledger CLI; the gate reads it back."""
    from tests.support.repos import commit_all

    config_path = churn_repo / "mlgate.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["ledger"]["artifact"] = "models/champion.skops"
    config["ledger"].pop("release_to", None)
    config["ledger"]["stages"] = {
        "production": {"promotes_from": None, "gates": [], "approvals": {"min": 0}}
    }
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    commit_all(churn_repo, "ledger policy for the test", push=True)  # policies come from main
    registered = run_mlgate(["register", "--version", "v1.0.0", "--no-push"], cwd=churn_repo)
    assert registered.code == 0, registered.stderr + registered.stdout
    promoted = run_mlgate(
        ["promote", "--version", "v1.0.0", "--to", "production", "--no-push"], cwd=churn_repo
    )
    assert promoted.code == 0, promoted.stderr + promoted.stdout
    # The work-tree champion file changes afterwards; the ledger still serves v1.0.0's bytes.
    (churn_repo / "models" / "champion.skops").write_bytes(b"not a model any more")
    report = churn_repo / "model.json"
    passed = run_mlgate(["gate-model", "--json", report], cwd=churn_repo)
    assert passed.code == 0, passed.stdout + passed.stderr
    auc = checks_of(report)["champion roc_auc"]
    assert "churn@v1.0.0 (production)" in auc["message"]
    blocked = run_mlgate(
        [
            "gate-model",
            "--model",
            models_dir / "worse.skops",
            "--champion",
            "churn#production",
            "--json",
            report,
        ],
        cwd=churn_repo,
    )
    assert blocked.code == 1
    assert checks_of(report)["champion roc_auc"]["status"] == "fail"


def test_no_champion_anywhere_warns_and_gates_on_thresholds(
    churn_repo: Path, clean_github_env: None
) -> None:
    config_path = churn_repo / "mlgate.yaml"
    config = yaml.safe_load(config_path.read_text())
    del config["model"]["champion_file"]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    report = churn_repo / "model.json"
    result = run_mlgate(["gate-model", "--json", report], cwd=churn_repo)
    assert result.code == 0
    check = checks_of(report)["champion comparison"]
    assert check["status"] == "warn" and "no champion" in check["message"]


def test_model_stage_in_mlgate_run(churn_repo: Path, clean_github_env: None) -> None:
    config_path = churn_repo / "mlgate.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["pipeline"] = {"pr": ["model"], "release": ["model"]}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_mlgate(["run", "--stage", "pr"], cwd=churn_repo)
    assert result.code == 0, result.stdout + result.stderr
    results = churn_repo / ".mlgate" / "results"
    evidence = list(results.rglob("model-metrics.json"))
    assert evidence, list(results.rglob("*"))
    data = read_json(evidence[0])
    assert data["intervals"]["roc_auc"]["decision"] == "pass"
    markdown = next(results.rglob("report.md")).read_text()
    assert "candidate vs champion" in markdown and "roc_auc" in markdown
