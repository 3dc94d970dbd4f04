"""The model gate: score the candidate, apply the policy, and say why it passes or not.

Order of work: read and check the inputs (all bad input fails before any scoring), compute the
candidate's metrics with scikit-learn, then the policy's checks: absolute thresholds, champion
non-inferiority on a paired bootstrap interval, slices with a fairness gap, and budgets. The
result records the sha256 of every input (see :func:`gate_inputs`).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlgate.config import Config
from mlgate.errors import InputError
from mlgate.model import data as mdata
from mlgate.model import figures as mfig
from mlgate.model.champion import ChampionSource, resolve_champion
from mlgate.model.importance import (
    Contender,
    ImportanceSettings,
    permutation_shift,
    primary_metric,
)
from mlgate.model.loading import LoadRules, load_model
from mlgate.model.metrics import (
    CLASSIFICATION,
    METRICS,
    REGRESSION,
    Baseline,
    Outputs,
    describe,
    holdout_baseline,
    point_metric,
    skill_parts,
    task_metrics,
)
from mlgate.model.mlflow_model import is_mlflow_dir, mlflow_model_file
from mlgate.model.mlflow_registry import TRACKING_URI_KEY, is_mlflow_ref
from mlgate.model.policy import ChampionRule, Policy, SliceRule, load_policy, resolve_baseline
from mlgate.provenance import file_input, repo_path, run_meta, source_input
from mlgate.result import CheckResult, GateResult, Status, Table
from mlgate.trust import check_unchanged

PREDICTION_SUFFIXES = mdata.TABLE_SUFFIXES


@dataclass
class GateInputs:
    """Everything the gate needs, after flags and mlgate.yaml have been merged."""

    data: Path
    target: str
    model: Path | None = None
    predictions: Path | None = None
    champion: str | None = None
    champion_file: str | None = None
    task: str | None = None
    policy: Any = None
    # How candidate and champion are loaded (trusted types, pickles, code paths), checked
    # against the default branch before the first load.
    rules: LoadRules = field(default_factory=LoadRules)
    # For an `mlflow:models:/...` champion; None: MLFLOW_TRACKING_URI.
    mlflow_tracking_uri: str | None = None
    seed: int = 0
    base_dir: Path = field(default_factory=Path.cwd)
    repo: Path = field(default_factory=Path.cwd)
    project: str | None = None
    results_dir: Path | None = None
    where: str = "mlgate gate-model"
    config: Config | None = None
    # Permutation importance of candidate and champion (`model.importance`): shown, not judged.
    importance: ImportanceSettings = field(default_factory=ImportanceSettings)


@dataclass
class Scored:
    """A model (or predictions file) with its outputs on the held-out rows."""

    label: str
    outputs: Outputs
    model: Any = None
    features: Any = None
    path: Path | None = None


def run_gate(inputs: GateInputs) -> GateResult:
    with tempfile.TemporaryDirectory(prefix="mlgate-model-") as scratch:
        return _run(inputs, Path(scratch))


def _run(inputs: GateInputs, scratch: Path) -> GateResult:
    if inputs.model is None and inputs.predictions is None:
        raise InputError("give the candidate with --model or --predictions", inputs.where)
    frame = mdata.read_table(inputs.data)
    column = mdata.target_column(frame, inputs.target, inputs.data)
    model = _load(inputs.model, inputs, from_ledger=False) if inputs.model else None
    task = inputs.task or mdata.infer_task(model, column)
    classes = getattr(model, "classes_", None) if task == CLASSIFICATION else None
    target = mdata.encode_target(column, task, classes, inputs.data, inputs.target)
    candidate = _score("candidate", model, inputs.model, inputs.predictions, frame, target, inputs)
    policy = load_policy(
        inputs.policy, task, inputs.base_dir, f"{inputs.where}: policy", target.n_classes
    )
    # One fixed baseline for every skill metric: point values, slices and resamples alike.
    baseline = resolve_baseline(policy, task, target.classes) or holdout_baseline(
        target.y, task, target.n_classes
    )
    if inputs.config is not None and is_mlflow_ref(inputs.champion):
        # The registry gets the job's MLflow credentials: read its URI from the default
        # branch in untrusted runs before anything connects to it.
        check_unchanged(inputs.config, (TRACKING_URI_KEY,))
    source = resolve_champion(
        inputs.champion,
        base_dir=inputs.base_dir,
        repo=inputs.repo,
        project=inputs.project,
        fallback=inputs.champion_file,
        scratch=scratch,
        where=inputs.where,
        config=inputs.config.path if inputs.config else None,
        mlflow_tracking_uri=inputs.mlflow_tracking_uri,
    )
    champion = _champion(source, frame, target, inputs) if source else None

    result = GateResult(gate="model")
    cand_values = _all_metrics(target, candidate.outputs, baseline)
    champ_values = _all_metrics(target, champion.outputs, baseline) if champion else {}
    _thresholds(result, policy, cand_values, target, candidate.outputs, baseline)
    intervals = _champion_checks(
        result, policy, inputs, target, candidate, champion, baseline
    )
    per_slice = _slices(
        result, policy.slices, frame, target, candidate.outputs, inputs.data, baseline
    )
    _budgets(result, policy, candidate, inputs)
    result.tables.append(_table(cand_values, champ_values, intervals, policy.champion))
    result.figures.extend(
        _figures(policy, target, candidate, champion, cand_values, champ_values, intervals,
                 per_slice)
    )
    importance_skipped = _importance(result, policy, inputs, target, candidate, champion,
                                     baseline)
    result.data = {
        "task": task,
        "rows": len(target.y),
        "policy": policy.source,
        "baseline": baseline.evidence(target.classes),
        "candidate": {"label": candidate.label, "metrics": cand_values},
        "champion": {"label": champion.label, "metrics": champ_values} if champion else None,
        "intervals": intervals,
        "outputs": {"model_status": "pass" if result.passed else "fail"},
    }
    if importance_skipped:
        result.data["importance"] = {"skipped": importance_skipped}
    result.summary = _summary(result, candidate, champion, len(target.y))
    result.inputs = gate_inputs(inputs, policy, source)
    result.meta = run_meta(inputs.config.path.parent if inputs.config else inputs.data.parent)
    if inputs.results_dir is not None:
        inputs.results_dir.mkdir(parents=True, exist_ok=True)
        evidence = inputs.results_dir / "model-metrics.json"
        evidence.write_text(json.dumps(_plain(result.data), indent=2), encoding="utf-8")
        result.evidence.append(str(evidence))
    return result


def gate_inputs(
    inputs: GateInputs, policy: Policy, champion: ChampionSource | None
) -> dict[str, dict[str, Any]]:
    """The digest of every input the model gate read, by role.

    ``policy`` is the policy file or preset named by the setting, ``policy:<file name>`` each
    file reached through ``extends``; an inline policy is covered by ``config``. A ledger
    champion is recorded by version tag and the sha256 of its bytes, not by its scratch file.
    """
    found: dict[str, dict[str, Any]] = {}
    if inputs.model is not None:
        found["model"] = file_input(_model_file(inputs.model))
    if inputs.predictions is not None:
        found["predictions"] = file_input(inputs.predictions)
    found["data"] = file_input(inputs.data)
    for i, path in enumerate(policy.files):
        role = "policy" if i == 0 and policy.named_file else f"policy:{path.name}"
        found[role if role not in found else f"policy:{repo_path(path)}"] = source_input(path)
    if champion is not None:
        found["champion"] = champion.evidence or file_input(_model_file(champion.path))
    if inputs.config is not None:
        found["config"] = file_input(inputs.config.path)
    return found


def _load(path: Path, inputs: GateInputs, from_ledger: bool) -> Any:
    # A ledger champion comes from a registered tag, which a pull request cannot change.
    return load_model(path, inputs.rules, from_ledger=from_ledger)


def _model_file(path: Path) -> Path:
    """The file whose bytes a model path stands for: itself, or an MLflow directory's model."""
    return mlflow_model_file(path) if is_mlflow_dir(path) else path


