"""Fixtures shared by every test area. Area-specific ones live in tests/<area>/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.repos import example_repo

pytest_plugins = ["tests.support.github_emulator.fixtures", "tests.support.data_servers",
                  "tests.support.load_stub"]


@pytest.fixture(scope="session")
def _example_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained, committed copy of the example per session; tests get their own clone."""
    return example_repo(tmp_path_factory.mktemp("example-template"))


@pytest.fixture
def churn_repo(tmp_path: Path, _example_template: Path) -> Path:
    """A private copy of the example repo (git repo + bare origin, candidate model trained)."""
    import shutil

    target = tmp_path / "work"
    shutil.copytree(_example_template.parent, target, symlinks=True)
    repo = target / "churn"
    # The copied clone still points at the template's origin: repoint it at our copy.
    from tests.support.repos import git

    git("remote", "set-url", "origin", str(target / "origin.git"), cwd=repo)
    return repo


@pytest.fixture
def clean_github_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove GitHub Actions variables that would make mlgate write outputs or annotations."""
    for name in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV",
                 "GITHUB_TOKEN", "GITHUB_EVENT_PATH", "GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
