"""Real git repositories for tests: a working clone with a bare repository as ``origin``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE = EXAMPLES / "churn"


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


def example_repo(tmp: Path, with_candidate: bool = True, name: str = "churn") -> Path:
    """A committed and pushed copy of ``examples/NAME`` at ``tmp/NAME`` (origin
    ``tmp/origin.git``); churn by default.

    With ``with_candidate`` the candidate model is trained (full training data) first.
    """
    repo = tmp / name
    shutil.copytree(EXAMPLES / name, repo,
                    ignore=shutil.ignore_patterns(".mlgate", "candidate.skops", "__pycache__"))
    init_repo(repo, origin=tmp / "origin.git")
    if with_candidate:
        train_candidate(repo, repo / "models" / "candidate.skops")
    commit_all(repo, f"example {name} repository", push=True)
    return repo


def train_candidate(repo: Path, out: Path, fraction: float = 1.0, seed: int = 0) -> Path:
    """Train the example model with the example's own train.py (imported, not shelled out):
    its ``train(data, fraction, seed)``, saved by its ``save(model, path)`` when it has one.

    Whatever the script put on ``sys.path`` or imported from the repository (an example's own
    ``src/features.py``) is taken back afterwards, so this process does not keep project code
    that only ``model.code_paths`` should make importable.
    """
    import importlib.util
    import sys

    import pandas as pd
    import skops.io as sio

    path_before = list(sys.path)
    modules_before = set(sys.modules)
    try:
        spec = importlib.util.spec_from_file_location("example_train", repo / "train.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.train(pd.read_csv(repo / "data" / "train.csv"), fraction, seed)
        out.parent.mkdir(parents=True, exist_ok=True)
        save = getattr(module, "save", None)
        if save is not None:
            save(model, out)
        else:
            sio.dump(model, out)
    finally:
        sys.path[:] = path_before
        root = repo.resolve()
        for name in set(sys.modules) - modules_before:
            file = getattr(sys.modules[name], "__file__", None)
            if file and Path(file).resolve().is_relative_to(root):
                del sys.modules[name]
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


def private_copy(source: Path, target: Path) -> Path:
    """A copy of a template repository ``source`` (its directory holds the repository and its
    bare ``origin.git``) at ``target``, its origin pointing at the copied bare repository, so
    a test may push without touching the template other tests copy."""
    shutil.copytree(source.parent, target, symlinks=True)
    repo = target / source.name
    git("remote", "set-url", "origin", str(target / "origin.git"), cwd=repo)
    return repo
