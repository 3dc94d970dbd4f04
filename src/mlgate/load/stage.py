"""The ``load`` stage of ``mlgate run``: the load test described by mlgate.yaml's ``load:``."""

from __future__ import annotations

from mlgate.errors import InputError
from mlgate.load.runner import run_load_test
from mlgate.load.settings import from_sources
from mlgate.pipeline import RunContext, stage
from mlgate.result import GateResult


@stage("load")
def load_stage(ctx: RunContext) -> GateResult:
    section = ctx.config.section("load")
    if not section.get("target"):
        # A use-case profile (online, critical) can put the stage in the pipeline and fill in
        # `load.profile` without the team having a service yet: say where the stage came from.
        profile = ctx.config.raw.get("profile")
        why = (f"; profile {profile} runs the load stage: configure the service, or choose "
               "profile batch, or list the stages in pipeline.pr / pipeline.release"
               if profile in ("online", "critical") else "")
        raise InputError("the load stage needs `load:` with a `target` (the service to test)"
                         + why, ctx.config.where("load"))
    settings = from_sources(None, ctx.config)
    settings.progress = not ctx.options.get("quiet", False)  # `mlgate run --quiet`
    return run_load_test(settings, ctx.results_dir)
