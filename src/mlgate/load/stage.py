"""The ``load`` stage of ``mlgate run``: the load test described by mlgate.yaml's ``load:``."""

from __future__ import annotations

from mlgate.errors import InputError
from mlgate.load.runner import run_load_test
from mlgate.load.settings import from_sources
from mlgate.pipeline import RunContext, stage
from mlgate.result import GateResult


@stage("load")
def load_stage(ctx: RunContext) -> GateResult:
    if not ctx.config.section("load"):
        raise InputError("the load stage needs a `load:` section", ctx.config.where("load"))
    settings = from_sources(None, ctx.config)
    settings.progress = not ctx.options.get("quiet", False)  # `mlgate run --quiet`
    return run_load_test(settings, ctx.results_dir)
