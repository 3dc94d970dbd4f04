"""Hand training outputs from the job that trained to the job that gates.

In a pull request the training runs the pull request's code, so it runs in a job of its own
(read-only token, nothing to report with) and the gating job receives only files: the outputs
named by ``train.outputs`` and the training's report, in a directory the workflow moves as an
artifact. ``export`` lays them out relative to mlgate.yaml's directory; ``receive`` copies back
exactly the configured outputs, as regular files (a symbolic link, a directory or any other
name in the artifact is ignored), and checks each against the digest the training reported.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mlgate.errors import InputError
from mlgate.provenance import file_input
from mlgate.report.json_report import read_json, write_json
from mlgate.result import CheckResult, GateResult, Status
from mlgate.train.settings import TrainSettings

REPORT = "train-report.json"


def export(settings: TrainSettings, result: GateResult, directory: Path) -> None:
    """Copy the outputs that exist and the training's report into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in settings.outputs:
        if path.is_file():
            target = directory / path.relative_to(settings.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    write_json(directory / REPORT, [result], "train")


def receive(settings: TrainSettings, directory: Path) -> GateResult:
    """The training's result, with a check per output copied into the project."""
    report = directory / REPORT
    if not report.is_file():
        raise InputError("no training report here: did the training job export to it "
                         "(mlgate train --export DIR)?", directory)
    found = [r for r in read_json(report) if r.gate == "train"]
    if len(found) != 1:
        raise InputError("not a training report (expected one train result)", report)
    result = found[0]
    if not result.passed:
        return result  # the report says why; there is nothing to gate
    for path in settings.outputs:
        rel = path.relative_to(settings.root).as_posix()
        source = directory / rel
        if source.is_symlink() or not source.is_file():
            result.add(CheckResult(f"received {rel}", Status.FAIL,
                                   "the training job handed over no such file"))
            continue
        _replace(source, path)
        got = file_input(path)
        claimed = result.inputs.get(f"output:{got['path']}", {}).get("sha256")
        if claimed != got["sha256"]:
            result.add(CheckResult(f"received {rel}", Status.FAIL,
                                   f"{got['sha256']}, but the training reported {claimed}"))
        else:
            result.add(CheckResult(f"received {rel}", Status.PASS, got["sha256"]))
    return result


def _replace(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` through a temporary file: a symbolic link at the target
    is replaced, never written through."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.mlgate-receive")
    shutil.copyfile(source, tmp, follow_symlinks=False)
    os.replace(tmp, target)
