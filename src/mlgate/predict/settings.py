"""What ``mlgate predict`` does, merged from the flags and mlgate.yaml's ``predict:`` section.

The model is always a ledger reference (``NAME#STAGE`` or ``NAME@vX.Y.Z``): a batch job scores
with what the release path approved, never with a file someone put next to the job. The
default is the configured artifact (``ledger.name``, else ``project``) at ``production``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlgate.config import Config
from mlgate.data.pointer import Location, location
from mlgate.data.settings import DriftRules
from mlgate.errors import InputError

OUTPUT_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
DEFAULT_STAGE = "production"
BASELINES = ("previous", "reference")
NOTES_REF = "refs/notes/mlgate-batch"


@dataclass
class PredictSettings:
    """Everything one run needs, every path resolved."""

    data: Location
    output: Path
    model: str
    config: Config
    keep: list[str] | None = None  # None: the contract's id columns, else every input column
    drift: DriftRules = field(default_factory=DriftRules)
    baseline: str = "previous"  # previous batch of this version, else the reference
    record_git: bool = True
    push: bool = False
    remote: str = "origin"

    @property
    def lineage_file(self) -> Path:
        """The lineage record written next to the output (``OUT.csv`` -> ``OUT.lineage.json``)."""
        return self.output.with_name(self.output.stem + ".lineage.json")

    @property
    def output_format(self) -> str:
        return OUTPUT_SUFFIXES[self.output.suffix.lower()]


def from_sources(config: Config, data: str, output: str, model: str | None,
                 push: bool | None, record_git: bool | None) -> PredictSettings:
    """Merge the flags with ``config``'s ``predict:`` section (flags win); InputError naming
    the flag or field for anything unusable, before any data or model is read."""
    from mlgate.ledger.policy import ledger_config
    from mlgate.load.serve_source import is_ledger_ref

    section: dict[str, Any] = config.section("predict")
    out = Path(output)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"unsupported output type {out.suffix or '(no suffix)'!r}; expected "
                         ".csv or .parquet", "--output")
    if out.is_dir():
        raise InputError("--output is a directory; name a .csv or .parquet file", out)
    lc = ledger_config(config)
    spec = model or section.get("model")
    if not spec:
        if not lc.name:
            raise InputError("no model: pass --model NAME#STAGE or set project in mlgate.yaml",
                             "--model")
        spec = f"{lc.name}#{DEFAULT_STAGE}"
    spec = str(spec)
    if not is_ledger_ref(spec):
        raise InputError("predict loads models from the ledger only: give NAME#STAGE or "
                         "NAME@vX.Y.Z (a registered, valid version)",
                         "--model" if model else config.where("predict", "model"))
    keep = section.get("keep")
    drift = replace(DriftRules.from_config(section.get("drift") or {}),
                    where=config.where("predict", "drift"))
    return PredictSettings(
        data=location(data),
        output=out,
        model=spec,
        config=config,
        keep=[str(c) for c in keep] if keep is not None else None,
        drift=drift,
        baseline=str(section.get("baseline", "previous")),
        record_git=bool(section.get("record_git", True) if record_git is None else record_git),
        push=bool(section.get("push", False) if push is None else push),
        remote=lc.remote,
    )
