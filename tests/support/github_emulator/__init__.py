"""The tests' GitHub REST API emulator (see :mod:`tests.support.github_emulator.server`)."""

from tests.support.github_emulator.server import Fault, GitHubEmulator, LoggedRequest, Reply
from tests.support.github_emulator.spec import Spec

__all__ = ["Fault", "GitHubEmulator", "LoggedRequest", "Reply", "Spec"]
