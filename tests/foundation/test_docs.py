"""README's generated config reference matches the schema the loader uses."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mlgate.config_reference import render_reference

ROOT = Path(__file__).resolve().parents[2]


def _update_docs_module():  # type: ignore[no-untyped-def]
    script = ROOT / "scripts" / "update_docs.py"
    spec = importlib.util.spec_from_file_location("update_docs", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_config_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _update_docs_module().updated_readme(readme) == readme, (
        "README.md is out of date: run .venv/bin/python scripts/update_docs.py"
    )


def test_reference_lists_every_top_level_key_with_a_description() -> None:
    reference = render_reference()
    for key in ("version", "project", "results_dir", "pipeline.pr", "data", "model", "load",
                "ledger", "github"):
        assert f"| `{key}` |" in reference
    for line in reference.splitlines()[2:]:
        assert not line.endswith("|  |"), f"option without a description: {line}"


def test_readme_shows_both_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_relative_links_in_docs_point_at_files() -> None:
    """Every relative link in README.md and docs/*.md names a file or directory that exists."""
    import re

    link = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in link.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
