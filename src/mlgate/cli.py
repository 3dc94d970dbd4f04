"""The ``mlgate`` command line: parses flags, calls a command, writes reports, sets the exit code.

Commands live in the gate packages and register themselves through ``register(subparsers,
common)``; this module holds no gate logic. Exit codes: 0 pass, 1 a gate failed, 2 bad input,
configuration or usage, 3 an internal error (a bug in mlgate), 4 ``mlgate canary`` could not
decide (inconclusive).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from mlgate import __version__
from mlgate.errors import InputError
from mlgate.report import render_terminal, write_json
from mlgate.report.github_files import (
    emit_annotations,
    workflow_command,
    write_step_outputs,
    write_step_summary,
)
from mlgate.report.text import log_text
from mlgate.result import COMMAND_GATES, GateResult, input_error_result

EXIT_PASS, EXIT_FAILED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

# Each module exposes register(subparsers, common); the order is the order in --help.
COMMAND_MODULES = (
    "mlgate.pipeline",
    "mlgate.train.commands",
    "mlgate.data.commands",
    "mlgate.model.commands",
    "mlgate.load.commands",
    "mlgate.canary.commands",
    "mlgate.predict.commands",
    "mlgate.ct.commands",
    "mlgate.ledger.commands",
    "mlgate.report.commands",
    "mlgate.init_command",
    "mlgate.github.commands",
)

Handler = Callable[[argparse.Namespace], GateResult | list[GateResult]]


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (it already uses 2, but prints usage noise)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(message, self.prog)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        metavar="FILE",
        dest="json_file",
        help="also write the machine-readable result to FILE",
    )
    common.add_argument("--quiet", action="store_true", help="print only errors")
    parser = _Parser(
        prog="mlgate",
        description="GitOps gates for ML repositories: data, model, load, and a git ledger.",
        epilog="Exit codes: 0 pass, 1 a gate failed, 2 bad input/config/usage, 3 internal error, "
               "4 canary inconclusive.",
    )
    parser.add_argument("--version", action="version", version=f"mlgate {__version__}")
    # Also before the command (`mlgate --quiet run`). Its own dest: a subcommand's defaults
    # would overwrite a shared one.
    parser.add_argument("--quiet", dest="quiet_all", action="store_true",
                        help="print only errors (the same as COMMAND --quiet)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.quiet_all:
            args.quiet = True
        if not getattr(args, "handler", None):
            parser.print_help()
            return EXIT_INPUT
        handler: Handler = args.handler
        outcome = handler(args)
    except InputError as exc:
        _print_error(exc.one_line())
        _report_input_error(locals().get("args"), exc)
        return EXIT_INPUT
    except KeyboardInterrupt:
        _print_error("interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("MLGATE_DEBUG"):
            traceback.print_exc()
        _print_error(
            f"internal error ({type(exc).__name__}: {exc}); "
            "set MLGATE_DEBUG=1 for the traceback and report it as a bug"
        )
        return EXIT_INTERNAL
    results = outcome if isinstance(outcome, list) else [outcome]
    return publish(results, args)


def _report_input_error(args: argparse.Namespace | None, exc: InputError) -> None:
    """A command that stops on bad input still leaves a report where one was asked for
    (``--json``) and in the job summary, so the pull request shows the error and its fix."""
    if args is None or not getattr(args, "command", None):
        return
    command = str(args.command)
    gate = COMMAND_GATES.get(command, command)
    result = input_error_result(gate, " ".join(exc.message.split()), exc.source)
    json_path = getattr(args, "json_file", None)
    try:
        if json_path:
            write_json(json_path, [result], command)
        write_step_summary([result], f"mlgate {command}")
    except OSError:
        pass  # the one-line error is already printed; a report that cannot be written adds none


def publish(results: list[GateResult], args: argparse.Namespace) -> int:
    """Write every requested output for a finished command and return its exit code."""
    command = str(args.command)
    json_path = getattr(args, "json_file", None)
    if json_path:
        write_json(json_path, results, command)
    write_step_summary(results, f"mlgate {command}",
                       footer=str(getattr(args, "markdown_footer", "") or ""))
    outputs: dict[str, object] = {"status": "pass" if all(r.passed for r in results) else "fail"}
    if json_path:
        outputs["report"] = str(Path(json_path))
    for r in results:
        outputs.update({k: v for k, v in r.data.get("outputs", {}).items()})
    write_step_outputs(outputs)
    emit_annotations(results, sys.stdout)
    if not getattr(args, "quiet", False):
        text = render_terminal(results)
        if text:
            print(text)
    if not all(r.passed for r in results):
        return EXIT_FAILED
    # A command whose outcome is neither pass nor fail (mlgate canary: inconclusive, 4) says so.
    special = [r.data["exit_code"] for r in results if isinstance(r.data.get("exit_code"), int)]
    return special[0] if special else EXIT_PASS


def _print_error(line: str) -> None:
    """One line on stderr (and an annotation in Actions). Messages may quote data, so they are
    :func:`log_text`: a newline, ``::`` or ``##[`` in a column name cannot make a workflow
    command, and ESC cannot reach the terminal."""
    print(f"mlgate: error: {log_text(line)}", file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS"):
        print(workflow_command("error", ["title=mlgate"], log_text(line)))


if __name__ == "__main__":
    raise SystemExit(main())
