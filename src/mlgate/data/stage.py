"""The ``data`` stage of ``mlgate run``: the data gate configured by mlgate.yaml's ``data:``."""

from __future__ import annotations

from mlgate.pipeline import RunContext, stage
from mlgate.result import GateResult


@stage("data")
def data_stage(ctx: RunContext) -> GateResult:
    from mlgate.data.gate import run_data_gate
    from mlgate.data.settings import from_sources

    settings = from_sources(ctx.config.section("data"), ctx.config.resolve, ctx.config.where,
                            config_file=ctx.config.path, model=ctx.config.section("model"))
    return run_data_gate(settings, evidence_dir=ctx.results_dir,
                         progress=not ctx.options.get("quiet", False))
