"""Data gate benchmark, side by side with the peers, in one run.

1. The same 26-expectation GX suite on 1M rows x 10 columns, run by mlgate (suite JSON checked
   by mlgate, ephemeral context, results mapped to checks with example rows) and by plain GX
   calls (``ExpectationSuite(**json)``, ``batch.validate``). Goal: mlgate's overhead < 10%.
2. Drift on 10M rows x 50 columns (40 numeric, 10 categorical) by mlgate's vectorised
   statistics vs a per-column loop of scipy (``ks_2samp``, PSI over reference deciles with
   ``np.histogram``, ``chi2_contingency``). Goal: at least 5x faster.

Both sides get the same in-memory DataFrame, so file parsing (identical pandas code) is not
timed. Run: ``.venv/bin/python benchmarks/bench_data.py`` (``--quick`` for a smoke size).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CATS = {"plan": ["basic", "standard", "premium"], "region": ["north", "south", "east", "west"],
        "channel": ["web", "store", "phone", "partner", "app"], "tier": ["a", "b", "c", "d"]}


def suite_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": np.arange(rows),
        "age": rng.integers(18, 90, rows),
        "income": rng.lognormal(10, 0.5, rows),
        "score": rng.normal(600, 50, rows),
        "balance": rng.normal(1000, 300, rows),
        "visits": rng.poisson(3, rows),
    })
    for name, values in CATS.items():
        frame[name] = rng.choice(values, rows)
    return frame


def suite_json() -> dict[str, Any]:
    """26 expectations of the kinds a real suite mixes (row, null, range, set, stats, regex)."""
    e: list[tuple[str, dict[str, Any]]] = [
        ("expect_table_row_count_to_be_between", {"min_value": 1, "max_value": 10**8}),
        ("expect_table_column_count_to_equal", {"value": 10}),
        ("expect_table_columns_to_match_set",
         {"column_set": ["id", "age", "income", "score", "balance", "visits", *CATS]}),
        ("expect_column_values_to_be_unique", {"column": "id"}),
        ("expect_column_values_to_be_between", {"column": "age", "min_value": 18,
                                                "max_value": 89}),
        ("expect_column_values_to_be_between", {"column": "income", "min_value": 0}),
        ("expect_column_values_to_be_between", {"column": "score", "min_value": 300,
                                                "max_value": 900}),
        ("expect_column_values_to_be_between", {"column": "visits", "min_value": 0,
                                                "max_value": 10}),
        ("expect_column_mean_to_be_between", {"column": "score", "min_value": 590,
                                              "max_value": 610}),
        ("expect_column_median_to_be_between", {"column": "age", "min_value": 40,
                                                "max_value": 70}),
        ("expect_column_stdev_to_be_between", {"column": "balance", "min_value": 250,
                                               "max_value": 350}),
        ("expect_column_max_to_be_between", {"column": "age", "max_value": 89}),
        ("expect_column_min_to_be_between", {"column": "income", "min_value": 0}),
        ("expect_column_quantile_values_to_be_between", {"column": "score", "quantile_ranges": {
            "quantiles": [0.25, 0.5, 0.75],
            "value_ranges": [[550, 580], [590, 610], [620, 650]]}}),
    ]
    for name, values in CATS.items():
        e.append(("expect_column_values_to_be_in_set", {"column": name, "value_set": values}))
        e.append(("expect_column_values_to_not_be_null", {"column": name}))
    e += [
        ("expect_column_values_to_not_be_null", {"column": "income"}),
        ("expect_column_values_to_not_be_null", {"column": "score"}),
        ("expect_column_values_to_match_regex", {"column": "plan", "regex": "^[a-z]+$"}),
        ("expect_column_distinct_values_to_be_in_set",
         {"column": "region", "value_set": CATS["region"]}),
    ]
    assert len(e) == 26, len(e)
    return {"name": "bench", "expectations": [{"type": t, "kwargs": k, "meta": {}} for t, k in e]}


def run_plain_gx(frame: pd.DataFrame, suite: dict[str, Any]) -> int:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("plain").add_dataframe_asset("df")
             .add_batch_definition_whole_dataframe("all")
             .get_batch(batch_parameters={"dataframe": frame}))
    result = batch.validate(gx.ExpectationSuite(**suite))
    return sum(not r.success for r in result.results)


def run_mlgate_suite(frame: pd.DataFrame, path: Path) -> int:
    from mlgate.data.gx_run import run_expectations
    from mlgate.data.suites import load_suite

    suite = load_suite(path)
    checks = run_expectations(frame, suite.expectations, "suite bench: ")
    return sum(c.status.value != "pass" for c in checks)


def bench_suite(rows: int, repeats: int, workdir: Path) -> dict[str, float]:
    import json

    frame = suite_frame(rows)
    suite = suite_json()
    path = workdir / "bench_suite.json"
    path.write_text(json.dumps(suite))
    run_plain_gx(frame.head(1000), suite)  # warm imports and registries for both
    run_mlgate_suite(frame.head(1000), path)
    gx_times, ml_times = [], []
    for i in range(repeats):  # interleaved, alternating order, so machine load hits both alike
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            gc.collect()
            t = time.perf_counter()
            if which == 0:
                gx_failed = run_plain_gx(frame, suite)
                gx_times.append(time.perf_counter() - t)
            else:
                ml_failed = run_mlgate_suite(frame, path)
                ml_times.append(time.perf_counter() - t)
    assert gx_failed == ml_failed, (gx_failed, ml_failed)
    gx_t, ml_t = statistics.median(gx_times), statistics.median(ml_times)
    return {"gx": gx_t, "mlgate": ml_t, "overhead": ml_t / gx_t - 1.0, "failed": ml_failed}


def drift_frames(rows: int, numeric: int, categorical: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(2)
    frames = []
    for shift in (0.0, 0.02):
        data = rng.standard_normal((numeric, rows))
        data += shift
        frame = pd.DataFrame(data.T, columns=[f"x{i}" for i in range(numeric)], copy=False)
        levels = [f"c{j}" for j in range(12)]
        for i in range(categorical):
            codes = rng.integers(0, 12 - (shift > 0), rows).astype(np.int8)
            frame[f"k{i}"] = pd.Categorical.from_codes(codes, categories=levels)
        frames.append(frame)
    return frames[0], frames[1]


def scipy_loop(ref: pd.DataFrame, cur: pd.DataFrame) -> dict[str, tuple[float, ...]]:
    """What a per-column script does: ks_2samp, PSI by np.histogram, chi2_contingency."""
    from scipy import stats

    out: dict[str, tuple[float, ...]] = {}
    for col in ref.columns:
        r, c = ref[col], cur[col]
        if isinstance(r.dtype, pd.CategoricalDtype):
            counts = pd.concat([r.value_counts(), c.value_counts()], axis=1).fillna(0)
            table = counts.to_numpy().T
            table = table[:, table.sum(axis=0) > 0]
            chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
            shares = np.clip(table / table.sum(axis=1, keepdims=True), 1e-4, None)
            psi = float(np.sum((shares[1] - shares[0]) * np.log(shares[1] / shares[0])))
            out[col] = (chi2, p, psi)
        else:
            rv, cv = r.to_numpy(), c.to_numpy()
            ks = stats.ks_2samp(rv, cv)
            edges = np.quantile(rv, np.linspace(0, 1, 11))
            edges[0], edges[-1] = -np.inf, np.inf
            p_ = np.clip(np.histogram(rv, edges)[0] / len(rv), 1e-4, None)
            q_ = np.clip(np.histogram(cv, edges)[0] / len(cv), 1e-4, None)
            out[col] = (ks.statistic, ks.pvalue, float(np.sum((q_ - p_) * np.log(q_ / p_))))
    return out


def bench_drift(rows: int, numeric: int, categorical: int) -> dict[str, Any]:
    from mlgate.data.drift import compare
    from mlgate.data.settings import DriftRules

    t = time.perf_counter()
    ref, cur = drift_frames(rows, numeric, categorical)
    generated = time.perf_counter() - t
    gc.collect()
    t = time.perf_counter()
    checks, _ = compare(ref, cur, DriftRules(), "drift", "reference", "data")
    ml_t = time.perf_counter() - t
    t = time.perf_counter()
    loop = scipy_loop(ref, cur)
    sp_t = time.perf_counter() - t
    by_name = {c.name: c for c in checks}
    worst = max(abs(by_name[f"drift: {col}"].details["ks"] - loop[col][0])
                for col in ref.columns if col.startswith("x"))
    worst_psi = max(abs(by_name[f"drift: {col}"].details["psi"] - loop[col][2])
                    for col in ref.columns)
    return {"mlgate": ml_t, "scipy": sp_t, "speedup": sp_t / ml_t, "generate": generated,
            "max_ks_diff": worst, "max_psi_diff": worst_psi}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke sizes")
    parser.add_argument("--skip-drift", action="store_true")
    parser.add_argument("--skip-suite", action="store_true")
    args = parser.parse_args(argv)
    suite_rows, repeats = (100_000, 4) if args.quick else (1_000_000, 8)
    drift_rows = 200_000 if args.quick else 10_000_000
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_suite:
            s = bench_suite(suite_rows, repeats, Path(tmp))
            print(f"suite: 26 expectations on {suite_rows:,} rows x 10 columns "
                  f"(median of {repeats}): plain GX {s['gx']:.2f}s, mlgate {s['mlgate']:.2f}s, "
                  f"overhead {100 * s['overhead']:+.1f}% (goal < 10%)", flush=True)
    if not args.skip_drift:
        d = bench_drift(drift_rows, 40, 10)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        print(f"drift: {drift_rows:,} rows x 50 columns (40 numeric, 10 categorical): "
              f"scipy per-column loop {d['scipy']:.1f}s, mlgate {d['mlgate']:.1f}s, "
              f"speed-up {d['speedup']:.1f}x (goal >= 5x); max |KS diff| {d['max_ks_diff']:.2e}, "
              f"max |PSI diff| {d['max_psi_diff']:.2e}; peak RSS {peak:.1f} GiB "
              f"(data generation {d['generate']:.0f}s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
