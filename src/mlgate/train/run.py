"""Run ``train.command`` and check that it wrote every output.

Why each rule:

* **No credentials in the training's environment.** Training is the project's own code and
  its dependencies; it needs data, not the job's GitHub token, OIDC request token or ledger
  signing key, so those variables are removed before it starts.
* **Workflow commands stay off.** In GitHub Actions any line a step prints that starts with
  ``::`` is a command to the runner (``add-mask``, ``set-output``, ``error``...). Training logs
  quote data, so the stream is wrapped in ``::stop-commands::`` with a one-off token.
* **Every output must be written by this run.** A stale model left in the work tree would be
  gated as if it were the new one; an output that did not change its modification time and did
  not exist before fails the check.
* **A timeout ends the whole process group**, so a training that forks workers cannot keep the
  job alive after the verdict.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from mlgate.errors import InputError
from mlgate.provenance import file_input, repo_path, run_meta
from mlgate.report.text import log_text
from mlgate.result import CheckResult, GateResult, Status
from mlgate.train.settings import TrainSettings

# Credentials a CI job may hold that training has no use for.
SECRET_VARIABLES = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "MLGATE_SIGNING_KEY",
)
TAIL_LINES = 40


def training_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment training runs with: this one without :data:`SECRET_VARIABLES`."""
    source = os.environ if env is None else env
    return {k: v for k, v in source.items() if k not in SECRET_VARIABLES}


def run_training(settings: TrainSettings, *, echo: bool = True) -> GateResult:
    """Run the command in the project directory; a ``train`` result with one check for the
    command and one per output (their digests are the result's inputs, ``output:PATH``)."""
    before = {path: _stamp(path) for path in settings.outputs}
    started = time.time_ns()
    code, tail, elapsed, timed_out = _execute(settings, echo=echo)
    result = GateResult(gate="train")
    command = shown_command(settings.argv)
    details = {"command": settings.argv, "exit_code": code, "seconds": round(elapsed, 1)}
    if timed_out:
        result.add(CheckResult("command", Status.FAIL,
                               f"{command} did not finish within {settings.timeout:g}s "
                               "(train.timeout); it was stopped",
                               details={**details, "log_tail": tail}))
    elif code != 0:
        result.add(CheckResult("command", Status.FAIL, f"{command} exited with {code}",
                               details={**details, "log_tail": tail}))
    else:
        result.add(CheckResult("command", Status.PASS,
                               f"{command} finished in {elapsed:.1f}s", details=details))
    if code == 0 and not timed_out:
        for path in settings.outputs:
            result.add(_output_check(path, before[path], started, result))
    result.summary = _summary(result, command)
    result.meta = run_meta(settings.root)
    return result


def shown_command(argv: list[str], limit: int = 120) -> str:
    """The command as a shell would show it, cut to ``limit`` characters for messages (the
    full argument list is in the check's details)."""
    import shlex

    text = shlex.join(argv)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record_outputs(settings: TrainSettings, why: str) -> GateResult:
    """A ``train`` result for outputs another job produced: their digests, nothing run."""
    result = GateResult(gate="train")
    for path in settings.outputs:
        if not path.is_file():
            raise InputError(f"does not exist: {why}", path)
        found = file_input(path)
        result.inputs[f"output:{found['path']}"] = found
        result.add(CheckResult(f"output {found['path']}", Status.PASS,
                               f"{found['sha256']} ({why})"))
    result.summary = f"train: {len(settings.outputs)} output(s) from a separate job"
    result.meta = run_meta(settings.root)
    return result


def _stamp(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _output_check(path: Path, before: int | None, started: int,
                  result: GateResult) -> CheckResult:
    name = f"output {repo_path(path)}"
    if not path.is_file():
        return CheckResult(name, Status.FAIL, "training finished without writing this file "
                           "(train.outputs)")
    now = _stamp(path)
    if before is not None and now is not None and now == before and now < started:
        return CheckResult(name, Status.FAIL, "training left this file as it was: a stale "
                           "model would be gated as the new one")
    found = file_input(path)
    result.inputs[f"output:{found['path']}"] = found
    return CheckResult(name, Status.PASS, f"written, {found['sha256']}",
                       details={"size": found["size"]})


def _summary(result: GateResult, command: str) -> str:
    if result.passed:
        return f"train: {command} wrote {len(result.checks) - 1} output(s)"
    return f"train: {result.failures[0].message}"


def _execute(settings: TrainSettings, *, echo: bool) -> tuple[int, list[str], float, bool]:
    """Run the command, streaming its output to stderr; (exit code, last lines, seconds,
    timed out). A thread reads the output, so a line that never ends cannot hold the
    timeout back."""
    in_actions = bool(os.environ.get("GITHUB_ACTIONS"))
    token = secrets.token_hex(16)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            settings.argv, cwd=settings.root, env=training_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            text=True, errors="replace",
        )
    except OSError as exc:
        raise InputError(f"cannot start {settings.argv[0]!r}: {exc.strerror}",
                         f"{settings.source}.command") from None
    if echo and in_actions:
        print(f"::stop-commands::{token}", file=sys.stderr, flush=True)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(log_text(line.rstrip("\n"))[:500])
            if echo:
                print(line.rstrip("\n"), file=sys.stderr, flush=True)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=settings.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        if proc.poll() is None:
            _kill_group(proc)
        reader.join(timeout=5)
        if echo and in_actions:
            print(f"::{token}::", file=sys.stderr, flush=True)
    return proc.returncode, list(tail), time.monotonic() - start, timed_out


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """End the command and every process it started (it runs in its own session)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue
