"""Benchmark the Spark engine of the data gate against the pandas engine.

``drift``: 10M rows x 50 columns (40 float64, 10 text categories), reference and shifted
current data as Parquet. Each step in its own process, timed, with the peak memory and the CPU
time of the process tree (Spark's JVM is a child of Python): the pandas engine profiling the
reference and comparing (``drift.compare`` on frames; it saves the profile), the pandas engine
with that saved profile (reads only the current data), and the Spark engine with the same saved
profile (counts the current data in the JVM); then the statistics of the engines compared.

``big``: a Parquet directory larger than this machine's memory (written in chunks with pyarrow,
never held in memory) gated by ``mlgate validate-data --engine spark`` against a 1M-row
reference; then the pandas engine on the same data: mlgate refuses a directory, and pandas'
own ``read_parquet`` under an address-space limit of the available memory fails. ``--reuse
DIR`` takes ``DIR/big`` (a directory of part files) and ``DIR/big-ref.parquet`` when both exist
instead of writing them (and never deletes them).

    python benchmarks/bench_spark.py drift [--rows N]
    python benchmarks/bench_spark.py big [--gib 40] [--keep] [--reuse DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
NUMERIC, CATEGORICAL = 40, 10
LEVELS = np.array([f"c{j}" for j in range(12)])
CHUNK = 500_000


def write_table(path: Path, rows: int, shift: float, seed: int, numeric: int = NUMERIC,
                categorical: int = CATEGORICAL, shifted: int | None = None,
                files: int = 1) -> None:
    """Random data written chunk by chunk (the whole table never sits in memory).

    ``shifted`` columns (default all) get ``shift`` added; one category disappears from the
    current data when ``shift`` is non-zero. ``files`` > 1 writes a directory of part files.
    """
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(numeric)] + [f"k{i}" for i in range(categorical)]
    per_file = -(-rows // files)
    written = 0
    for f in range(files):
        target = path / f"part-{f:05d}.parquet" if files > 1 else path
        target.parent.mkdir(parents=True, exist_ok=True)
        count = min(per_file, rows - written)
        with pq.ParquetWriter(target, pa.schema(
                [(n, pa.float64()) for n in names[:numeric]]
                + [(n, pa.string()) for n in names[numeric:]]), compression="none") as out:
            done = 0
            while done < count:
                n = min(CHUNK, count - done)
                cols: list[Any] = []
                for i in range(numeric):
                    x = rng.standard_normal(n)
                    if shifted is None or i < shifted:
                        x += shift
                    cols.append(pa.array(x))
                for _ in range(categorical):
                    codes = rng.integers(0, 12 - (shift > 0), n)
                    cols.append(pa.array(LEVELS[codes]))
                out.write_table(pa.Table.from_arrays(cols, names=names))
                done += n
        written += count


class TreePeak:
    """Peak summed RSS of a process and all its descendants, sampled every 0.2 s, and their
    CPU time (user + system, the last sample of each process: a shared machine's wall time
    says little on its own)."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
                        times = p.cpu_times()
                        self.cpu[p.pid] = times.user + times.system
                self.peak = max(self.peak, total)
            except psutil.Error:
                return
            time.sleep(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def timed(cmd: list[str], env: dict[str, str] | None = None,
          preexec: Any = None) -> dict[str, Any]:
    """Run ``cmd``; wall time, exit code, peak tree RSS and the last lines of its output."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, preexec_fn=preexec, cwd=ROOT)
    peak = TreePeak(proc.pid)
    out, _ = proc.communicate()
    top = peak.stop()
    return {"seconds": round(time.perf_counter() - start, 1), "rc": proc.returncode,
            "cpu_seconds": round(sum(peak.cpu.values()), 1),
            "peak_gib": round(top / 2**30, 2), "tail": out.strip().splitlines()[-3:],
            "output": out}


DRIFT_CHILD = r"""
import json, sys, time
from pathlib import Path
from mlgate.data.settings import DriftRules
from mlgate.data import reference_profile as rp
step, ref, cur, profile_file, master = sys.argv[1:6]
start = time.perf_counter()
if step == "pandas":  # the reference profiled in the run, as without a saved profile
    from mlgate.data.drift import compare
    from mlgate.data.loading import load_frame
    profile = rp.build(load_frame(ref), summaries=False)
    checks, _ = compare(profile, load_frame(cur), DriftRules(), "drift", "ref", "cur")
elif step == "pandas-profile":  # a saved profile: only the current data is read
    from mlgate.data.drift import compare
    from mlgate.data.loading import load_frame
    checks, _ = compare(rp.load(Path(profile_file)), load_frame(cur), DriftRules(), "drift",
                        "ref", "cur")
else:  # Spark with the same saved profile
    from mlgate.data.spark.drift import compare
    from mlgate.data.spark.reading import read_frame
    from mlgate.data.spark.session import get_session
    spark = get_session(master, {"spark.driver.memory": "6g"})
    ready = time.perf_counter()
    print("session start", round(ready - start, 1), "s", file=sys.stderr)
    checks, _ = compare(rp.load(Path(profile_file)), read_frame(spark, cur), DriftRules(),
                        "drift", "ref", "cur")
took = time.perf_counter() - start
if step == "pandas":  # saved for the next steps, after the clock stopped
    from mlgate.provenance import file_input
    profile.sha256, profile.path = file_input(Path(ref))["sha256"], ref
    rp.save(profile, Path(profile_file))
print("RESULT " + json.dumps({"seconds": took, "checks": [
    {"name": c.name, "status": c.status.value, "value": c.value,
     "details": {k: v for k, v in c.details.items() if k in ("ks", "psi", "js", "chi2",
                 "ks_resolution", "n_reference", "n_data")}} for c in checks]}))
"""
STEPS = ("pandas", "pandas-profile", "spark")


def bench_drift(rows: int, master: str, workdir: Path) -> dict[str, Any]:
    ref, cur = workdir / "ref.parquet", workdir / "cur.parquet"
    profile = workdir / "ref-profile.json"
    t = time.perf_counter()
    write_table(ref, rows, 0.0, seed=1)
    write_table(cur, rows, 0.02, seed=2)
    print(f"wrote 2 x {rows:,} rows in {time.perf_counter() - t:.0f} s", flush=True)
    env = {"PYTHONPATH": str(ROOT / "src")}
    out: dict[str, Any] = {"rows": rows, "columns": NUMERIC + CATEGORICAL}
    for step in STEPS:
        run = timed([sys.executable, "-c", DRIFT_CHILD, step, str(ref), str(cur), str(profile),
                     master], env)
        result = next((json.loads(line[7:]) for line in run["output"].splitlines()
                       if line.startswith("RESULT ")), None)
        out[step] = {"process_seconds": run["seconds"], "cpu_seconds": run["cpu_seconds"],
                     "peak_gib": run["peak_gib"], "rc": run["rc"],
                     "drift_seconds": round(result["seconds"], 1) if result else None}
        out[f"{step}_checks"] = result["checks"] if result else run["tail"]
        print(step, {k: v for k, v in out[step].items()}, flush=True)
    out["agreement"] = agreement(out["pandas_checks"], out["spark_checks"])
    return out


def agreement(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, Any]:
    """Largest statistic differences and verdict disagreements between the two engines."""
    by = {c["name"]: c for c in b}
    diff: dict[str, float] = {}
    verdicts = 0
    resolution = 0.0
    for c in a:
        other = by.get(c["name"])
        if other is None:
            verdicts += 1
            continue
        verdicts += c["status"] != other["status"]
        resolution = max(resolution, float(other["details"].get("ks_resolution", 0) or 0))
        for key in ("ks", "psi", "js", "chi2"):
            if key in c["details"] and key in other["details"]:
                d = abs(float(c["details"][key]) - float(other["details"][key]))
                diff[key] = max(diff.get(key, 0.0), d)
    return {"max_abs_diff": diff, "verdicts_differing": verdicts,
            "spark_max_ks_resolution": resolution, "checks": len(a)}


def bench_big(gib: float, master: str, workdir: Path, keep: bool,
              reuse: Path | None = None) -> dict[str, Any]:
    numeric = 50
    rows = int(gib * 2**30 / (8 * numeric))
    files = max(2, rows // 2_000_000)  # always a directory of part files
    data, ref = workdir / "big", workdir / "big-ref.parquet"
    t = time.perf_counter()
    if reuse is not None and (reuse / "big").is_dir() and (reuse / "big-ref.parquet").is_file():
        data, ref, keep = reuse / "big", reuse / "big-ref.parquet", True  # never deleted
        parts = [p for p in data.iterdir() if p.suffix == ".parquet"]
        files = len(parts)
        rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
        print(f"reusing {data} ({files} files, {rows:,} rows) and {ref}", flush=True)
    else:
        write_table(data, rows, 0.5, seed=3, numeric=numeric, categorical=0, shifted=5,
                    files=files)
        write_table(ref, 1_000_000, 0.0, seed=4, numeric=numeric, categorical=0)
    written = time.perf_counter() - t
    on_disk = sum(p.stat().st_size for p in data.iterdir())
    print(f"{'reused' if keep and reuse else 'wrote'} {rows:,} rows x {numeric} float64 "
          f"({rows * numeric * 8 / 2**30:.1f} GiB in "
          f"memory, {on_disk / 2**30:.1f} GiB on disk, {files} files) in {written:.0f} s",
          flush=True)
    config = workdir / "mlgate.yaml"
    config.write_text(json.dumps({"version": 1, "project": "bench", "data": {
        "path": str(data), "reference": str(ref), "engine": "spark",
        "contract": {"columns": [{"name": "x0", "dtype": "float", "nullable": False}]},
        "spark": {"master": master, "config": {"spark.driver.memory": "6g"}}}}))
    out: dict[str, Any] = {"rows": rows, "columns": numeric,
                           "in_memory_gib": round(rows * numeric * 8 / 2**30, 1),
                           "on_disk_gib": round(on_disk / 2**30, 1), "files": files,
                           "write_seconds": round(written), "machine_gib":
                           round(psutil.virtual_memory().total / 2**30, 1)}
    report = workdir / "big-report.json"
    spark = timed([sys.executable, "-m", "mlgate", "validate-data", "--config", str(config),
                   "--quiet", "--json", str(report)], {"PYTHONPATH": str(ROOT / "src")})
    out["spark"] = {k: spark[k] for k in ("seconds", "cpu_seconds", "rc", "peak_gib", "tail")}
    if report.is_file():  # which drift checks did not pass (x0-x4 are the shifted columns)
        (gate,) = json.loads(report.read_text())["gates"]
        out["spark"]["not_passed"] = sorted(c["name"] for c in gate["checks"]
                                            if c["status"] != "pass")
    print("spark", out["spark"], flush=True)
    refused = timed([sys.executable, "-m", "mlgate", "validate-data", "--data", str(data),
                     "--reference", str(ref), "--engine", "pandas", "--quiet"],
                    {"PYTHONPATH": str(ROOT / "src")})
    out["pandas_engine"] = {k: refused[k] for k in ("seconds", "rc", "tail")}
    limit = int(psutil.virtual_memory().available * 0.8)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    attempt = timed([sys.executable, "-c",
                     f"import pandas as pd; pd.read_parquet({str(data)!r})"], preexec=cap)
    out["pandas_read_parquet"] = {k: attempt[k] for k in ("seconds", "rc", "peak_gib")}
    out["pandas_read_parquet"]["limit_gib"] = round(limit / 2**30, 1)
    out["pandas_read_parquet"]["error"] = next(
        (line for line in reversed(attempt["output"].splitlines()) if "Error" in line), "")
    print("pandas", out["pandas_engine"], out["pandas_read_parquet"], flush=True)
    if not keep:
        shutil.rmtree(data, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="drift", choices=("drift", "big"),
                        help="drift (default; what `make bench` runs) or big")
    parser.add_argument("--quick", action="store_true",
                        help="drift on 200,000 rows: a smoke run (as `make bench -- --quick`)")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--gib", type=float, default=40.0,
                        help="in-memory size of the big table (float64 values)")
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--workdir", help="where the data go (default: a new temp directory)")
    parser.add_argument("--keep", action="store_true", help="keep the big table")
    parser.add_argument("--reuse", metavar="DIR",
                        help="big: use DIR/big and DIR/big-ref.parquet when both exist")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="mlgate-bench-spark-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.what == "drift":
            result = bench_drift(200_000 if args.quick else args.rows, args.master, workdir)
        else:
            result = bench_big(args.gib, args.master, workdir, args.keep,
                               Path(args.reuse) if args.reuse else None)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    text = json.dumps(result, indent=2, default=str)
    if args.json:
        Path(args.json).write_text(text)
    print(json.dumps({k: v for k, v in result.items() if not k.endswith("_checks")},
                     indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
