"""Run the real ``mlgate`` command line in-process, capturing what it prints and its exit code.

In-process keeps the suite fast (Great Expectations and scikit-learn are imported once); the
code path is exactly the console script's (``mlgate.cli.main``).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlgate.cli import main


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def error_line(self) -> str:
        """The single ``mlgate: error: ...`` line, or '' when there is none."""
        lines = [ln for ln in self.stderr.splitlines() if ln.startswith("mlgate: error:")]
        return lines[0] if lines else ""


@contextlib.contextmanager
def _environment(cwd: Path | None, env: Mapping[str, str | None] | None) -> Iterator[None]:
    old_cwd = Path.cwd()
    saved = {k: os.environ.get(k) for k in (env or {})}
    try:
        for key, value in (env or {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(old_cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_mlgate(
    args: Sequence[str],
    cwd: Path | None = None,
    env: Mapping[str, str | None] | None = None,
) -> CliResult:
    """Run ``mlgate ARGS`` in ``cwd`` with extra environment (None removes a variable)."""
    out, err = io.StringIO(), io.StringIO()
    with _environment(cwd, env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return CliResult(code, out.getvalue(), err.getvalue())
