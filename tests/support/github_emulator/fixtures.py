"""pytest plugin: the ``github_emulator`` fixture (loaded by ``tests/conftest.py``).

The fixture starts a fresh emulator per test, points the GitHub environment variables at it
(``GITHUB_API_URL``, ``GITHUB_TOKEN``, ``GITHUB_REPOSITORY``) and, after the test, fails it if
any request or response did not validate against GitHub's OpenAPI description.
"""

from __future__ import annotations

from collections.abc import Iterator

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
