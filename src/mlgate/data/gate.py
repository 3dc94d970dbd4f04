"""The data gate: load the data, then run the finite-value check, the contract, the GX suites,
drift against the reference (features, and the target as label drift) and train/serving skew,
and gather everything in one GateResult.

Suites are read and validated before any data is loaded, so a malformed suite costs the user
no waiting; every input problem is an InputError (exit 2), every finding a check (exit 1).
The result records the sha256 of every file the gate read (see :func:`gate_inputs`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.data.pointer import Location, is_dvc
from mlgate.data.settings import DataSettings, DriftRules, display
from mlgate.progress import Progress
from mlgate.provenance import file_input, repo_path, run_meta, source_input
from mlgate.result import CheckResult, GateResult, Status

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.data.loading import Loaded

EXAMPLES = 3
PROGRESS_BYTES = 50 * 1024 * 1024


def _input_bytes(settings: DataSettings) -> int:
    """Local bytes to read (a URI's size is unknown until it has streamed: not counted)."""
    paths = [settings.data, settings.reference, settings.training, settings.serving]
    return sum(p.stat().st_size for p in paths if isinstance(p, Path) and p.is_file())


def run_data_gate(
    settings: DataSettings, evidence_dir: Path | None = None, progress: bool = True,
    loaded: Loaded | None = None,
) -> GateResult:
    """Judge ``settings.data``. ``loaded``: that data already read (``mlgate predict`` scores
    the very rows the gate judged, so a URI is fetched and parsed once and the digest recorded
    is the digest of what was scored)."""
    from mlgate.data import contract as contract_mod
    from mlgate.data.baseline import resolve
    from mlgate.data.drift import ColumnOutcome, compare
    from mlgate.data.figures import drift_figures
    from mlgate.data.gx_run import run_expectations
    from mlgate.data.label import label_drift
    from mlgate.data.loading import read_frame
    from mlgate.data.profile import profile_against

    if settings.engine == "spark" and loaded is None:  # data already in pandas: judge it so
        from mlgate.data.spark.gate import run_spark_gate

        return run_spark_gate(settings, evidence_dir, progress)
    suites, contract, compiled = what_to_check(settings)
    compares = bool(settings.reference or settings.reference_profile)
    steps = 1 + bool(contract) + len(suites) + compares + bool(settings.training)
    result = GateResult(gate="data")
    data_name = display(settings.data)
    data_profile: dict[str, Any] | None = None  # only when there is a reference
    read: dict[str, dict[str, Any]] = {}  # evidence of the bytes each role was parsed from
    big = _input_bytes(settings) >= PROGRESS_BYTES  # small runs finish before a line is useful
    with Progress("data gate", steps, enabled=progress and big) as bar:
        done = 0
        bar.update(done, f"loading {data_name}")
        given = loaded or read_frame(settings.data, "data")
        frame, read["data"] = given.frame, given.input
        del given
        if settings.check_finite:
            result.checks += finite_checks(frame)
        done += 1
        if contract:
            bar.update(done, "contract")
            dtype_checks, failed = contract_mod.dtype_checks(
                contract, frame, settings.contract_source)
            checks = run_expectations(
                frame, contract_mod.runnable(compiled, frame, failed), contract_mod.PREFIX)
            result.checks += _interleave(dtype_checks, checks)
            done += 1
            keep_contract_evidence(compiled, evidence_dir, result)
        for suite in suites:
            bar.update(done, f"suite {suite.name}")
            result.checks += run_expectations(frame, suite.expectations,
                                              f"suite {Path(suite.path).stem}: ")
            done += 1
        if compares:
            bar.update(done, "drift")
            target = settings.target if settings.label.enabled else None
            baseline = resolve(settings, target)
            reference = baseline.profile
            ref_name = baseline.name
            read.update(baseline.inputs)
            outcomes: list[ColumnOutcome] = []
            checks, table = compare(reference, frame, features_only(settings.drift, settings),
                                    "drift", ref_name, data_name, outcomes)
            result.checks += baseline.checks + checks
            result.tables.append(table)
            result.figures += drift_figures(outcomes, "drift", ref_name, data_name)
            if settings.target and settings.label.enabled:
                checks, tables = label_drift(reference, frame, settings, ref_name, data_name,
                                             result.figures)
                result.checks += checks
                result.tables += tables
            data_profile = profile_against(reference, frame)
            if baseline.profile_file is not None:
                result.data["reference_profile"] = display(baseline.profile_file)
            del reference, baseline
            done += 1
        if settings.training and settings.serving:
            bar.update(done, "skew")
            loaded = read_frame(settings.training, "training")
            training, read["training"] = loaded.frame, loaded.input
            loaded = read_frame(settings.serving, "serving")
            serving, read["serving"] = loaded.frame, loaded.input
            del loaded
            outcomes = []
            train_name, serve_name = display(settings.training), display(settings.serving)
            checks, table = compare(training, serving, features_only(settings.skew, settings),
                                    "skew", train_name, serve_name, outcomes)
            result.checks += checks
            result.tables.append(table)
            result.figures += drift_figures(outcomes, "skew", train_name, serve_name)
        bar.update(steps)
    if data_profile is not None:
        result.data["profile"] = data_profile
    return finish(result, settings, read, len(frame), [str(c) for c in frame.columns])


def keep_contract_evidence(compiled: list[Any], evidence_dir: Path | None,
                           result: GateResult) -> None:
    """Save the suite the contract compiled to beside the report (either engine), so the
    evidence shows which expectations judged the data."""
    if evidence_dir is None:
        return
    from mlgate.data import contract as contract_mod

    evidence = evidence_dir / "data-contract-suite.json"
    evidence.write_text(json.dumps(contract_mod.suite_json(compiled), indent=2, default=str),
                        encoding="utf-8")
    result.evidence.append(str(evidence))


def what_to_check(settings: DataSettings) -> tuple[list[Any], dict[str, Any] | None, list[Any]]:
    """The suites, the contract and its compiled checks this run judges, for either engine: a
    batch to score (``settings.unlabelled``) has no target column, so whatever reads it goes."""
    from mlgate.data import contract as contract_mod
    from mlgate.data.suites import load_suite, without_column

    suites = [load_suite(p, display(p)) for p in settings.suites]
    contract = settings.contract
    if settings.unlabelled and settings.target:
        suites = [without_column(s, settings.target) for s in suites]
        contract = contract_mod.without_column(contract, settings.target) if contract else None
    compiled = (contract_mod.compile_contract(contract, settings.contract_source)
                if contract else [])
    return suites, contract, compiled


def finish(result: GateResult, settings: DataSettings, read: dict[str, dict[str, Any]],
           rows: int, columns: list[str], engine: str | None = None) -> GateResult:
    """Summary, outputs, evidence and run metadata, worded alike by both engines."""
    failures = result.failures
    result.summary = (
        f"{display(settings.data)}: {rows} rows x {len(columns)} columns"
        + (f" ({engine.capitalize()})" if engine else "")
        + f"; {len(result.checks)} checks, {len(failures)} failed"
        + (f" ({', '.join(c.name for c in failures[:5])})" if failures else "")
    )
    result.data = {
        **result.data,
        "rows": rows,
        "columns": columns,
        **({"engine": engine} if engine else {}),
        "outputs": {"data_checks": len(result.checks), "data_failed": len(failures)},
    }
    result.inputs = gate_inputs(settings, read)
    home = (settings.config_file.parent if settings.config_file
            else settings.data.parent if isinstance(settings.data, Path) else Path.cwd())
    result.meta = run_meta(home)
    return result


def features_only(rules: DriftRules, settings: DataSettings) -> DriftRules:
    """``rules`` with the target excluded: it is judged as label drift, and serving samples
    have no label (so it would fail skew as a missing column)."""
    if not settings.target or settings.target in rules.exclude:
        return rules
    return replace(rules, exclude=[*rules.exclude, settings.target])


def gate_inputs(settings: DataSettings,
                read: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The digest of every file the data gate read, by role.

    ``read`` holds the records :func:`~mlgate.data.loading.read_frame` made while loading (a
    URI's digest can only be taken from the bytes that were actually parsed: the object may
    change between two reads), and the drift reference's entries as the run resolved them
    (:mod:`mlgate.data.baseline`: ``reference``, the digest a saved profile names when the raw
    reference is not configured, and ``reference_profile`` when a saved profile was used); a
    role missing from it is read and hashed here.

    Suites are keyed ``suite:<file name>`` (``suite:<repository path>`` should two suites share
    a name); an inline contract is part of the config, so only a contract file has an entry.
    Training and serving samples are read only as a pair, so they are recorded only as a pair.
    """
    done = read or {}

    def record(role: str, loc: Location) -> dict[str, Any]:
        if role in done:
            return done[role]
        if isinstance(loc, Path) and not is_dvc(loc):
            return file_input(loc)
        from mlgate.data.loading import read_frame

        return read_frame(loc, role).input

    inputs: dict[str, dict[str, Any]] = {"data": record("data", settings.data)}
    if settings.reference:
        inputs["reference"] = record("reference", settings.reference)
    elif "reference" in done:  # a saved profile stood in for the reference
        inputs["reference"] = done["reference"]
    if "reference_profile" in done:
        inputs["reference_profile"] = done["reference_profile"]
    for path in settings.suites:
        entry = source_input(path)
        role = f"suite:{path.name}"
        inputs[role if role not in inputs else f"suite:{repo_path(path)}"] = entry
    if settings.contract_file is not None:
        inputs["contract"] = source_input(settings.contract_file)
    if settings.training and settings.serving:
        inputs["training"] = record("training", settings.training)
        inputs["serving"] = record("serving", settings.serving)
    if settings.config_file is not None:
        inputs["config"] = file_input(settings.config_file)
    return inputs


def finite_checks(frame: pd.DataFrame) -> list[CheckResult]:
    """Fail on +/-inf in numeric columns: no threshold or statistic means anything with them.

    NaN is a missing value (the contract's ``nullable`` governs it); infinity is not.
    """
    from pandas.api import types as t

    checks = []
    for col in frame.columns:
        series = frame[col]
        if not t.is_float_dtype(series):
            continue
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        mask = np.isinf(values)
        count = int(mask.sum())
        if not count:
            continue
        positions = np.flatnonzero(mask)[:EXAMPLES]
        rows: list[dict[str, Any]] = [
            {"row": int(p), **{str(k): v for k, v in frame.iloc[int(p)].items()}}
            for p in positions
        ]
        checks.append(CheckResult(
            f"finite: {col}", Status.FAIL,
            f"{count} infinite value(s) in column {col!r} (rows {', '.join(map(str, positions))})",
            value=count, threshold=0, details={"column": str(col), "example_rows": rows},
        ))
    return checks


def _interleave(dtype_checks: list[CheckResult], checks: list[CheckResult]
                ) -> list[CheckResult]:
    """Order contract checks by column so a reader sees each column's checks together."""
    def column(c: CheckResult) -> str:
        return str(c.details.get("column", ""))

    order: list[str] = []
    for c in checks + dtype_checks:
        if column(c) not in order:
            order.append(column(c))
    both = checks + dtype_checks
    return sorted(both, key=lambda c: order.index(column(c)))
