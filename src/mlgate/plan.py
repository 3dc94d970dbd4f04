"""``mlgate run --plan``: which stages a run would execute, for workflows to branch on.

The reusable workflows run each gate as its own step (so each has its own log, outputs and
annotations) and must not decide on their own which gates run: mlgate.yaml's ``pipeline``
does. A workflow input may still turn a stage on (``"true"``) or off (``"false"``); empty
leaves it to the config. In an untrusted run (a pull request) an input cannot turn off a stage
the default branch's ``pipeline`` requires: the pull request wrote the workflow file that
passes the input, so honouring it would let the pull request drop a gate main requires. Such
an input is overruled with a warning.
"""

from __future__ import annotations

from mlgate.config import Config
from mlgate.errors import InputError
from mlgate.result import CheckResult, GateResult, Status

# Stages a workflow runs as steps of their own; register and promote are the release jobs.
PLANNED = ("train", "data", "model", "load")


def plan(config: Config, event: str, enable: list[str], disable: list[str]) -> GateResult:
    """A ``plan`` result: one check per stage saying whether it runs and why; outputs
    ``STAGE=true|false`` for each of :data:`PLANNED` and ``stages`` (space-separated)."""
    from mlgate.pipeline import default_branch_stages

    for flag, names in (("--enable", enable), ("--disable", disable)):
        for name in names:
            if name not in PLANNED:
                raise InputError(f"unknown stage {name!r} (one of {', '.join(PLANNED)})", flag)
    both = sorted(set(enable) & set(disable))
    if both:
        raise InputError(f"stage {both[0]!r} is both enabled and disabled", "--disable")
    configured = config.stages(event)
    required = default_branch_stages(config, event)
    result = GateResult(gate="plan")
    runs: list[str] = []
    for name in PLANNED:
        in_config = name in configured or name in (required or [])
        if name in enable:
            on, why = True, "turned on by the workflow input"
        elif name in disable and required is not None and name in required:
            on, why = True, (f"the workflow input turns it off, but the default branch's "
                             f"pipeline.{event} requires it and this run is untrusted")
            result.add(CheckResult(name, Status.WARN, why))
        elif name in disable:
            on, why = False, "turned off by the workflow input"
        else:
            on = in_config
            why = f"{'in' if on else 'not in'} pipeline.{event}"
            if required is not None and name in required and name not in configured:
                why = f"required by the default branch's pipeline.{event}"
        if on:
            runs.append(name)
        if not any(c.name == name for c in result.checks):
            result.add(CheckResult(name, Status.PASS, f"{'runs' if on else 'skipped'}: {why}"))
    outputs: dict[str, str] = {name: "true" if name in runs else "false" for name in PLANNED}
    outputs["stages"] = " ".join(runs)
    result.data["outputs"] = outputs
    result.summary = f"{event}: {', '.join(runs) or 'no stage'}"
    return result
