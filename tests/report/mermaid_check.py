"""Run Mermaid's own parser (scripts/mermaid-check.mjs) on markdown from a test.

The parser is the npm package ``mermaid`` (package.json, installed by ``make node``); tests
that need it are marked :data:`needs_mermaid` and skip when node or the package is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "mermaid-check.mjs"
NODE_MODULES = ROOT / "node_modules"

needs_mermaid = pytest.mark.skipif(
    shutil.which("node") is None
    or not (NODE_MODULES / "mermaid").is_dir()
    or not (NODE_MODULES / "jsdom").is_dir(),
    reason="node or node_modules/mermaid missing (run `make node`)",
)

_LINE = re.compile(r"^.+ block (?P<n>\d+) \(line \d+\): (?P<verdict>ok|error) ?(?P<rest>.*)$")


@dataclass
class Checked:
    """What the parser said: the exit code and one (block number, ok, message) per block."""

    returncode: int
    blocks: list[tuple[int, bool, str]]
    output: str


def check(markdown: str, timeout: float = 120) -> Checked:
    done = subprocess.run(["node", str(SCRIPT)], input=markdown, capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout, check=False)
    blocks = []
    for line in done.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            blocks.append((int(m["n"]), m["verdict"] == "ok", m["rest"]))
    return Checked(done.returncode, blocks, done.stdout + done.stderr)
