"""The ``stub_server`` fixture: ``python -m mlgate.load.stub`` as a real HTTP endpoint that the
load and canary tests drive (options such as ``--delay``, ``--stall``, ``--error-every``)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def stub_server() -> Iterator[Callable[..., str]]:
    """Start stubs with options; yields a factory returning each one's URL. Every stub is
    stopped after the test."""
    procs: list[subprocess.Popen[str]] = []

    def start(*options: str) -> str:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlgate.load.stub", "--port", "0", *options],
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), url
        return url

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
