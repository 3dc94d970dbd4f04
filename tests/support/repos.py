"""Real git repositories for tests: a working clone with a bare repository as ``origin``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "churn"


def git(*args: str, cwd: Path, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def init_repo(path: Path, origin: Path | None = None, user: str = "Test User") -> Path:
    """``git init`` at ``path`` with a committer identity and (optionally) a bare origin."""
    path.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", "--initial-branch=main", cwd=path)
    git("config", "user.name", user, cwd=path)
    git("config", "user.email", f"{user.lower().replace(' ', '.')}@example.com", cwd=path)
    git("config", "commit.gpgsign", "false", cwd=path)
    git("config", "tag.gpgsign", "false", cwd=path)
    if origin is not None:
        if not origin.exists():
            git("init", "--quiet", "--bare", "--initial-branch=main", str(origin), cwd=path.parent)
        git("remote", "add", "origin", str(origin), cwd=path)
    return path


def commit_all(repo: Path, message: str, push: bool = False) -> str:
    git("add", "-A", cwd=repo)
    git("commit", "--quiet", "--allow-empty", "-m", message, cwd=repo)
    if push:
        git("push", "--quiet", "origin", "HEAD:main", cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def example_repo(tmp: Path, with_candidate: bool = True) -> Path:
    """A committed and pushed copy of examples/churn at ``tmp/churn`` (origin ``tmp/origin.git``).

    With ``with_candidate`` the candidate model is trained (full training data) first.
    """
    repo = tmp / "churn"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".mlgate", "candidate.skops"))
    init_repo(repo, origin=tmp / "origin.git")
    if with_candidate:
        train_candidate(repo, repo / "models" / "candidate.skops")
    commit_all(repo, "example churn repository", push=True)
    return repo


def train_candidate(repo: Path, out: Path, fraction: float = 1.0, seed: int = 0) -> Path:
    """Train the example model with the example's own train.py (imported, not shelled out)."""
    import importlib.util

    import pandas as pd
    import skops.io as sio

    spec = importlib.util.spec_from_file_location("example_train", repo / "train.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.train(pd.read_csv(repo / "data" / "train.csv"), fraction, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, out)
    return out


GITHUB_APPROVALS = "source: github                 # the run's environment reviews only"
LOCAL_APPROVALS = "source: local                  # outside GitHub: --approved-by"


def use_local_approvals(repo: Path) -> None:
    """Outside GitHub, production approvals come from ``--approved-by``: merge that policy
    (the example's own asks for GitHub environment reviews)."""
    config = repo / "mlgate.yaml"
    text = config.read_text()
    assert GITHUB_APPROVALS in text, "the example's production approvals changed"
    config.write_text(text.replace(GITHUB_APPROVALS, LOCAL_APPROVALS))
    commit_all(repo, "production approvals from --approved-by (no GitHub here)", push=True)
