"""`setup` action benchmark: cold install and cached restore, as on a runner.

The action runs through the test harness exactly as the runner runs a downloaded action: from a
copy of this checkout laid out as ``_actions/mlgate-dev/mlgate/SHA/`` with
``GITHUB_ACTION_PATH`` at its ``actions/setup``, with ``python-version: ""`` (the Python on
PATH stands in for actions/setup-python).

* **cold**: a fresh venv, no pip cache (``PIP_NO_CACHE_DIR``), pip allowed only a local
  directory holding the lock's wheels (``PIP_NO_INDEX``, ``PIP_FIND_LINKS``). That is a
  runner whose downloads are instant: venv creation, the locked build backend, building mlgate's
  wheel, the hash-checking install of every dependency. A real runner adds the download of
  those wheels from PyPI (their total size is printed, with one real download's time from
  here) and actions/setup-python (a few seconds from the runner's tool cache).
* **cached**: the venv is gone (a fresh runner) and comes back from the cache stand-in under
  the same key: plan, restore, check the record, put mlgate on PATH. The stand-in restores by
  hard links, so the script also measures what the real ``actions/cache`` restore costs
  besides its download: the size of the venv, and the time to extract it from a zstd tarball
  (the format actions/cache uses when zstd is installed, as on GitHub's hosted runners).

Run: ``.venv/bin/python benchmarks/bench_setup.py`` (``--runs N`` per figure, median;
``--quick`` one run each; ``--extras parquet`` to time another lock).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.actions.harness import ActionsCache, Runner, runner_layout  # noqa: E402

LOCKS = ROOT / "actions" / "setup" / "lock"
WHEELS = ROOT / "benchmarks" / ".data" / "setup-wheels"
GOAL_COLD, GOAL_CACHED = 60.0, 10.0
PHASE = re.compile(r"^[a-z][a-z' -]+: \d+\.\ds$")


def lock_for(extras: str) -> Path:
    names = [e.strip() for e in extras.split(",") if e.strip()]
    return LOCKS / ("base.txt" if not names else f"{names[0]}.txt" if len(names) == 1
                    else "all.txt")


def runner_python() -> str:
    found = shutil.which("python3", path=Runner(Path(tempfile.gettempdir())).base_env()["PATH"])
    assert found, "no python3 on PATH"
    return found


def download(lock: Path, dest: Path, *, runner: bool) -> float:
    """pip download of the lock's wheels (and the build lock's) into dest; seconds taken.

    ``runner``: as on a fresh runner, from PyPI itself (no pip configuration of this machine,
    no pip cache); otherwise with this machine's pip settings and cache (fetched once).
    """
    command = [runner_python(), "-m", "pip", "download", "-qq", "--disable-pip-version-check",
               "--require-hashes", "--only-binary", ":all:", "--dest", str(dest),
               "-r", str(lock), "-r", str(LOCKS / "build.txt")]
    env = {**os.environ,
           **({"PIP_NO_CACHE_DIR": "1", "PIP_CONFIG_FILE": os.devnull} if runner else {})}
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env)
    return time.perf_counter() - started


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()
               and not p.is_symlink()) / 1e6


def offline(wheels: Path) -> dict[str, str]:
    return {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels),
            "PIP_NO_CACHE_DIR": "1"}


def one_round(base: Path, tree: Path, wheels: Path, extras: str) -> tuple[float, float, Path]:
    """A cold install, then a cached restore on a fresh runner; (cold s, cached s, venv)."""
    cache = ActionsCache(base / "cache")
    venv = base / "home" / ".cache" / "mlgate" / "venv"
    inputs = {"python-version": "", "venv": str(venv), "extras": extras}
    workspace = base / "ws"
    workspace.mkdir()
    cold_runner = Runner(workspace, env=offline(wheels), cache=cache)
    started = time.perf_counter()
    run = cold_runner.run_action(tree / "actions" / "setup", inputs)
    cold = time.perf_counter() - started
    if not run.ok or run.outputs["cache-hit"] != "false":
        raise SystemExit("cold setup failed:\n" + "\n".join(cold_runner.log))
    for line in "\n".join(cold_runner.log).splitlines():
        if PHASE.match(line):  # install.py's "<what>: <seconds>s" after each command
            print(f"    {line}")
    kept = base / "venv-as-installed"
    shutil.copytree(venv, kept, symlinks=True)
    shutil.rmtree(base / "home")  # a fresh runner
    warm_runner = Runner(workspace, env=offline(wheels), cache=cache)
    started = time.perf_counter()
    run = warm_runner.run_action(tree / "actions" / "setup", inputs)
    cached = time.perf_counter() - started
    if not run.ok or run.outputs["cache-hit"] != "true":
        raise SystemExit("cached setup failed:\n" + "\n".join(warm_runner.log))
    return cold, cached, kept


def tarball_restore(venv: Path, work: Path) -> tuple[float, float] | None:
    """(compressed MB, extraction seconds) of the venv as a zstd tarball, or None without zstd."""
    if shutil.which("zstd") is None:
        return None
    archive = work / "cache.tzst"
    subprocess.run(["tar", "--use-compress-program", "zstd -T0", "-cf", str(archive), "-C",
                    str(venv.parent), venv.name], check=True)
    target = work / "restored"
    target.mkdir()
    started = time.perf_counter()
    subprocess.run(["tar", "--use-compress-program", "zstd -d", "-xf", str(archive), "-C",
                    str(target)], check=True)
    return archive.stat().st_size / 1e6, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run of each")
    parser.add_argument("--runs", type=int, default=3, help="rounds (median reported)")
    parser.add_argument("--extras", default="", help="extras input of the action")
    args, _ = parser.parse_known_args(argv)  # run_all passes every benchmark's flags
    runs = 1 if args.quick else max(1, args.runs)
    lock = lock_for(args.extras)
    wheels = WHEELS / lock.stem
    wheels.mkdir(parents=True, exist_ok=True)
    download(lock, wheels, runner=False)
    print(f"lock {lock.relative_to(ROOT)} + build.txt: {len(list(wheels.glob('*.whl')))} "
          f"wheels, {size_mb(wheels):.0f} MB to download on a runner")
    with tempfile.TemporaryDirectory(prefix="bench-setup-download-") as tmp:
        seconds = download(lock, Path(tmp), runner=True)
        print(f"one real download of them from PyPI, no pip cache: {seconds:.1f}s")
    colds, cacheds = [], []
    with tempfile.TemporaryDirectory(prefix="bench-setup-") as tmp:
        base = Path(tmp)
        tree = runner_layout(base / "runner", ref="f" * 40)
        venv = None
        for index in range(runs):
            round_dir = base / f"round{index}"
            round_dir.mkdir()
            cold, cached, venv = one_round(round_dir, tree, wheels, args.extras)
            colds.append(cold)
            cacheds.append(cached)
            print(f"round {index + 1}: cold {cold:.1f}s, cached {cached:.2f}s", flush=True)
        assert venv is not None
        venv_mb = size_mb(venv)
        tarball = tarball_restore(venv, base)
    cold, cached = statistics.median(colds), statistics.median(cacheds)
    print(f"\ncold setup (fresh venv, no pip cache, local wheels): {cold:.1f}s median of "
          f"{runs} {sorted(round(c, 1) for c in colds)}; goal < {GOAL_COLD:.0f}s on a runner")
    print(f"cached setup (venv restored by the stand-in): {cached:.2f}s median; "
          f"goal < {GOAL_CACHED:.0f}s")
    print(f"venv: {venv_mb:.0f} MB" + (
        f"; as a zstd tarball {tarball[0]:.0f} MB, extracted in {tarball[1]:.1f}s"
        if tarball else "; zstd not installed: tarball restore not measured"))
    return 0 if cold < GOAL_COLD and cached < GOAL_CACHED else 1


if __name__ == "__main__":
    raise SystemExit(main())
