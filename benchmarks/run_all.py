"""`make bench`: run every benchmarks/bench_*.py in one go, each through its main(argv).

Pass extra arguments after `--` to every benchmark, e.g. `python benchmarks/run_all.py --quick`.
Each benchmark prints its figures; the recorded ones live in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    failures = 0
    for path in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {path.name} {' '.join(args)}", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        started = time.perf_counter()
        code = module.main(args) or 0
        print(f"=== {path.name}: exit {code} in {time.perf_counter() - started:.1f}s", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
