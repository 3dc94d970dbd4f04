"""Render :class:`~mlgate.result.GateResult` objects: markdown, JSON, JUnit XML, GitHub files.

This is the only place that formats results, so every door (terminal, job summary, PR comment,
check run) shows the same facts.
"""

from mlgate.report.json_report import read_json, write_json
from mlgate.report.junit import render_junit
from mlgate.report.markdown import render_markdown, render_terminal

__all__ = ["read_json", "render_junit", "render_markdown", "render_terminal", "write_json"]
