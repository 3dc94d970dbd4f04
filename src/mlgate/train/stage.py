"""The ``train`` stage of ``mlgate run``: produce the candidate before the gates judge it.

In an untrusted run (a pull request) the stage does not run the command: the pull request's
training is its own code, and in the job that gates and reports it could rewrite the reports,
mlgate itself or the job's environment before the verdict is posted. There, training runs in a
job of its own with a read-only token (the reusable PR workflow's ``train`` job) and hands its
outputs over as an artifact; this stage records their digests. Anywhere else it trains,
unless ``mlgate run --receive DIR`` hands it what a training job exported (a release job that
holds write access should not run training code either).
"""

from __future__ import annotations

from mlgate.pipeline import RunContext, stage
from mlgate.result import GateResult


@stage("train")
def train_stage(ctx: RunContext) -> GateResult:
    from mlgate.errors import InputError
    from mlgate.train.run import record_outputs, run_training
    from mlgate.train.settings import train_settings
    from mlgate.trust import run_trust

    settings = train_settings(ctx.config)
    received = ctx.options.get("receive")
    if received:
        from pathlib import Path

        from mlgate.train.handover import receive

        return receive(settings, Path(str(received)))
    trust = run_trust()
    if not trust.untrusted:
        return run_training(settings, echo=not ctx.options.get("quiet", False))
    missing = [p for p in settings.outputs if not p.is_file()]
    if missing:
        raise InputError(
            f"this run is untrusted ({trust.reason}), so mlgate does not run the pull "
            "request's training in the job that gates it; run `mlgate train` in a separate "
            "job and pass its outputs as an artifact (the reusable PR workflow does)",
            missing[0])
    return record_outputs(settings, f"untrusted run ({trust.reason}): trained in a separate job")
