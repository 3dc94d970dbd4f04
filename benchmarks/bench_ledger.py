"""Ledger read speed: ``mlgate status`` vs ``gto show`` on one repository with many tags.

Builds a repository (one ``git fast-import``, then ``git pack-refs --all`` as a clone has
them) holding ARTIFACTS artifacts, each with version tags on their own commits and stage
assignments (staging/production, with counters), all annotated tags carrying a JSON record
like mlgate writes. Then times both tools as a user runs them (a fresh process each time) and
checks that they agree on which version is in which stage.

    .venv/bin/python benchmarks/bench_ledger.py            # 10,000 tags, 100 artifacts
    .venv/bin/python benchmarks/bench_ledger.py --quick    # 400 tags, 10 artifacts
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def build_repo(path: Path, artifacts: int, tags_per_artifact: int) -> int:
    """Write the repository with fast-import; returns the number of tags."""
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(path)], check=True)
    versions = max(1, tags_per_artifact * 2 // 5)
    assigns = tags_per_artifact - versions
    t0 = 1_700_000_000
    out: list[str] = []
    for c in range(versions):
        payload = f"model bytes {c}\n"
        out += [f"blob\nmark :{c + 1}\ndata {len(payload)}\n{payload}"]
    for c in range(versions):
        msg = f"commit {c}\n"
        out += [
            f"commit refs/heads/main\nmark :{10_000 + c}\n"
            f"author Bench <bench@example.com> {t0 + c} +0000\n"
            f"committer Bench <bench@example.com> {t0 + c} +0000\n"
            f"data {len(msg)}\n{msg}"
            + (f"from :{10_000 + c - 1}\n" if c else "")
            + f"M 100644 :{c + 1} models/model.bin\n"
        ]
    total = 0
    clock = t0 + versions
    for a in range(artifacts):
        name = f"model-{a:03d}"
        for v in range(versions):
            clock += 1
            out.append(_tag(f"{name}@v1.{v}.0", 10_000 + v, clock,
                            {"event": "register", "version": f"v1.{v}.0"}))
            total += 1
        for n in range(1, assigns + 1):
            clock += 1
            v = min(versions - 1, (n - 1) // 2)
            stage = "staging" if n % 2 else "production"
            out.append(_tag(f"{name}#{stage}#{n}", 10_000 + v, clock,
                            {"event": "assign", "version": f"v1.{v}.0", "stage": stage}))
            total += 1
    stream = "\n".join(out) + "\n"
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=stream.encode(),
                   check=True)
    subprocess.run(["git", "-C", str(path), "checkout", "--quiet", "main"], check=True)
    return total


def _tag(name: str, mark: int, when: int, record: dict[str, str]) -> str:
    body = json.dumps({"format": "mlgate.ledger/v1", **record}, indent=2)
    msg = f"{name}\n\n{body}\n"
    return (f"tag {name}\nfrom :{mark}\ntagger Bench <bench@example.com> {when} +0000\n"
            f"data {len(msg.encode())}\n{msg}")


def timed(cmd: list[str], runs: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
        out = proc.stdout
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke size")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (median)")
    args = parser.parse_args(argv)
    artifacts, per = (10, 40) if args.quick else (100, 100)
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-ledger-") as tmp:
        repo = Path(tmp) / "registry"
        start = time.perf_counter()
        total = build_repo(repo, artifacts, per)
        print(f"built {total} tags for {artifacts} artifacts in "
              f"{time.perf_counter() - start:.1f}s")
        result = Path(tmp) / "status.json"
        loose, _ = timed([str(BIN / "mlgate"), "status", "--repo", str(repo), "--quiet"],
                         args.runs)
        # A clone (and every `git gc`) keeps tags in packed-refs: the normal state to compare.
        subprocess.run(["git", "-C", str(repo), "pack-refs", "--all"], check=True)
        ours, _ = timed([str(BIN / "mlgate"), "status", "--repo", str(repo), "--quiet",
                         "--json", str(result)], args.runs)
        theirs, gto_out = timed([str(BIN / "gto"), "show", "-r", str(repo), "--json"],
                                max(1, args.runs if args.quick else 1))
        mine = json.loads(result.read_text())["gates"][0]["data"]["artifacts"]
        shown = json.loads(gto_out)
        disagree = [n for n, s in shown.items()
                    if s["stage"] != mine[n]["stages"] or s["version"] != mine[n]["latest"]]
        print(f"mlgate status: {ours:.3f}s   gto show: {theirs:.3f}s   "
              f"ratio: {theirs / ours:.1f}x   agree on {len(shown) - len(disagree)}/"
              f"{len(shown)} artifacts")
        print(f"(mlgate status before `git pack-refs`, 10,000 loose tag files: {loose:.3f}s)")
        if disagree:
            print(f"disagreement on: {', '.join(disagree[:5])}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
