"""pytest plugin: the ``github_emulator`` and ``pr_event`` fixtures (loaded by
``tests/conftest.py``).

The fixture starts a fresh emulator per test, points the GitHub environment variables at it
(``GITHUB_API_URL``, ``GITHUB_TOKEN``, ``GITHUB_REPOSITORY``) and, after the test, fails it if
any request or response did not validate against GitHub's OpenAPI description.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.github_emulator.server import GitHubEmulator


@pytest.fixture
def github_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubEmulator]:
    """A running GitHub API emulator for ``octo-org/churn``; env vars point at it."""
    emulator = GitHubEmulator().start()
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield emulator
    finally:
        emulator.stop()
    errors = list(emulator.validation_errors)
    assert not errors, "GitHub emulator saw requests/responses outside the OpenAPI spec:\n" + (
        "\n".join(errors[:20])
    )


EVENTS = Path(__file__).resolve().parents[2] / "fixtures" / "events"
PR_HEAD = "c0ffee" + "0" * 34  # the head commit of the pull request ``pr_event`` is about


@pytest.fixture
def pr_event(tmp_path: Path, github_emulator: GitHubEmulator,
             monkeypatch: pytest.MonkeyPatch) -> int:
    """A pull_request run: GitHub's example payload renumbered to PR #12 at ``PR_HEAD``, the
    pull request known to the emulator, and the run's environment pointing at both."""
    payload = json.loads((EVENTS / "pull_request.synchronize.json").read_text())
    payload["number"] = payload["pull_request"]["number"] = 12
    payload["pull_request"]["head"]["sha"] = PR_HEAD
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    github_emulator.add_pull(12, PR_HEAD)
    for key, value in {"GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": "pull_request",
                       "GITHUB_SHA": "f" * 40, "GITHUB_RUN_ID": "555",
                       "GITHUB_WORKFLOW": "ml-pr-gate"}.items():
        monkeypatch.setenv(key, value)
    return 12
