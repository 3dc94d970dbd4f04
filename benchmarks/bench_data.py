"""Data gate benchmark, side by side with the peers, in one run.

1. The same 26-expectation GX suite on 1M rows x 10 columns, run by mlgate (suite JSON checked
   by mlgate, ephemeral context, results mapped to checks with example rows) and by plain GX
   calls (``ExpectationSuite(**json)``, ``batch.validate``). Goal: mlgate's overhead < 10%.
2. Drift on 10M rows x 50 columns (40 numeric, 10 categorical) by mlgate's vectorised
   statistics vs a per-column loop of scipy (``ks_2samp``, PSI over reference deciles with
   ``np.histogram``, ``chi2_contingency``). Goal: at least 5x faster.
3. Scale (issue 17), each measurement in a process of its own (peak RSS of that process):
   a. ``drift.compare`` on the same 10M x 50 frames by the code before issue 17 (``--before``,
      a git revision exported to the work directory) and now. Goal: under 5 s.
   b. The same data as Parquet files: drift reading both files vs reading the current file
      and a saved reference profile (``mlgate profile``), with the one-off profiling cost.
   c. mlgate (``mlgate validate-data``, reading the files) next to Evidently's
      ``DataDriftPreset`` on 1M x 50 Parquet files with five columns shifted by half a
      standard deviation: time, peak RSS, which columns each flags. Evidently runs in its own
      virtualenv (``benchmarks/.peers-venv``, created on first use; pandas < 3 because
      Evidently 0.7 does not import with pandas 3). Goal: mlgate at least 50x faster.

Parts 1 and 2 hand both sides the same in-memory DataFrame, so file parsing (identical pandas
code) is not timed. Run: ``.venv/bin/python benchmarks/bench_data.py`` (``--quick`` for a smoke
size; ``--part`` to run some parts alone).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
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


PEERS_VENV = ROOT / "benchmarks" / ".peers-venv"
PEER_PACKAGES = ["evidently", "pandas<3", "pyarrow"]
BEFORE = "84058e6"  # main when issue 17's drift work branched off


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(python: str | Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh process; its last stdout line is a JSON object."""
    proc = subprocess.run([str(python), __file__, "--child", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def peer_frames(rows: int, shifted: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """40 numeric (standard normal) and 10 categorical columns (12 levels); in the current
    data the first ``shifted`` numeric columns move by half a standard deviation."""
    rng = np.random.default_rng(5)
    frames = []
    for side in (0, 1):
        data = rng.standard_normal((40, rows))
        if side:
            data[:shifted] += 0.5
        frame = pd.DataFrame(data.T, columns=[f"x{i}" for i in range(40)], copy=False)
        levels = [f"c{j}" for j in range(12)]
        for i in range(10):
            frame[f"k{i}"] = pd.Categorical.from_codes(
                rng.integers(0, 12, rows).astype(np.int8), categories=levels)
        frames.append(frame)
    return frames[0], frames[1]


def run_child(name: str, args: list[str]) -> dict[str, Any]:
    """The measurements made in a process of their own (``--child NAME ARGS``)."""
    out: dict[str, Any] = {}
    if name == "compare":  # src rows: drift.compare on generated frames with that source tree
        src, rows = args[0], int(args[1])
        ours = (ROOT / "src").resolve()
        sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != ours]
        sys.path.insert(0, src)
        from mlgate.data import drift as drift_module
        from mlgate.data.drift import compare
        from mlgate.data.settings import DriftRules

        out["code"] = str(Path(drift_module.__file__).parent)

        ref, cur = drift_frames(rows, 40, 10)
        t, cpu = time.perf_counter(), time.process_time()
        checks, _ = compare(ref, cur, DriftRules(), "drift", "reference", "data")
        out["seconds"], out["cpu"] = time.perf_counter() - t, time.process_time() - cpu
        out["flagged"] = sorted(c.name for c in checks if c.status.value != "pass")
        if len(args) > 2:  # also: the reference profiled beforehand (what a saved profile gives)
            from mlgate.data.reference_profile import build

            profile = build(ref, summaries=False)
            t, cpu = time.perf_counter(), time.process_time()
            checks, _ = compare(profile, cur, DriftRules(), "drift", "reference", "data")
            out["profiled"] = {"seconds": time.perf_counter() - t,
                               "cpu": time.process_time() - cpu}
            out["profiled"]["same_flagged"] = out["flagged"] == sorted(
                c.name for c in checks if c.status.value != "pass")
    elif name == "write":  # rows dir: the drift frames as Parquet
        ref, cur = drift_frames(int(args[0]), 40, 10)
        ref.to_parquet(Path(args[1]) / "ref.parquet")
        cur.to_parquet(Path(args[1]) / "cur.parquet")
    elif name == "profile":  # ref out: what `mlgate profile` does, timed
        from mlgate.data.profile_command import write_profile

        t = time.perf_counter()
        write_profile(Path(args[0]), Path(args[1]), None, Path.cwd())
        out["seconds"] = time.perf_counter() - t
    elif name == "files":  # cur ref-or-profile: read the file(s), then drift.compare
        from mlgate.data.drift import compare
        from mlgate.data.reference_profile import load
        from mlgate.data.settings import DriftRules

        t, cpu = time.perf_counter(), time.process_time()
        if args[1].endswith(".json"):
            reference: Any = load(Path(args[1]))
            cur = pd.read_parquet(args[0], columns=list(reference.columns))
        else:
            reference = pd.read_parquet(args[1])
            cur = pd.read_parquet(args[0])
        out["read"] = time.perf_counter() - t
        t = time.perf_counter()
        checks, _ = compare(reference, cur, DriftRules(), "drift", "reference", "data")
        out["compare"] = time.perf_counter() - t
        out["seconds"] = out["read"] + out["compare"]
        out["cpu"] = time.process_time() - cpu
        out["flagged"] = sorted(c.name for c in checks if c.status.value != "pass")
    elif name == "mlgate":  # cur ref: the whole `mlgate validate-data` command
        from mlgate.cli import main as mlgate_main

        t, cpu = time.perf_counter(), time.process_time()
        report = Path(args[0]).with_name("mlgate-report.json")
        mlgate_main(["validate-data", "--data", args[0], "--reference", args[1], "--quiet",
                     "--json", str(report)])
        out["seconds"], out["cpu"] = time.perf_counter() - t, time.process_time() - cpu
        (gate,) = json.loads(report.read_text())["gates"]
        out["flagged"] = sorted(c["details"]["column"] for c in gate["checks"]
                                if c["name"].startswith("drift: ") and c["status"] != "pass"
                                and "column" in c.get("details", {}))
    elif name == "evidently":  # cur ref: DataDriftPreset on the two files
        from evidently import Report
        from evidently.presets import DataDriftPreset

        t, cpu = time.perf_counter(), time.process_time()
        ref, cur = pd.read_parquet(args[1]), pd.read_parquet(args[0])
        snapshot = Report([DataDriftPreset()]).run(cur, ref)
        metrics = snapshot.dict()["metrics"]
        out["seconds"], out["cpu"] = time.perf_counter() - t, time.process_time() - cpu
        flagged = []
        for m in metrics:
            config = m.get("config", {})
            if not str(config.get("type", "")).endswith("ValueDrift"):
                continue
            p_value = "p_value" in str(config.get("method", ""))
            value, threshold = float(m["value"]), float(config["threshold"])
            if (value < threshold) if p_value else (value >= threshold):
                flagged.append(str(config["column"]))
        out["flagged"] = sorted(flagged)
        import evidently

        out["version"] = evidently.__version__
    else:
        raise SystemExit(f"unknown child {name}")
    out["peak_mib"] = peak_mib()
    return out


def peers_python() -> Path:
    """The peers' virtualenv (created on first use, outside the project's environment)."""
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def bench_before_after(rows: int, work: Path, before: str) -> dict[str, Any]:
    old = work / f"src-{before}"
    if not old.exists():
        old.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", before, "src"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    return {"before": child(sys.executable, "compare", str(old / "src"), str(rows)),
            "after": child(sys.executable, "compare", str(ROOT / "src"), str(rows), "profiled")}


def bench_profile(rows: int, work: Path) -> dict[str, Any]:
    child(sys.executable, "write", str(rows), str(work))
    ref, cur, saved = work / "ref.parquet", work / "cur.parquet", work / "ref-profile.json"
    out = {"profile": child(sys.executable, "profile", str(ref), str(saved)),
           "without": child(sys.executable, "files", str(cur), str(ref)),
           "with": child(sys.executable, "files", str(cur), str(saved))}
    out["profile_kib"] = saved.stat().st_size / 1024
    out["parquet_mib"] = ref.stat().st_size / 2**20
    return out


def bench_peers(rows: int, work: Path, evidently: bool = True) -> dict[str, Any]:
    ref, cur = peer_frames(rows)
    ref.to_parquet(work / "peer-ref.parquet")
    cur.to_parquet(work / "peer-cur.parquet")
    del ref, cur
    gc.collect()
    files = [str(work / "peer-cur.parquet"), str(work / "peer-ref.parquet")]
    out = {"mlgate": child(sys.executable, "mlgate", *files)}
    if evidently:
        out["evidently"] = child(peers_python(), "evidently", *files)
    return out


def report_scale(part: str, r: dict[str, Any], rows: int) -> None:
    if part == "before-after":
        b, a = r["before"], r["after"]
        print(f"code before: {b['code']}, now: {a['code']}")
        print(f"drift.compare {rows:,} x 50 (in memory): before {b['seconds']:.1f}s "
              f"(CPU {b['cpu']:.1f}s, peak {b['peak_mib'] / 1024:.1f} GiB), now "
              f"{a['seconds']:.1f}s (CPU {a['cpu']:.1f}s, peak {a['peak_mib'] / 1024:.1f} GiB), "
              f"{b['seconds'] / a['seconds']:.1f}x; "
              f"same flagged checks: {b['flagged'] == a['flagged']}", flush=True)
        p = a["profiled"]
        print(f"drift.compare {rows:,} x 50 against a reference profiled beforehand (saved "
              f"profile): {p['seconds']:.1f}s (CPU {p['cpu']:.1f}s); same flagged checks: "
              f"{p['same_flagged']}", flush=True)
    elif part == "profile":
        w, c, p = r["without"], r["with"], r["profile"]
        print(f"drift from Parquet, {rows:,} x 50 ({r['parquet_mib']:.0f} MiB per file): "
              f"both files {w['seconds']:.1f}s (read {w['read']:.1f}s + drift "
              f"{w['compare']:.1f}s, CPU {w['cpu']:.1f}s, peak {w['peak_mib'] / 1024:.1f} GiB); "
              f"current file + profile {c['seconds']:.1f}s (read {c['read']:.1f}s + drift "
              f"{c['compare']:.1f}s, CPU {c['cpu']:.1f}s, peak {c['peak_mib'] / 1024:.1f} GiB); "
              f"profiling once {p['seconds']:.1f}s, "
              f"profile {r['profile_kib']:.0f} KiB; same flagged checks: "
              f"{w['flagged'] == c['flagged']}", flush=True)
    elif "evidently" not in r:
        m = r["mlgate"]
        print(f"peers, {rows:,} x 50, 5 columns shifted by 0.5 sd: mlgate validate-data "
              f"{m['seconds']:.1f}s (CPU {m['cpu']:.1f}s) / {m['peak_mib']:.0f} MiB; flagged "
              f"{m['flagged']} (Evidently not run)", flush=True)
    else:
        m, e = r["mlgate"], r["evidently"]
        print(f"peers, {rows:,} x 50, 5 columns shifted by 0.5 sd: mlgate validate-data "
              f"{m['seconds']:.1f}s (CPU {m['cpu']:.1f}s) / {m['peak_mib']:.0f} MiB, Evidently "
              f"{e['version']} DataDriftPreset {e['seconds']:.1f}s (CPU {e['cpu']:.1f}s) / "
              f"{e['peak_mib']:.0f} MiB: "
              f"{e['seconds'] / m['seconds']:.0f}x faster; flagged: mlgate {m['flagged']}, "
              f"Evidently {e['flagged']}; same: {m['flagged'] == e['flagged']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke sizes")
    parser.add_argument("--skip-drift", action="store_true")
    parser.add_argument("--skip-suite", action="store_true")
    parser.add_argument("--part", action="append",
                        choices=["suite", "drift", "before-after", "profile", "peers"],
                        help="run only these parts (repeatable; default: all)")
    parser.add_argument("--work", default="/tmp/mlgate-bench-data",
                        help="directory for the Parquet files (several GB; never in git)")
    parser.add_argument("--before", default=BEFORE, help="git revision of the 'before' code")
    parser.add_argument("--no-evidently", action="store_true",
                        help="peers part: measure mlgate only (Evidently takes ~10 minutes)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child[0], args.child[1:])))
        return 0
    parts = set(args.part or ["suite", "drift", "before-after", "profile", "peers"])
    if args.skip_drift:
        parts.discard("drift")
    if args.skip_suite:
        parts.discard("suite")
    suite_rows, repeats = (100_000, 4) if args.quick else (1_000_000, 8)
    drift_rows = 200_000 if args.quick else 10_000_000
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        if "suite" in parts:
            s = bench_suite(suite_rows, repeats, Path(tmp))
            print(f"suite: 26 expectations on {suite_rows:,} rows x 10 columns "
                  f"(median of {repeats}): plain GX {s['gx']:.2f}s, mlgate {s['mlgate']:.2f}s, "
                  f"overhead {100 * s['overhead']:+.1f}% (goal < 10%)", flush=True)
    if "drift" in parts:
        d = bench_drift(drift_rows, 40, 10)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        print(f"drift: {drift_rows:,} rows x 50 columns (40 numeric, 10 categorical): "
              f"scipy per-column loop {d['scipy']:.1f}s, mlgate {d['mlgate']:.1f}s, "
              f"speed-up {d['speedup']:.1f}x (goal >= 5x); max |KS diff| {d['max_ks_diff']:.2e}, "
              f"max |PSI diff| {d['max_psi_diff']:.2e}; peak RSS {peak:.1f} GiB "
              f"(data generation {d['generate']:.0f}s)", flush=True)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    peer_rows = 20_000 if args.quick else 1_000_000
    for part, bench in (("before-after", lambda: bench_before_after(drift_rows, work, args.before)),
                        ("profile", lambda: bench_profile(drift_rows, work)),
                        ("peers", lambda: bench_peers(peer_rows, work,
                                                      not args.no_evidently))):
        if part in parts:
            report_scale(part, bench(), peer_rows if part == "peers" else drift_rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
