"""Generate the inputs/outputs tables of docs/actions.md from the action.yml and workflow files.

``python -m tests.actions.docs`` rewrites the generated part of docs/actions.md (between the
BEGIN/END markers); tests/actions/test_docs.py fails when it is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.actions.lintkit import ROOT, action_files, load

DOC = ROOT / "docs" / "actions.md"
README = ROOT / "README.md"
DOCUMENTS = (DOC, README)  # both carry the same generated block
BEGIN = "<!-- BEGIN GENERATED: python -m tests.actions.docs -->"
END = "<!-- END GENERATED -->"
ACTION_ORDER = ["setup", "validate-data", "gate-model", "load-test", "register", "promote",
                "report"]


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(spec: dict[str, Any]) -> str:
    if "default" not in spec:
        return "*required*" if spec.get("required") else ""
    value = spec["default"]
    if isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`" if value != "" else '`""`'


def action_section(path: Path) -> str:
    meta = load(path)
    name = path.parent.name
    lines = [f"### `{name}`", "", _cell(meta.get("description", "")), "",
             f"`uses: mlgate-dev/mlgate/actions/{name}@v1`", "",
             "| input | default | description |", "| --- | --- | --- |"]
    for key, spec in (meta.get("inputs") or {}).items():
        lines.append(f"| `{key}` | {_default(spec)} | {_cell(spec.get('description', ''))} |")
    lines += ["", "| output | description |", "| --- | --- |"]
    for key, spec in (meta.get("outputs") or {}).items():
        lines.append(f"| `{key}` | {_cell(spec.get('description', ''))} |")
    return "\n".join(lines) + "\n"


def workflow_section(path: Path) -> str:
    call = load(path)["on"]["workflow_call"]
    lines = [f"### `{path.name}`", "",
             f"`uses: mlgate-dev/mlgate/.github/workflows/{path.name}@v1`", "",
             "| input | type | default | description |", "| --- | --- | --- | --- |"]
    for key, spec in (call.get("inputs") or {}).items():
        lines.append(f"| `{key}` | {spec.get('type', 'string')} | {_default(spec)} | "
                     f"{_cell(spec.get('description', ''))} |")
    lines += ["", "| output | description |", "| --- | --- |"]
    for key, spec in (call.get("outputs") or {}).items():
        lines.append(f"| `{key}` | {_cell(spec.get('description', ''))} |")
    return "\n".join(lines) + "\n"


def generated() -> str:
    actions = sorted(action_files(), key=lambda p: ACTION_ORDER.index(p.parent.name)
                     if p.parent.name in ACTION_ORDER else len(ACTION_ORDER))
    parts = ["## Reusable workflows", ""]
    for name in ("ml-pr-gate.yml", "ml-release.yml"):
        parts.append(workflow_section(ROOT / ".github" / "workflows" / name))
    parts += ["## Actions", ""]
    parts += [action_section(p) for p in actions]
    return BEGIN + "\n" + "\n".join(parts) + END


def current_block(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def main() -> int:
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        document.write_text(text.replace(current_block(text), generated()), encoding="utf-8")
        print(f"updated {document.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
