"""``mlgate init``: add mlgate's workflows and a starter mlgate.yaml to a repository.

The workflows are the starter templates of ``pipeline_templates/`` (self-contained: they pin
third-party actions to commit SHAs and mlgate to a version, so they pass actionlint, GitHub's
workflow schema and zizmor as written), or, with ``--uses REF``, short callers of mlgate's
reusable workflows at REF. The callers pass no mlgate version: the reusable workflows install
mlgate, hash-locked, from the very commit REF names, so REF alone pins everything. Nothing is
overwritten without ``--force``, and nothing is written at all when one of the files is
refused.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
from pathlib import Path
from string import Template

from mlgate import __version__
from mlgate.errors import InputError
from mlgate.resources import shipped_dir
from mlgate.result import CheckResult, GateResult, Status

REPOSITORY = "mlgate-dev/mlgate"
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SHA = re.compile(r"^[0-9a-f]{40}$")

# target path in the repository -> template file in pipeline_templates/
TEMPLATES = {
    ".github/workflows/ml-pr.yml": "mlgate-pr.yml",
    ".github/workflows/ml-release.yml": "mlgate-release.yml",
    "mlgate.yaml": "config/mlgate.yaml",
}

_CALLER_PR = """\
# mlgate pull-request gate: calls mlgate's reusable workflow (written by `mlgate init`).
name: mlgate PR gate
on:
  pull_request:
    branches: [${branch}]
permissions: {}
jobs:
  gate:
    uses: ${repository}/.github/workflows/ml-pr-gate.yml@${ref}${comment}
    permissions: {contents: read, pull-requests: write, checks: write, statuses: write}
"""

_CALLER_RELEASE = """\
# mlgate release: calls mlgate's reusable workflow (written by `mlgate init`). Give the
# `production` environment required reviewers in the repository settings.
name: mlgate release
on:
  push:
    branches: [${branch}]
permissions: {}
jobs:
  release:
    uses: ${repository}/.github/workflows/ml-release.yml@${ref}${comment}
    permissions: {contents: write, deployments: write, actions: read}
    with:
      model: ${model}
      artifact: models/candidate.skops
"""


def templates_dir() -> Path:
    """The starter templates: packaged in the wheel, or the source tree's pipeline_templates/."""
    return shipped_dir("pipeline_templates")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``mlgate init`` to the ``mlgate`` parser."""
    parser = sub.add_parser(
        "init",
        parents=[common],
        help="write mlgate's workflows and a starter mlgate.yaml into a repository",
        description=(
            "Write .github/workflows/ml-pr.yml, .github/workflows/ml-release.yml and a starter "
            "mlgate.yaml. Existing files are left alone (exit 2) unless --force is given."
        ),
    )
    parser.add_argument("--dir", default=".", help="repository root (default: .)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument(
        "--model",
        help="model name for mlgate.yaml `project` and the ledger tags "
        "(default: the directory's name)",
    )
    parser.add_argument(
        "--branch",
        help="branch the workflows run on (default: the repository's current branch, or main)",
    )
    parser.add_argument(
        "--uses",
        metavar="REF",
        help=f"write short callers of {REPOSITORY}'s reusable workflows at REF (a release tag "
        "or, to satisfy SHA-pinning audits, a commit SHA) instead of self-contained workflows",
    )
    parser.set_defaults(handler=run_init)


def run_init(args: argparse.Namespace) -> GateResult:
    root = Path(args.dir)
    if not root.is_dir():
        raise InputError("not a directory", f"--dir {root}")
    model = args.model or default_model_name(root)
    if not MODEL_NAME.match(model):
        raise InputError(
            f"{model!r} is not a model name: use lower-case letters, digits and '-' "
            "(it names the ledger tags)",
            "--model",
        )
    branch = args.branch or current_branch(root)
    files = render_files(model, branch, args.uses)
    targets = {root / rel: text for rel, text in files.items()}
    if not args.force:
        for path in targets:
            if path.exists():
                raise InputError("already exists; pass --force to overwrite it", path)
    for path, text in targets.items():
        write_atomically(path, text)
    result = GateResult(gate="init", summary=f"mlgate init: model {model}, branch {branch}")
    for rel in files:
        result.add(CheckResult(name=rel, status=Status.PASS, message="written"))
    result.data["outputs"] = {"files": " ".join(files)}
    return result


def render_files(model: str, branch: str, uses: str | None) -> dict[str, str]:
    """The text of every file init writes, keyed by its path relative to the repository."""
    values = {"model": model, "branch": branch, "version": __version__}
    out: dict[str, str] = {}
    for rel, template_name in TEMPLATES.items():
        text = (templates_dir() / template_name).read_text(encoding="utf-8")
        if template_name.endswith(".yml"):
            text = text.replace("$default-branch", branch)
            text = re.sub(r'MLGATE_VERSION: "[^"]*"', f'MLGATE_VERSION: "{__version__}"', text)
        else:
            text = Template(text).safe_substitute(values)
        out[rel] = text
    if uses:
        comment = "" if SHA.match(uses) else (
            "  # pin a commit SHA instead of a tag if you audit with zizmor"
        )
        caller_values = {**values, "ref": uses, "repository": REPOSITORY, "comment": comment}
        out[".github/workflows/ml-pr.yml"] = Template(_CALLER_PR).substitute(caller_values)
        out[".github/workflows/ml-release.yml"] = Template(_CALLER_RELEASE).substitute(
            caller_values
        )
    return out


def default_model_name(root: Path) -> str:
    """The directory's name, lower-cased, with runs of other characters turned into '-'."""
    name = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-")
    return name or "model"


def current_branch(root: Path) -> str:
    """The checked-out branch of the git repository at ``root`` (``main`` when there is none)."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "symbolic-ref", "--quiet", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "main"
    branch = proc.stdout.strip()
    return branch if proc.returncode == 0 and branch else "main"


def write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file and a rename, so a file is never half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
