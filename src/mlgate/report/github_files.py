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
from mlgate.report.text import plain_text
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
    results: list[GateResult], title: str, env: Mapping[str, str] | None = None,
    footer: str = "",
) -> None:
    """Append the markdown report to ``$GITHUB_STEP_SUMMARY``; ``footer`` is markdown a command
    adds after it (``mlgate report``'s link to the HTML report)."""
    target = (env if env is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(render_markdown(results, title) + footer)


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
            stream.write(f"{workflow_command(level, props, c.message or c.name)}\n")


def workflow_command(name: str, properties: list[str], message: str) -> str:
    """One ``::name props::message`` line, whatever ``message`` holds.

    The runner reads workflow commands line by line, so a newline in data would start a line
    of its own (``::add-mask::``, ``::stop-commands::``): line breaks are percent-encoded the
    way the runner decodes them, and the other control characters are made visible first.
    """
    props = f" {','.join(properties)}" if properties else ""
    return f"::{name}{props}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """A workflow-command message: ``%``, CR and LF percent-encoded, no other controls.

    A multi-line message keeps its lines (``%0A`` is what GitHub shows as a line break), every
    other line break (U+2028, NEL, ...) and control character is made harmless by
    :func:`plain_text`.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "%0A".join(
        plain_text(line).replace("%", "%25") for line in lines
    )


def _escape_property(text: str) -> str:
    return escape_data(plain_text(text)).replace(":", "%3A").replace(",", "%2C")


def report_paths(results_dir: Path, name: str) -> dict[str, Path]:
    return {
        "json": results_dir / f"{name}.json",
        "markdown": results_dir / f"{name}.md",
        "junit": results_dir / f"{name}.xml",
    }
