"""The data gate on Spark (``data.engine: spark``): the pandas gate's steps, in the same order
and with the same check names, on Spark DataFrames.

The data are never collected: the contract and the suites run through GX's Spark data source,
drift and skew as counts in the JVM (:mod:`.drift`) against the same reference profile as the
pandas engine (:func:`mlgate.data.baseline.resolve`: a saved profile, or a reference file read
and profiled in memory). A reference only Spark can read (a Parquet directory, an ``s3a://``
URI) is profiled by Spark (:mod:`.profile`). Only the target column is brought to the driver
for label drift (one column; its class counts or quantiles are what the report shows).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.data.pointer import SPARK_SCHEMES, Location
from mlgate.data.settings import DataSettings, display
from mlgate.result import GateResult

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from mlgate.data.baseline import Baseline


def spark_only(loc: Location) -> bool:
    """Whether only Spark can read this data set: a directory or a URI Spark reads itself."""
    if isinstance(loc, str):
        return loc.split("://", 1)[0].lower() in SPARK_SCHEMES
    return loc.is_dir()


def run_spark_gate(settings: DataSettings, evidence_dir: Path | None = None,
                   progress: bool = True) -> GateResult:
    """:func:`mlgate.data.gate.run_data_gate` with Spark doing the reading and counting."""
    from mlgate.data import contract as contract_mod
    from mlgate.data.gate import (
        _interleave,
        features_only,
        finish,
        keep_contract_evidence,
        what_to_check,
    )
    from mlgate.data.gx_run import run_expectations
    from mlgate.data.spark import contract as spark_contract
    from mlgate.data.spark.reading import read
    from mlgate.data.spark.session import get_session

    suites, contract, compiled = what_to_check(settings)
    if settings.config_file is not None:  # a pull request cannot choose the cluster or JARs
        from mlgate.config import load_config
        from mlgate.trust import DATA_KEYS, check_unchanged

        check_unchanged(load_config(settings.config_file), DATA_KEYS)
    spark = get_session(settings.spark_master, settings.spark_config, settings.spark_source)
    result = GateResult(gate="data")
    data_name = display(settings.data)
    read_inputs: dict[str, dict[str, Any]] = {}
    with contextlib.ExitStack() as keep:
        frame, read_inputs["data"] = read(spark, settings.data, "data", keep)
        rows, infinities = spark_contract.rows_and_infinities(frame)
        if settings.check_finite:
            result.checks += spark_contract.finite_checks(frame, infinities)
        if contract:
            dtype_checks, failed = spark_contract.dtype_checks(contract, frame,
                                                               settings.contract_source)
            checks = run_expectations(frame, contract_mod.runnable(compiled, frame, failed),
                                      contract_mod.PREFIX)
            result.checks += _interleave(dtype_checks, checks)
            keep_contract_evidence(compiled, evidence_dir, result)
        for suite in suites:
            result.checks += run_expectations(frame, suite.expectations,
                                              f"suite {Path(suite.path).stem}: ")
        if settings.reference or settings.reference_profile:
            _drift(spark, settings, frame, data_name, result, read_inputs, keep)
        if settings.training and settings.serving:
            _skew(spark, settings, result, read_inputs, keep, features_only)
    return finish(result, settings, read_inputs, rows, list(frame.columns), "spark")


def baseline(spark: SparkSession, settings: DataSettings, target: str | None,
             keep: contextlib.ExitStack) -> Baseline:
    """The reference profile: :func:`mlgate.data.baseline.resolve` (the pandas engine's) for
    a saved profile or a reference pandas reads; a reference only Spark reads is profiled by
    Spark, reusing a saved profile that names its digest."""
    from mlgate.data.baseline import Baseline, resolve
    from mlgate.data.reference_profile import default_path, load
    from mlgate.data.spark import profile as spark_profile
    from mlgate.data.spark.reading import read
    from mlgate.provenance import file_input

    reference = settings.reference
    if reference is None or not spark_only(reference):
        return resolve(settings, target, summaries=False)
    frame, recorded = read(spark, reference, "reference", keep)
    name = display(reference)
    digest = recorded.get("sha256")
    candidate = settings.reference_profile or (
        default_path(settings.profile_home, digest) if digest else None)
    if candidate is not None and candidate.is_file():
        saved = load(candidate)
        if digest and saved.sha256 == digest and (
                target is None or target not in saved.columns
                or (saved.label is not None and saved.label.column == target)):
            return Baseline(saved, name, candidate, inputs={
                "reference": recorded, "reference_profile": file_input(candidate)})
    built = spark_profile.build(frame, target)
    built.sha256, built.path = digest, name
    return Baseline(built, name, None, inputs={"reference": recorded})


def _drift(spark: SparkSession, settings: DataSettings, frame: DataFrame, data_name: str,
           result: GateResult, read_inputs: dict[str, dict[str, Any]],
           keep: contextlib.ExitStack) -> None:
    from mlgate.data.drift import ColumnOutcome
    from mlgate.data.figures import drift_figures
    from mlgate.data.gate import features_only
    from mlgate.data.label import label_drift
    from mlgate.data.spark.drift import compare

    target = settings.target if settings.label.enabled else None
    base = baseline(spark, settings, target, keep)
    read_inputs.update(base.inputs)
    outcomes: list[ColumnOutcome] = []
    checks, table = compare(base.profile, frame, features_only(settings.drift, settings),
                            "drift", base.name, data_name, outcomes)
    result.checks += base.checks + checks
    result.tables.append(table)
    result.figures += drift_figures(outcomes, "drift", base.name, data_name)
    if settings.target and settings.label.enabled:
        label_checks, tables = label_drift(base.profile, _target(frame, settings.target),
                                           settings, base.name, data_name, result.figures)
        result.checks += label_checks
        result.tables += tables
    if base.profile_file is not None:
        result.data["reference_profile"] = display(base.profile_file)


def _skew(spark: SparkSession, settings: DataSettings, result: GateResult,
          read_inputs: dict[str, dict[str, Any]], keep: contextlib.ExitStack,
          features_only: Any) -> None:
    """Training vs serving: the training sample is profiled by Spark (both sides are data
    only Spark may be able to hold), the serving sample counted on that profile's grids."""
    from mlgate.data.drift import ColumnOutcome
    from mlgate.data.figures import drift_figures
    from mlgate.data.spark import profile as spark_profile
    from mlgate.data.spark.drift import compare
    from mlgate.data.spark.reading import read

    assert settings.training is not None and settings.serving is not None
    training, read_inputs["training"] = read(spark, settings.training, "training", keep)
    serving, read_inputs["serving"] = read(spark, settings.serving, "serving", keep)
    rules = features_only(settings.skew, settings)
    kept = [c for c in training.columns if c not in set(rules.exclude)]
    profile = spark_profile.build(training.select(*[f"`{c}`" for c in kept]))
    outcomes: list[ColumnOutcome] = []
    train_name, serve_name = display(settings.training), display(settings.serving)
    checks, table = compare(profile, serving, rules, "skew", train_name, serve_name, outcomes)
    result.checks += checks
    result.tables.append(table)
    result.figures += drift_figures(outcomes, "skew", train_name, serve_name)


def _target(frame: DataFrame, target: str) -> Any:
    """The target column alone, as pandas (label drift's own code then judges it); an empty
    frame when the column is missing, which label drift reports."""
    import pandas as pd

    from mlgate.data.spark.counts import quiet, quote

    if target not in frame.columns:
        return pd.DataFrame(index=range(1))
    with quiet():
        return frame.select(quote(target)).toPandas()