def _score(
    label: str,
    model: Any,
    model_path: Path | None,
    predictions: Path | None,
    frame: Any,
    target: mdata.Target,
    inputs: GateInputs,
) -> Scored:
    if predictions is not None:
        table = mdata.read_table(predictions, "predictions file")
        outputs = mdata.predictions_outputs(table, target, predictions, len(frame))
        return Scored(f"{label} ({predictions.name})", outputs, model, path=model_path)
    assert model is not None and model_path is not None
    features = mdata.feature_frame(model, frame, inputs.target, inputs.data, model_path)
    outputs = mdata.model_outputs(model, features, target, model_path, inputs.data)
    return Scored(f"{label} ({model_path.name})", outputs, model, features, model_path)


def _champion(
    source: ChampionSource, frame: Any, target: mdata.Target, inputs: GateInputs
) -> Scored:
    if source.path.suffix.lower() in PREDICTION_SUFFIXES:
        return _score("champion", None, None, source.path, frame, target, inputs)
    model = _load(source.path, inputs, source.from_ledger)
    scored = _score("champion", model, source.path, None, frame, target, inputs)
    scored.label = f"champion {source.label}"
    return scored


def _all_metrics(target: mdata.Target, out: Outputs, baseline: Baseline) -> dict[str, float]:
    values: dict[str, float] = {}
    for name in task_metrics(target.task):
        if METRICS[name].needs_proba and out.proba is None:
            continue
        try:
            values[name] = point_metric(name, target.y, out, target.n_classes, baseline)
        except ValueError:
            continue  # undefined on this data (e.g. MAPE with a zero target): not shown
    return values


