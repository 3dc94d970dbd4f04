"""``mlgate init``: add mlgate's workflows and a starter mlgate.yaml to a repository.

The workflows are the starter templates of ``pipeline_templates/`` (self-contained: they pin
third-party actions to commit SHAs and mlgate's own actions to the release that wrote them, or
to ``--pin SHA``, so they pass actionlint, GitHub's workflow schema and zizmor as written), or,
with ``--uses REF``, short callers of mlgate's reusable workflows at REF. The callers pass no
mlgate version: the reusable workflows install mlgate, hash-locked, from the very commit REF
names, so REF alone pins everything. Nothing is overwritten without ``--force``, and nothing is
written at all when one of the files is refused.

With ``--data FILE --target COLUMN`` init reads the target column and writes the model policy
that fits it (``classification-default`` for two classes, ``multiclass-default`` for three or
more, ``regression-default`` for a numeric target with many values: the same rule the gate
applies when no policy is set), with the data path and target filled in. Flags rather than
guessing from the repository's files: which file is the held-out data and which column is the
target are facts only the user knows, and a wrong guess would write a policy that looks
deliberate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Template

import yaml

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
# `mlgate init --ct`: the continuous-training workflow, added to a repository init set up.
CT_TEMPLATES = {".github/workflows/ml-ct.yml": "mlgate-ct.yml"}
# `mlgate init --batch`: the batch-scoring workflow (mlgate predict), likewise.
BATCH_TEMPLATES = {".github/workflows/ml-batch.yml": "mlgate-batch.yml"}

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
${with_requirements}"""

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
${with_requirements}"""


# The project's requirements, installed next to mlgate so the gates load the model with the
# libraries it was trained with; init fills them in when the repository has this file.
REQUIREMENTS = "requirements.txt"
_REQUIREMENTS_LINE = re.compile(r'^(\s*requirements: )"" #.*$', re.MULTILINE)
# mlgate's own actions in the starter templates, pinned to the release that wrote them.
_OWN_ACTION = re.compile(rf"({re.escape(REPOSITORY)}/[\w./-]+)@[\w.-]+")

DEFAULT_DATA = "data/holdout.csv"
DEFAULT_TARGET = "label"
_NO_POLICY = """\
  # policy: absent, the gate picks the preset from the target: classification-default for two
  # classes, multiclass-default for more, regression-default for a numeric target.
  # `mlgate init --data FILE --target COLUMN` writes the one that fits your data."""


