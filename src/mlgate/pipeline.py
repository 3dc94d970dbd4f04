"""``mlgate run``: execute the configured stages in order, stopping at the first failing gate.

Gates plug in through one registry: a gate package calls :func:`stage` to register a function
``(RunContext) -> GateResult`` under a stage name. The modules in ``STAGE_MODULES`` are
imported on first use so that ``mlgate --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config import DEFAULT_CONFIG, Config, load_config
from mlgate.errors import InputError
from mlgate.report import render_junit, render_markdown, write_json
from mlgate.report.text import log_text
from mlgate.result import CheckResult, GateResult, Status, input_error_result

STAGE_MODULES = (
    "mlgate.train.stage",
    "mlgate.data.stage",
    "mlgate.model.stage",
    "mlgate.load.stage",
    "mlgate.ledger.stage",
)


@dataclass
class RunContext:
    """What a stage gets: the config, which event runs, where to write, and earlier results."""

    config: Config
    event: str
    results_dir: Path
    previous: list[GateResult] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    def result_of(self, gate: str) -> GateResult | None:
        return next((r for r in self.previous if r.gate == gate), None)


StageFunction = Callable[[RunContext], GateResult]
_STAGES: dict[str, StageFunction] = {}


def stage(name: str) -> Callable[[StageFunction], StageFunction]:
    """Register a pipeline stage under ``name`` (decorator)."""

    def decorate(fn: StageFunction) -> StageFunction:
        _STAGES[name] = fn
        return fn

    return decorate


def registered_stages() -> dict[str, StageFunction]:
    for module in STAGE_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a real missing dependency, not an absent stage module
                raise
    return dict(_STAGES)


def run_pipeline(
    config: Config, event: str, options: dict[str, Any] | None = None
) -> list[GateResult]:
    """Run the stages for ``event``; stop at the first gate that does not pass."""
    stages = registered_stages()
    names = stages_to_run(config, event)
    unknown = [n for n in names if n not in stages]
    if unknown:
        raise InputError(
            f"stage {unknown[0]!r} is not available (known: {', '.join(sorted(stages))})",
            config.where("pipeline", event),
        )
    from mlgate.report.attachments import attachment_patterns

    attachment_patterns(config)  # a pattern reaching outside the repository stops the run now
    # One directory per event, so a release run never overwrites the pull request's evidence.
    ctx = RunContext(config, event, config.results_dir / event, options=options or {})
    ctx.results_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        try:
            result = stages[name](ctx)
        except InputError as exc:
            # The stage stopped on bad input: report it like a failed gate, then stop (exit 2).
            stopped = input_error_result(name, " ".join(exc.message.split()), exc.source)
            ctx.previous.append(stopped)
            write_json(ctx.results_dir / f"{name}.json", [stopped], f"run:{name}")
            _skip_rest(ctx, names)
            write_reports(ctx.results_dir, ctx.previous, f"mlgate run --stage {event}",
                          _attached(config))
            raise
        ctx.previous.append(result)
        write_json(ctx.results_dir / f"{name}.json", [result], f"run:{name}")
        if not result.passed:
            break
    _skip_rest(ctx, names)
    write_reports(ctx.results_dir, ctx.previous, f"mlgate run --stage {event}",
                  _attached(config, strict=True))
    return ctx.previous


def _attached(config: Config, strict: bool = False) -> list[dict[str, Any]]:
    """The attachments the HTML report lists. After a stage stopped on bad input (``strict``
    False) a problem with them must not replace the error being reported, so none are listed."""
    from mlgate.report.attachments import attachment_entries, collect_attachments

    try:
        return attachment_entries(config, collect_attachments(config))
    except InputError:
        if strict:
            raise
        return []


def _skip_rest(ctx: RunContext, names: list[str]) -> None:
    """Say which stages did not run, and because of which one."""
    skipped = names[len(ctx.previous):]
    if skipped:
        ctx.previous.append(
            GateResult(
                gate="pipeline",
                checks=[
                    CheckResult(
                        f"{n} skipped",
                        Status.FAIL,
                        f"not run because {ctx.previous[-1].gate} "
                        + ("stopped on bad input" if ctx.previous[-1].status is Status.ERROR
                           else "failed"),
                    )
                    for n in skipped
                ],
            )
        )


def stages_to_run(config: Config, event: str) -> list[str]:
    """The configured stages; in a run whose code is not the default branch's, the default
    branch's stages first and then any the run's config adds, so a pull request can add gates
    to its own run but never drop one that main requires."""
    names = config.stages(event)
    required = default_branch_stages(config, event)
    if required is None:
        return names
    return required + [n for n in names if n not in required]


def default_branch_stages(config: Config, event: str) -> list[str] | None:
    """The default branch's stages for ``event`` in an untrusted run (None in a trusted run,
    outside a clone, or when the default branch has no such config)."""
    from mlgate.trust import default_config, run_trust

    trust = run_trust()
    if not trust.untrusted or not _in_git_work_tree(config.root):
        return None  # outside a clone there is no default branch to hold anything back
    trusted = default_config(config, trust)
    if trusted.raw is None:
        return None
    return Config(Path(trusted.source), trusted.raw).stages(event)


def _in_git_work_tree(directory: Path) -> bool:
    from mlgate.ledger import gitio

    try:
        return gitio.git(directory, "rev-parse", "--is-inside-work-tree").strip() == "true"
    except (gitio.GitError, OSError):
        return False


def write_reports(results_dir: Path, results: list[GateResult], title: str,
                  attachments: list[dict[str, Any]] | None = None) -> None:
    """report.json, report.md, report.xml and the self-contained report.html (last: drawing its
    figures is the slow part, and the others must exist whatever happens to it)."""
    from mlgate.report.html import render_html

    results_dir.mkdir(parents=True, exist_ok=True)
    write_json(results_dir / "report.json", results, title)
    (results_dir / "report.md").write_text(render_markdown(results, title), encoding="utf-8")
    (results_dir / "report.xml").write_text(render_junit(results), encoding="utf-8")
    (results_dir / "report.html").write_text(render_html(results, title, attachments or []),
                                             encoding="utf-8")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "run",
        parents=[common],
        help="run the whole pipeline (pr or release)",
        description="Run the stages configured in mlgate.yaml for an event, in "
        "order, stopping at the first failing gate. Reports go to "
        "results_dir (report.json, report.md, report.xml, report.html).",
    )
    p.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: mlgate.yaml)")
    p.add_argument(
        "--stage",
        choices=["pr", "release"],
        default="pr",
        help="which event's stages to run (default: pr)",
    )
    p.add_argument(
        "--plan",
        action="store_true",
        help="run nothing: say which of train, data, model, load would run (step outputs "
        "STAGE=true|false and stages), for workflows that run each stage as a step",
    )
    p.add_argument("--enable", action="append", default=[], metavar="STAGE",
                   help="with --plan: run STAGE even if the config does not list it")
    p.add_argument("--disable", action="append", default=[], metavar="STAGE",
                   help="with --plan: skip STAGE (not one the default branch requires in an "
                   "untrusted run)")
    p.add_argument("--receive", metavar="DIR",
                   help="the train stage takes what a training job exported to DIR (`mlgate "
                   "train --export DIR`, moved as an artifact) instead of training here "
                   "(unused when no train stage runs)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> list[GateResult]:
    config = load_config(args.config)
    if args.plan:
        from mlgate.plan import plan

        return [plan(config, args.stage, args.enable, args.disable)]
    if args.enable or args.disable:
        raise InputError("--enable and --disable go with --plan", "--enable")
    results = run_pipeline(config, args.stage,
                           {"quiet": bool(args.quiet), "receive": args.receive})
    if not args.quiet:
        where = config.results_dir / args.stage
        print(f"reports: {log_text(where)}/report.md, report.html, report.json, report.xml")
    return results