def _bound_check(name: str, value: float | None, bound: dict[str, float]) -> tuple[Status, str]:
    if value is None or not np.isfinite(value):
        return Status.ERROR, f"{name} could not be computed for this model/data"
    lo, hi = bound.get("min"), bound.get("max")
    if lo is not None and value < lo:
        return Status.FAIL, f"{name} {describe(value)} is below the minimum {lo}"
    if hi is not None and value > hi:
        return Status.FAIL, f"{name} {describe(value)} is above the maximum {hi}"
    return Status.PASS, f"{name} {describe(value)} within bounds"


def _threshold_text(bound: dict[str, float]) -> str:
    parts = []
    if "min" in bound:
        parts.append(f">= {bound['min']}")
    if "max" in bound:
        parts.append(f"<= {bound['max']}")
    return " and ".join(parts)


def _thresholds(
    result: GateResult,
    policy: Policy,
    values: dict[str, float],
    target: mdata.Target,
    out: Outputs,
    baseline: Baseline,
) -> None:
    for name, bound in policy.thresholds.items():
        value = values.get(name)
        status, message = _bound_check(name, value, bound)
        details: dict[str, Any] = {}
        if value is None and METRICS[name].needs_proba and out.proba is None:
            message = f"{name} needs class probabilities; the candidate provides none"
        elif value is None:
            message = f"{name} is undefined on these data (e.g. a class missing from them)"
        elif METRICS[name].skill_of is not None:
            details = _skill_details(name, target, out, baseline)
            message += f" ({details['explained']})"
        result.add(
            CheckResult(
                f"threshold {name}", status, message, value, _threshold_text(bound), details
            )
        )


def _skill_details(
    name: str, target: mdata.Target, out: Outputs, baseline: Baseline
) -> dict[str, Any]:
    """What a skill score is made of, in words and numbers, for its check."""
    base_metric = METRICS[name].skill_of
    assert base_metric is not None
    score, base = skill_parts(name, target.y, out, target.n_classes, baseline)
    if name == "balanced_accuracy_skill":
        what = f"chance {describe(base)}"
    elif name == "f1_skill":
        what = f"{describe(base)} for labels drawn at random with {baseline.what()}"
    else:
        what = f"{describe(base)} for {baseline.describe()}"
    return {
        "metric": base_metric,
        "value": score,
        "baseline": base,
        "explained": f"{base_metric} {describe(score)} vs {what}",
    }


