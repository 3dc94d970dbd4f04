"""One batch run: verified model, data gate on the batch, predictions, their check, output.

Order matters for what a failure leaves behind: everything that can be bad input (flags, the
ledger entry, the model, the batch file) is read before any judgement; the output and the
lineage record are staged as temporary files and renamed into place only after both gates
passed and the run was recorded in git. A failed gate therefore writes nothing (exit 1), bad
input writes nothing (exit 2).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.data.settings import DataSettings, display
from mlgate.errors import InputError
from mlgate.predict.settings import PredictSettings
from mlgate.result import CheckResult, GateResult, Status

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.data.loading import Loaded
    from mlgate.data.reference_profile import ReferenceProfile
    from mlgate.ledger.champion import StageArtifact

PROFILE_BINS = 200  # the predictions' profile kept per run: small enough for a git note
GATE = "predict"


def run_batch(settings: PredictSettings, progress: bool = True) -> list[GateResult]:
    """Score ``settings.data``; returns the data gate's result and the predict gate's."""
    from mlgate.data.gate import run_data_gate
    from mlgate.data.loading import read_frame
    from mlgate.load.serve_source import model_to_serve
    from mlgate.model.loading import LoadRules, load_model

    config = settings.config
    data_settings = batch_data_settings(settings)
    rules = LoadRules.from_config(config)
    with model_to_serve(settings.model, False, repo=config.root, config=config.path) as served:
        model = load_model(served.path, rules, from_ledger=True)
        artifact = served.artifact
    assert artifact is not None  # settings only accept ledger references
    loaded = read_frame(settings.data, "data")
    target = data_settings.target
    unlabelled = not (target and target in loaded.frame.columns)
    data_settings.unlabelled = unlabelled
    if unlabelled:
        data_settings.label = replace(data_settings.label, enabled=False)
    data_result = run_data_gate(data_settings, None, progress=progress, loaded=loaded)
    result = GateResult(gate=GATE)
    result.inputs = _inputs(settings, artifact, loaded)
    result.data["model"] = _model_record(artifact)
    if not data_result.passed:
        result.checks.append(CheckResult(
            "output", Status.FAIL, "not written: the batch failed the data gate",
            value="not written"))
        result.summary = (f"{display(settings.data)} refused by the data gate; nothing written "
                          f"({artifact.name}@{artifact.version})")
        return [data_result, result]
    score(settings, data_settings, model, artifact, loaded, data_result, result)
    return [data_result, result]


def batch_data_settings(settings: PredictSettings) -> DataSettings:
    """The data gate's settings from mlgate.yaml with the batch as its data and no skew (a
    batch has no serving log); a drift reference is required: judging a batch means judging it
    against what the model was trained on."""
    from mlgate.data.settings import from_sources

    config = settings.config
    data_settings = from_sources(
        config.section("data"), config.resolve, config.where,
        data=str(settings.data) if isinstance(settings.data, Path) else settings.data,
        config_file=config.path, model=config.section("model"))
    if data_settings.reference is None and data_settings.reference_profile is None:
        raise InputError("predict judges the batch's drift against the training reference: "
                         "set data.reference (or data.reference_profile)",
                         config.where("data", "reference"))
    data_settings.training = data_settings.serving = None
    return data_settings


def score(settings: PredictSettings, data_settings: DataSettings, model: Any,
          artifact: StageArtifact, loaded: Loaded, data_result: GateResult,
          result: GateResult) -> None:
    """Predict, check the predictions, and (when every check passed) write and record."""
    from mlgate.data.drift import compare
    from mlgate.predict import scoring

    batch = loaded.frame
    label = f"{artifact.name}@{artifact.version}"
    source = display(settings.data)
    target = data_settings.target
    kept = scoring.kept_columns(settings.keep, data_settings.contract, batch, target,
                                settings.config.where("predict", "keep"))
    predictions = scoring.predict(model, batch, target, source, label)
    classifier = scoring.is_classifier(model)
    compared = scoring.comparable(predictions, classifier)
    output = scoring.output_frame(batch, kept, predictions, source)
    baseline, baseline_name = _baseline(settings, data_settings, model, artifact, classifier,
                                        result)
    if baseline is not None:
        checks, table = compare(baseline, compared, settings.drift, "predictions",
                                baseline_name, f"predictions on {source}")
        result.checks += checks
        result.tables.append(table)
    result.data.update({"rows": len(batch), "kept_columns": kept,
                        "prediction_columns": [str(c) for c in predictions.columns],
                        "task": "classification" if classifier else "regression",
                        "baseline": baseline_name})
    if not result.passed:
        result.checks.append(CheckResult("output", Status.FAIL,
                                         "not written: the predictions failed their check",
                                         value="not written"))
        result.summary = f"{label} on {source}: predictions refused; nothing written"
        return
    _write(settings, artifact, loaded, output, compared, data_result, result, baseline_name)


def _baseline(settings: PredictSettings, data_settings: DataSettings, model: Any,
              artifact: StageArtifact, classifier: bool, result: GateResult
              ) -> tuple[ReferenceProfile | None, str]:
    """What the predictions are compared with: the previous batch of this artifact (when one
    was recorded and ``baseline: previous``), else the model's predictions on the reference."""
    from mlgate.data.loading import read_frame
    from mlgate.data.reference_profile import build
    from mlgate.predict import scoring
    from mlgate.predict.lineage import previous_predictions

    repo = artifact_repo(settings)
    if settings.baseline == "previous":
        found = previous_predictions(repo, artifact.commit, artifact.sha256)
        if found is not None:
            profile, run = found
            output = (run.get("output") or {}).get("path", "?")
            return profile, f"the previous batch's predictions ({run.get('time', '?')}, {output})"
    if data_settings.reference is None:
        result.checks.append(CheckResult(
            "predictions: baseline", Status.WARN,
            "no previous batch recorded and no raw reference (only data.reference_profile) to "
            "predict on: the predictions' distribution is not checked", value="none"))
        return None, "none"
    reference = read_frame(data_settings.reference, "reference").frame
    name = display(data_settings.reference)
    predicted = scoring.predict(model, reference, data_settings.target, name,
                                f"{artifact.name}@{artifact.version}")
    return (build(scoring.comparable(predicted, classifier), summaries=False,
                  fine_bins=PROFILE_BINS), f"the model's predictions on {name}")