@dataclass(frozen=True)
class Detected:
    """What init learned from the data: where it is (relative to the repository), the target
    column, the preset that fits, and why (written as a comment next to it)."""

    data: str
    target: str
    preset: str
    reason: str


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
        "--data",
        metavar="FILE",
        help="held-out data (CSV or Parquet, inside the repository): with --target, init reads "
        "the target column and writes the model policy that fits it",
    )
    parser.add_argument(
        "--target",
        metavar="COLUMN",
        help="target column of --data (two classes: classification-default, more: "
        "multiclass-default, numeric with many values: regression-default)",
    )
    parser.add_argument(
        "--uses",
        metavar="REF",
        help=f"write short callers of {REPOSITORY}'s reusable workflows at REF (a release tag "
        "or, to satisfy SHA-pinning audits, a commit SHA) instead of self-contained workflows",
    )
    parser.add_argument(
        "--pin",
        metavar="REF",
        help=f"ref of {REPOSITORY}'s actions in the self-contained workflows (default: this "
        f"release's tag, v{__version__}); a commit SHA satisfies SHA-pinning audits such as "
        "zizmor's unpinned-uses",
    )
    parser.add_argument(
        "--ct",
        action="store_true",
        help="write only the continuous-training workflow, .github/workflows/ml-ct.yml "
        "(retrain when the data changed, gate, register, staging, ask for the production "
        "approval; see docs/ct.md), next to the workflows `mlgate init` wrote",
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help="write only the batch-scoring workflow, .github/workflows/ml-batch.yml (score "
        "each batch with the production version behind the data gate; see docs/batch.md), "
        "next to the workflows `mlgate init` wrote; may be given with --ct",
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
    detected = detect(root, args.data, args.target)
    requirements = REQUIREMENTS if (root / REQUIREMENTS).is_file() else None
    if args.pin is not None and not re.fullmatch(r"[\w.-]+", args.pin):
        raise InputError(f"{args.pin!r} is not a git ref (a tag or commit SHA)", "--pin")
    extra = {**(CT_TEMPLATES if getattr(args, "ct", False) else {}),
             **(BATCH_TEMPLATES if getattr(args, "batch", False) else {})}
    if extra:
        if args.uses is not None:
            flag = "--ct" if getattr(args, "ct", False) else "--batch"
            raise InputError("continuous training and batch scoring have no reusable workflow "
                             "yet; write the self-contained one (without --uses)", flag)
        files = render_extra(extra, requirements, args.pin)
    else:
        files = render_files(model, branch, args.uses, detected, requirements, args.pin)
    targets = {root / rel: text for rel, text in files.items()}
    if not args.force:
        for path in targets:
            if path.exists():
                raise InputError("already exists; pass --force to overwrite it", path)
    for path, text in targets.items():
        write_atomically(path, text)
    summary = f"mlgate init: model {model}, branch {branch}"
    if detected is not None:
        summary += f", model policy {detected.preset} ({detected.reason})"
    if requirements:
        summary += f", CI installs {requirements}"

    result = GateResult(gate="init", summary=summary)
    for rel in files:
        result.add(CheckResult(name=rel, status=Status.PASS, message="written"))
    if args.uses is None and (args.pin is None or not SHA.match(args.pin)):
        result.add(CheckResult(
            name="pin", status=Status.WARN,
            message=f"mlgate's actions are pinned to {args.pin or 'v' + __version__}, a tag that "
            "can be moved; pin a commit SHA with --pin SHA (zizmor's unpinned-uses requires it)"))
    result.data["outputs"] = {"files": " ".join(files)}
    result.data["wrote"] = list(files)
    return result


def detect(root: Path, data: str | None, target: str | None) -> Detected | None:
    """Read ``target`` of ``data`` and choose the preset (None when neither flag is given).

    Bad input (one flag without the other, a file outside the repository, a missing column,
    a target with missing values or a single class) is an InputError before anything is
    written.
    """
    if data is None and target is None:
        return None
    if not data or not target:
        given = "--data" if data else "--target"
        other = "--target" if data else "--data"
        raise InputError(f"{given} needs {other}: init reads the target column of the data", given)
    from mlgate.model import data as mdata
    from mlgate.model.metrics import REGRESSION
    from mlgate.model.policy import default_preset

    path = Path(data)
    frame = mdata.read_table(path)
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        raise InputError(
            f"is outside the repository {root.resolve()}; mlgate.yaml paths are relative to it",
            path,
        ) from None
    column = mdata.target_column(frame, target, path)
    task = mdata.infer_task(None, column)
    quoted = json.dumps(target)
    if task == REGRESSION:
        reason = f"{quoted} is numeric with {column.nunique()} distinct values"
        return Detected(relative.as_posix(), target, default_preset(task, 0), reason)
    classes = column.nunique()
    if classes < 2:
        raise InputError(
            f"target column {quoted} has a single class ({column.iloc[0]!r}); the model gate "
            "needs at least two",
            path,
        )
    reason = f"{quoted} has {classes} classes"
    return Detected(relative.as_posix(), target, default_preset(task, classes), reason)


def _yaml_scalar(text: str) -> str:
    """``text`` as a YAML flow scalar, quoted only when YAML needs it (``yes``, ``a: b``)."""
    dumped = yaml.safe_dump([text], default_flow_style=True, width=1 << 20).strip()
    return dumped[1:-1]


def _policy_block(detected: Detected | None) -> str:
    if detected is None:
        return _NO_POLICY
    source = json.dumps(detected.data)
    return (
        f"  # Picked by `mlgate init` from {source}: {detected.reason}.\n"
        f"  policy:\n"
        f"    extends: {detected.preset}"
    )


def render_files(
    model: str, branch: str, uses: str | None, detected: Detected | None = None,
    requirements: str | None = None, pin: str | None = None,
) -> dict[str, str]:
    """The text of every file init writes, keyed by its path relative to the repository.

    ``requirements`` (a repository path) is filled into every setup step, or passed to the
    reusable workflows, so CI gates the model with the libraries it was trained with."""
    values = {
        "model": model,
        "branch": branch,
        "version": __version__,
        "data": _yaml_scalar(detected.data) if detected else DEFAULT_DATA,
        "target": _yaml_scalar(detected.target) if detected else DEFAULT_TARGET,
        "policy": _policy_block(detected),
    }
    out: dict[str, str] = {}
    for rel, template_name in TEMPLATES.items():
        text = (templates_dir() / template_name).read_text(encoding="utf-8")
        if template_name.endswith(".yml"):
            text = text.replace("$default-branch", branch)
            text = _OWN_ACTION.sub(rf"\g<1>@{pin or 'v' + __version__}", text)
            if requirements:
                text = _REQUIREMENTS_LINE.sub(rf"\g<1>{requirements}", text)
        else:
            text = Template(text).safe_substitute(values)
        out[rel] = text
    if uses:
        comment = "" if SHA.match(uses) else (
            "  # pin a commit SHA instead of a tag if you audit with zizmor"
        )
        caller_values = {**values, "ref": uses, "repository": REPOSITORY, "comment": comment,
                         "with_requirements": f"    with:\n      requirements: {requirements}\n"
                         if requirements else ""}
        out[".github/workflows/ml-pr.yml"] = Template(_CALLER_PR).substitute(caller_values)
        out[".github/workflows/ml-release.yml"] = Template(_CALLER_RELEASE).substitute(
            caller_values
        )
    return out


def render_ct(requirements: str | None = None, pin: str | None = None) -> dict[str, str]:
    """The continuous-training workflow (see :func:`render_extra`)."""
    return render_extra(CT_TEMPLATES, requirements, pin)


def render_extra(templates: dict[str, str], requirements: str | None = None,
                 pin: str | None = None) -> dict[str, str]:
    """Workflows added next to the starter ones (continuous training, batch scoring), pinned
    and with the requirements filled in as :func:`render_files` does for the PR and release
    workflows."""
    out: dict[str, str] = {}
    for rel, template_name in templates.items():
        text = (templates_dir() / template_name).read_text(encoding="utf-8")
        text = _OWN_ACTION.sub(rf"\g<1>@{pin or 'v' + __version__}", text)
        if requirements:
            text = _REQUIREMENTS_LINE.sub(rf"\g<1>{requirements}", text)
        out[rel] = text
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
    """Write through a temporary file and a rename, so a file is never half written.

    ``mkstemp`` creates its file 0600 (it is meant for secrets); these are files the user
    commits and others read, so they get the mode an editor would give a new file:
    ``0666`` less the umask (0644 under the usual 022), whether new or overwritten.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process umask. POSIX can only read it by setting it, so it is set and put back at
    once (init runs single-threaded; nothing else creates files meanwhile)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