def _champion_checks(
    result: GateResult,
    policy: Policy,
    inputs: GateInputs,
    target: mdata.Target,
    candidate: Scored,
    champion: Scored | None,
    baseline: Baseline,
) -> dict[str, dict[str, Any]]:
    rule = policy.champion
    if rule is None:
        return {}
    if champion is None:
        what = inputs.champion or "none configured"
        result.add(
            CheckResult(
                "champion comparison",
                Status.WARN,
                f"no champion to compare with ({what}); comparison skipped",
            )
        )
        return {}
    from mlgate.model.bootstrap import paired_bootstrap

    usable = []
    for name in rule.metrics:
        missing_proba = METRICS[name].needs_proba and (
            candidate.outputs.proba is None or champion.outputs.proba is None
        )
        if missing_proba:
            why = "needs probabilities from both"
            result.add(CheckResult(f"champion {name}", Status.WARN, f"not compared: {why}"))
        else:
            usable.append(name)
    if not usable:
        return {}
    found = paired_bootstrap(
        target.y,
        candidate.outputs,
        champion.outputs,
        usable,
        n_classes=target.n_classes,
        resamples=rule.resamples,
        confidence=rule.confidence,
        seed=inputs.seed,
        method=rule.method,
        baseline=baseline,
    )
    out: dict[str, dict[str, Any]] = {}
    for name in usable:
        iv = found[name]
        margin = rule.margin_for(iv.champion)
        higher = METRICS[name].higher_is_better
        pct = f"{round(iv.confidence * 100)}%"
        ci = f"[{iv.low:+.4f}, {iv.high:+.4f}]"
        if higher:
            ok = iv.low >= -margin
            threshold = f"{pct} CI lower bound >= {-margin:+.4f}"
            verdict = (
                "non-inferior"
                if ok
                else f"lower bound {iv.low:+.4f} is below -{margin:.4f} (margin): worse"
            )
        else:
            ok = iv.high <= margin
            threshold = f"{pct} CI upper bound <= {margin:+.4f}"
            verdict = (
                "non-inferior"
                if ok
                else f"upper bound {iv.high:+.4f} is above +{margin:.4f} (margin): worse"
            )
        if not np.isfinite(iv.low) or not np.isfinite(iv.high):
            ok, verdict = False, "interval undefined on these data"
        decision = "pass" if ok else "fail"
        message = (
            f"{name}: candidate {describe(iv.candidate)} vs {champion.label} "
            f"{describe(iv.champion)}, difference {iv.difference:+.4f}, {pct} CI {ci}; {verdict}"
        )
        details = {
            "candidate": iv.candidate,
            "champion": iv.champion,
            "difference": iv.difference,
            "ci_low": iv.low,
            "ci_high": iv.high,
            "confidence": iv.confidence,
            "margin": margin,
            "higher_is_better": higher,
            "resamples": iv.resamples,
            "method": iv.method,
            "seed": inputs.seed,
            "decision": decision,
        }
        out[name] = details
        result.add(
            CheckResult(
                f"champion {name}",
                Status.PASS if ok else Status.FAIL,
                message,
                iv.difference,
                threshold,
                details,
            )
        )
    return out


