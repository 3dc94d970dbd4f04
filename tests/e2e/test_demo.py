"""`make demo` end to end: the bundled example goes through PR gates, release and production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repos import git

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    env = {**os.environ, "MLGATE_DEMO_DIR": str(demo_dir)}
    env.pop("GITHUB_ACTIONS", None)
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "run_demo.py")],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "demo: PASSED" in proc.stdout
    results = demo_dir / "churn" / ".mlgate" / "results"
    pr = json.loads((results / "pr" / "report.json").read_text())
    assert [g["gate"] for g in pr["gates"]] == ["data", "model", "load"]
    release = json.loads((results / "release" / "report.json").read_text())
    assert [g["gate"] for g in release["gates"]] == ["data", "model", "register", "promote"]
    # the ledger reached the bare origin: version, staging and production tags, and the notes
    origin = demo_dir / "origin.git"
    tags = git("tag", "--list", cwd=origin).splitlines()
    assert "churn@v0.1.0" in tags
    assert any(t.startswith("churn#staging#") for t in tags)
    assert any(t.startswith("churn#production#") for t in tags)
    assert git("for-each-ref", "refs/notes/mlgate", cwd=origin)
    # every ledger tag is SSH-signed, and the production entry verifies (signature included)
    for tag in [t for t in tags if t.startswith("churn")]:
        assert "-----BEGIN SSH SIGNATURE-----" in git("cat-file", "tag", tag, cwd=origin)
    assert "verify: PASS" in proc.stdout
    # the summary table and GTO's view are printed
    assert "release  promote" in proc.stdout
    assert "│ churn  │ v0.1.0" in proc.stdout
