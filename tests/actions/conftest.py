"""Fixtures of the actions tests: a throw-away venv into which the `setup` action installs
mlgate from this checkout, for real (pip builds and installs the package)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.actions.harness import ROOT, ActionRun, Runner


@dataclass
class InstalledSetup:
    venv: Path
    run: ActionRun
    runner: Runner


@pytest.fixture(scope="session")
def setup_from_checkout(tmp_path_factory: pytest.TempPathFactory) -> InstalledSetup:
    """Run the `setup` action with `source: <this checkout>` into a fresh venv.

    The venv sees the project's already-installed dependencies through a .pth file (installing
    scikit-learn, pandas and Great Expectations from the index would take minutes); mlgate
    itself is built and installed by the action's own pip step. Workflows tests then reuse
    the venv as a restored cache (the `actions/cache` stand-in reports a hit).
    """
    base = tmp_path_factory.mktemp("setup")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    deps = next((ROOT / ".venv" / "lib").glob("python*/site-packages"))
    (site / "zz-mlgate-test-deps.pth").write_text(f"{deps}\n")
    runner = Runner(base)
    run = runner.run_action(ROOT / "actions" / "setup", {
        "source": str(ROOT), "python-version": "", "cache": "false", "venv": str(venv)})
    return InstalledSetup(venv, run, runner)