def _slices(
    result: GateResult,
    rules: list[SliceRule],
    frame: Any,
    target: mdata.Target,
    out: Outputs,
    source: Path,
    baseline: Baseline,
) -> list[SliceValues]:
    """Check each slice rule; return the gated values per rule (for the slices figure)."""
    found: list[SliceValues] = []
    for rule in rules:
        if rule.column not in frame.columns:
            raise InputError(f"slice column {rule.column!r} not found", source)
        groups = frame[rule.column].astype("string").fillna("<missing>").to_numpy()
        gated: dict[str, float] = {}
        sizes: dict[str, int] = {}
        found.append(SliceValues(rule, gated, sizes))
        for value in sorted(set(groups.tolist())):
            rows = np.flatnonzero(groups == value)
            name = f"slice {rule.column}={value} {rule.metric}"
            if len(rows) < rule.min_size:
                result.add(
                    CheckResult(
                        name,
                        Status.WARN,
                        f"{len(rows)} rows < min_size {rule.min_size}; not gated",
                        None,
                        None,
                        {"rows": len(rows)},
                    )
                )
                continue
            try:
                metric_value = point_metric(
                    rule.metric, target.y[rows], out.take(rows), target.n_classes, baseline
                )
            except (ValueError, InputError) as exc:
                result.add(CheckResult(name, Status.WARN, f"not computable on this slice: {exc}"))
                continue
            gated[value] = metric_value
            sizes[value] = len(rows)
            bound = {k: v for k, v in (("min", rule.min), ("max", rule.max)) if v is not None}
            status, message = _bound_check(rule.metric, metric_value, bound)
            result.add(
                CheckResult(
                    name,
                    status,
                    f"{rule.column}={value} ({len(rows)} rows): {message}",
                    metric_value,
                    _threshold_text(bound) or None,
                    {"rows": len(rows)},
                )
            )
        if rule.max_gap is not None and len(gated) >= 2:
            best = max(gated, key=lambda k: gated[k])
            worst = min(gated, key=lambda k: gated[k])
            gap = gated[best] - gated[worst]
            ok = gap <= rule.max_gap
            result.add(
                CheckResult(
                    f"slice gap {rule.column} {rule.metric}",
                    Status.PASS if ok else Status.FAIL,
                    f"{rule.metric} ranges from {describe(gated[worst])} ({rule.column}="
                    f"{worst}) to {describe(gated[best])} ({rule.column}={best}), gap "
                    f"{gap:.4f} {'<=' if ok else '>'} {rule.max_gap}",
                    gap,
                    f"<= {rule.max_gap}",
                    {"per_slice": gated},
                )
            )
    return found


@dataclass
class SliceValues:
    """One slice rule's gated metric values and row counts, by slice value."""

    rule: SliceRule
    values: dict[str, float]
    rows: dict[str, int]


def _figures(
    policy: Policy,
    target: mdata.Target,
    candidate: Scored,
    champion: Scored | None,
    cand_values: dict[str, float],
    champ_values: dict[str, float],
    intervals: dict[str, dict[str, Any]],
    per_slice: list[SliceValues],
) -> list[mfig.Figure]:
    """The charts of this gate run (see :mod:`mlgate.model.figures`), most important first."""
    judged = [*policy.thresholds, *(policy.champion.metrics if policy.champion else [])]
    models = [("candidate", candidate.outputs)]
    if champion is not None:
        models.append(("champion", champion.outputs))
    made = [mfig.metrics_figure(judged, cand_values, champ_values, intervals)]
    if target.task == REGRESSION:
        made.append(mfig.residuals_figure(target.y, models))
    elif target.n_classes == 2:
        made += [mfig.roc_figure(target.y, models), mfig.pr_figure(target.y, models)]
    else:
        assert target.classes is not None
        made.append(mfig.per_class_figure(target.y, target.classes, models))
    if target.task == CLASSIFICATION:
        made.append(mfig.calibration_figure(target.y, models))
    for i, gated in enumerate(per_slice):
        rule = gated.rule
        bound = {k: v for k, v in (("min", rule.min), ("max", rule.max)) if v is not None}
        figure_id = mfig.SLICES_ID if i == 0 else f"{mfig.SLICES_ID}.{i + 1}"
        made.append(mfig.slices_figure(rule.column, rule.metric, gated.values, gated.rows,
                                       bound, figure_id))
    return [f for f in made if f is not None]


def _importance(
    result: GateResult,
    policy: Policy,
    inputs: GateInputs,
    target: mdata.Target,
    candidate: Scored,
    champion: Scored | None,
    baseline: Baseline,
) -> str | None:
    """Permutation importance of candidate and champion (a table and a figure), when the
    candidate can be called. Shown, not judged: a failure to compute it is returned (and
    recorded in the result's data), never raised."""
    settings = inputs.importance
    if not settings.enabled or candidate.model is None or candidate.features is None:
        return None
    rival = None
    if champion is not None and champion.model is not None and champion.features is not None:
        rival = Contender("champion", champion.model, champion.features)
    has_proba = candidate.outputs.proba is not None and (
        rival is None or champion is None or champion.outputs.proba is not None)
    metric_name = primary_metric(
        list(policy.thresholds), policy.champion.metrics if policy.champion else [],
        target.task, target.n_classes, has_proba,
    )
    try:
        found = permutation_shift(
            Contender("candidate", candidate.model, candidate.features), rival, target,
            metric_name, baseline, settings, inputs.seed,
        )
    except Exception as exc:  # a chart must never stop the gate
        return f"{type(exc).__name__}: {exc}"
    if found is not None:
        table, figure = found
        result.tables.append(table)
        result.figures.append(figure)
    return None


