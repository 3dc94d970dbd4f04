"""The ``model`` stage of ``mlgate run``: the model gate configured by mlgate.yaml's model: key.

``champion: production`` resolves against the ledger of the repository holding mlgate.yaml;
before the first release there is no production version, so ``champion_file`` is used when
configured, else the comparison is skipped with a warning (the thresholds still gate).
"""

from __future__ import annotations

from mlgate.errors import InputError
from mlgate.model.gate import run_gate
from mlgate.model.settings import inputs_from_config
from mlgate.pipeline import RunContext, stage
from mlgate.result import GateResult


@stage("model")
def model_stage(ctx: RunContext) -> GateResult:
    if not ctx.config.section("model"):
        raise InputError(
            "the model stage is in the pipeline but mlgate.yaml has no model: section",
            ctx.config.where("model"),
        )
    return run_gate(inputs_from_config(ctx.config, None, ctx.results_dir))
