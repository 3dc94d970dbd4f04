"""Fixtures of the actions tests.

``setup_from_checkout``: a throw-away venv that the `setup` action accepts as its own for this
checkout (fast: the dependencies are the project's). ``lock_wheelhouse``: the wheels of the
action's lock, fetched once per session, so that tests/actions/test_setup.py runs the action's
real, hash-checked install offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.actions.harness import ROOT, ActionRun, Runner

SETUP = ROOT / "actions" / "setup"
LOCKS = SETUP / "lock"


@dataclass
class InstalledSetup:
    venv: Path
    run: ActionRun
    runner: Runner


def runner_python(runner: Runner) -> str:
    """The python3 the `setup` action finds on the runner's PATH (with python-version: "")."""
    found = shutil.which("python3", path=runner.base_env()["PATH"])
    assert found, "no python3 on PATH"
    return found


def plan_setup(runner: Runner, env: dict[str, str]) -> dict[str, str]:
    """Run only the action's plan step (install.py plan) as the action would, for its outputs."""
    python = runner_python(runner)
    outputs = runner.temp / "plan-outputs"
    outputs.write_text("")
    proc_env = {**runner.base_env(), **env, "GITHUB_ACTION_PATH": str(SETUP),
                "GITHUB_OUTPUT": str(outputs)}
    subprocess.run([python, str(SETUP / "install.py"), "plan", python], env=proc_env,
                   check=True, capture_output=True, text=True)
    return dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)


@pytest.fixture(scope="session")
def setup_from_checkout(tmp_path_factory: pytest.TempPathFactory) -> InstalledSetup:
    """A venv holding mlgate built from this checkout, which `setup` takes as restored.

    The action's real install (every dependency from the lock, hash-checked) needs a minute and
    the lock's wheels: tests/actions/test_setup.py runs it (slow). For the many tests that only
    need mlgate installed the way the action leaves it, this venv sees the project's
    already-installed dependencies through a .pth file, pip builds and installs mlgate itself
    from this checkout (no dependencies), and the record `setup` keeps in the venv
    (mlgate-setup.json) carries the cache key that the action's own plan step computes for
    this checkout, Python and the default inputs. So `setup` (with this `venv` and
    python-version: "") treats it as a cache hit, as workflow tests need.
    """
    base = tmp_path_factory.mktemp("setup")
    venv = base / "venv"
    runner = Runner(base)
    subprocess.run([runner_python(runner), "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    deps = next((ROOT / ".venv" / "lib").glob("python*/site-packages"))
    (site / "zz-mlgate-test-deps.pth").write_text(f"{deps}\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", "--no-deps", str(ROOT)], check=True)
    plan = plan_setup(runner, {"MLGATE_VENV": str(venv)})
    record = {"key": plan["key"], "mode": plan["mode"], "root": plan["root"],
              "version": plan["expect"], "note": "test fixture: dependencies from .venv"}
    (venv / "mlgate-setup.json").write_text(json.dumps(record))
    run = runner.run_action(SETUP, {"python-version": "", "venv": str(venv)})
    assert run.ok, "\n".join(runner.log)
    return InstalledSetup(venv, run, runner)


@pytest.fixture(scope="session")
def lock_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheels of base.txt and build.txt for the runner's Python, downloaded once.

    ``pip download --require-hashes --only-binary :all:`` from the index (or pip's cache);
    the action then installs from this directory with PIP_NO_INDEX, as it would from PyPI.
    """
    dest = tmp_path_factory.mktemp("wheelhouse")
    python = runner_python(Runner(dest))
    proc = subprocess.run(
        [python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--require-hashes", "--only-binary", ":all:", "--dest", str(dest),
         "-r", str(LOCKS / "base.txt"), "-r", str(LOCKS / "build.txt")],
        capture_output=True, text=True, check=False, timeout=1200)
    if proc.returncode != 0 and "Could not" in proc.stderr and "connect" in proc.stderr.lower():
        pytest.skip(f"the package index cannot be reached to fetch the lock's wheels: "
                    f"{proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr
    return dest


def offline_pip(wheelhouse: Path) -> dict[str, str]:
    """pip settings of a run that may only install from the wheelhouse (no index, no cache,
    no pip configuration of this machine)."""
    return {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheelhouse), "PIP_NO_CACHE_DIR": "1"}