def _budgets(result: GateResult, policy: Policy, cand: Scored, inputs: GateInputs) -> None:
    budgets = policy.budgets
    if "max_size_mb" in budgets:
        if cand.path is None:
            result.add(CheckResult("budget model size", Status.WARN, "no model file to measure"))
        else:
            measured = _model_file(cand.path)
            size = measured.stat().st_size / 1e6
            ok = size <= budgets["max_size_mb"]
            result.add(
                CheckResult(
                    "budget model size",
                    Status.PASS if ok else Status.FAIL,
                    f"{measured.name} is {size:.2f} MB "
                    f"({'within' if ok else 'over'} {budgets['max_size_mb']} MB)",
                    round(size, 4),
                    f"<= {budgets['max_size_mb']} MB",
                )
            )
    if "max_latency_ms" in budgets:
        if cand.model is None or cand.features is None:
            result.add(CheckResult("budget latency", Status.WARN, "no model to time"))
            return
        p50, p95 = _single_row_latency(cand, int(budgets.get("latency_calls", 100)))
        ok = p95 <= budgets["max_latency_ms"]
        result.add(
            CheckResult(
                "budget latency",
                Status.PASS if ok else Status.FAIL,
                f"single-row predict p95 {p95:.2f} ms (p50 {p50:.2f} ms), budget "
                f"{budgets['max_latency_ms']} ms",
                round(p95, 3),
                f"<= {budgets['max_latency_ms']} ms",
                {"p50_ms": p50, "p95_ms": p95},
            )
        )


def _single_row_latency(cand: Scored, calls: int) -> tuple[float, float]:
    """p50/p95 of predict on one row (what an online request costs), after 3 warm-up calls."""
    features = cand.features
    predict = cand.model.predict_proba if hasattr(cand.model, "predict_proba") else None
    predict = predict or cand.model.predict
    rows = len(features)
    for i in range(3):
        predict(features.iloc[[i % rows]])
    timings = []
    for i in range(calls):
        row = features.iloc[[i % rows]]
        start = time.perf_counter()
        predict(row)
        timings.append((time.perf_counter() - start) * 1000.0)
    return float(np.percentile(timings, 50)), float(np.percentile(timings, 95))


def _table(
    cand: dict[str, float],
    champ: dict[str, float],
    intervals: dict[str, dict[str, Any]],
    rule: ChampionRule | None,
) -> Table:
    pct = f"{round((rule.confidence if rule else 0.95) * 100)}% CI"
    rows: list[list[Any]] = []
    for name, value in cand.items():
        other = champ.get(name)
        iv = intervals.get(name)
        rows.append(
            [
                name,
                describe(value),
                describe(other) if other is not None else "-",
                f"{value - other:+.4f}" if other is not None else "-",
                f"[{iv['ci_low']:+.4f}, {iv['ci_high']:+.4f}]" if iv else "-",
                iv["decision"] if iv else "-",
            ]
        )
    return Table(
        "candidate vs champion",
        ["metric", "candidate", "champion", "difference", pct, "decision"],
        rows,
    )


def _summary(result: GateResult, cand: Scored, champ: Scored | None, rows: int) -> str:
    failed = [c.name for c in result.failures]
    against = f" against {champ.label}" if champ else ""
    verdict = "passes" if result.passed else f"is blocked by {', '.join(failed)}"
    return f"{cand.label} on {rows} held-out rows{against}: {verdict}"


def _plain(value: Any) -> Any:
    from mlgate.result import _jsonable

    return _jsonable(value)
