"""The files GitHub Actions reads from a step: outputs, job summary, and ``::error`` lines.

Writing these only when the variables are set keeps local runs clean, and lets every door
(composite action, reusable workflow, plain ``run:`` step) expose the same outputs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from mlgate.report.markdown import render_markdown
from mlgate.result import GateResult, Status


def write_step_outputs(outputs: Mapping[str, Any], env: Mapping[str, str] | None = None) -> None:
    """Append ``name=value`` (or a heredoc for multi-line values) to ``$GITHUB_OUTPUT``."""
    target = (env if env is not None else os.environ).get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as fh:
        for name, value in outputs.items():
            text = "" if value is None else str(value)
            if "\n" in text:
                delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
                fh.write(f"{name}<<{delimiter}\n{text}\n{delimiter}\n")
            else:
                fh.write(f"{name}={text}\n")


def write_step_summary(
    results: list[GateResult], title: str, env: Mapping[str, str] | None = None
) -> None:
    """Append the markdown report to ``$GITHUB_STEP_SUMMARY``."""
    target = (env if env is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(render_markdown(results, title))


def emit_annotations(
    results: list[GateResult], stream: TextIO, env: Mapping[str, str] | None = None
) -> None:
    """Print ``::error``/``::warning`` workflow commands for failed checks (in Actions only)."""
    if not (env if env is not None else os.environ).get("GITHUB_ACTIONS"):
        return
    for r in results:
        for c in r.checks:
            if c.status is Status.PASS:
                continue
            level = "warning" if c.status is Status.WARN else "error"
            props = [f"title={_escape_property(f'{r.gate}: {c.name}')}"]
            if c.location and c.location.get("file"):
                props.insert(0, f"file={_escape_property(str(c.location['file']))}")
                if c.location.get("line"):
                    props.insert(1, f"line={int(c.location['line'])}")
            stream.write(f"::{level} {','.join(props)}::{_escape_data(c.message or c.name)}\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def report_paths(results_dir: Path, name: str) -> dict[str, Path]:
    return {
        "json": results_dir / f"{name}.json",
        "markdown": results_dir / f"{name}.md",
        "junit": results_dir / f"{name}.xml",
    }