def artifact_repo(settings: PredictSettings) -> Path:
    from mlgate.ledger.gitio import ensure_repo

    return ensure_repo(settings.config.root)


def _write(settings: PredictSettings, artifact: StageArtifact, loaded: Loaded,
           output: pd.DataFrame, compared: pd.DataFrame, data_result: GateResult,
           result: GateResult, baseline_name: str) -> None:
    from mlgate.data.reference_profile import build, to_json
    from mlgate.predict.lineage import record_in_git
    from mlgate.predict.output import staged
    from mlgate.provenance import run_meta, sha256_file

    with staged() as files:
        tmp = files.table(output, settings.output, settings.output_format)
        digest = sha256_file(tmp)
        profile = build(compared, summaries=False, fine_bins=PROFILE_BINS)
        profile.sha256, profile.path = digest, display(settings.output)
        profile.size = tmp.stat().st_size
        result.data["output"] = {"path": display(settings.output), "sha256": digest,
                                 "size": profile.size, "format": settings.output_format,
                                 "rows": len(output)}
        result.data["lineage"] = display(settings.lineage_file)
        result.checks.append(CheckResult(
            "output", Status.PASS, f"{len(output)} rows to {display(settings.output)}",
            value=len(output)))
        result.summary = (f"{artifact.name}@{artifact.version} scored {len(output)} rows of "
                          f"{display(settings.data)} into {display(settings.output)}")
        result.meta = run_meta(settings.config.root)
        record = lineage_record(settings, artifact, loaded, result, data_result, baseline_name)
        record["predictions"] = to_json(profile)
        files.json(record, settings.lineage_file)
        if settings.record_git:
            record_in_git(artifact_repo(settings), artifact.commit, record, settings.push,
                          settings.remote)
        files.commit()
    result.evidence += [str(settings.output), str(settings.lineage_file)]
    result.data["outputs"] = {"output": str(settings.output),
                              "lineage": str(settings.lineage_file),
                              "model_version": artifact.version, "rows": len(output)}


def lineage_record(settings: PredictSettings, artifact: StageArtifact, loaded: Loaded,
                   result: GateResult, data_result: GateResult,
                   baseline_name: str) -> dict[str, Any]:
    """The run's lineage (see :mod:`mlgate.predict.lineage`); ``predictions`` is added by
    the caller."""
    from mlgate.predict.lineage import FORMAT

    return {
        "format": FORMAT,
        "time": result.meta.get("time"),
        "model": _model_record(artifact),
        "input": loaded.input,
        "output": result.data["output"],
        "rows": {"input": len(loaded.frame), "output": result.data["output"]["rows"]},
        "gates": {g.gate: {"status": g.status.value, "digest": g.digest()}
                  for g in (data_result, result)},
        "baseline": baseline_name,
        "meta": result.meta,
        "run_url": _run_url(),
    }


def _model_record(artifact: StageArtifact) -> dict[str, Any]:
    return {"name": artifact.name, "version": artifact.version, "tag": artifact.tag,
            "stage": artifact.stage or None, "commit": artifact.commit, "path": artifact.path,
            "sha256": artifact.sha256}


def _inputs(settings: PredictSettings, artifact: StageArtifact,
            loaded: Loaded) -> dict[str, dict[str, Any]]:
    from mlgate.provenance import file_input, ledger_input

    return {"model": ledger_input(f"{artifact.name}@{artifact.version}", artifact.content),
            "data": loaded.input, "config": file_input(settings.config.path)}


def _run_url() -> str:
    import os

    server, repo, run = (os.environ.get(k, "") for k in
                         ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else ""
