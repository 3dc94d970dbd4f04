"""``mlgate validate-data`` (GX suites, column contract, drift and skew on one data set) and
``mlgate profile`` (the reference statistics drift needs, computed once)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlgate.result import GateResult


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``validate-data`` to the ``mlgate`` parser."""
    p = sub.add_parser(
        "validate-data",
        parents=[common],
        help="validate a data set: GX suites, column contract, drift, skew",
        description="Validate a CSV or Parquet data set with Great Expectations suites (JSON), "
        "a column contract, drift against a reference and train/serving skew. Flags override "
        "the `data:` section of mlgate.yaml; without a config the flags alone are used.",
    )
    p.add_argument("--data", metavar="FILE", help="data set to validate (CSV or Parquet)")
    p.add_argument("--reference", metavar="FILE", help="reference data set for drift")
    p.add_argument("--reference-profile", metavar="FILE",
                   help="saved reference statistics (`mlgate profile`); without --reference or "
                   "data.reference they are the reference, and the raw file is not needed")
    p.add_argument("--suite", metavar="FILE", action="append", dest="suites",
                   help="Great Expectations suite JSON (repeatable)")
    p.add_argument("--contract", metavar="FILE", help="column contract YAML file")
    p.add_argument("--training", metavar="FILE", help="training sample for skew")
    p.add_argument("--serving", metavar="FILE", help="serving-log sample for skew")
    p.add_argument("--target", metavar="COL",
                   help="target column: left out of feature drift and skew, compared as label "
                   "drift (default: data.target, else model.target from the config)")
    p.add_argument("--config", metavar="FILE",
                   help="mlgate.yaml to read the `data:` section from "
                   "(default: ./mlgate.yaml when it exists)")
    p.add_argument("--engine", choices=("pandas", "spark"),
                   help="compute on pandas (in memory) or Spark (local[*] unless "
                   "data.spark.master names a cluster); default: data.engine, else pandas")
    p.add_argument("--evidence-dir", metavar="DIR",
                   help="write evidence files (the compiled contract suite) here")
    p.set_defaults(handler=_validate_data)
    q = sub.add_parser(
        "profile",
        parents=[common],
        help="compute a drift reference's statistics once (a small JSON keyed by its sha256)",
        description="Compute what drift needs of a reference data set (bin edges and counts, "
        "deciles, category counts, null shares, range, the target's statistics) and save it "
        "as JSON. The data gate reuses it when the reference's sha256 matches, reading only "
        "the current data; data.reference_profile (or --reference-profile) can name it "
        "instead of the raw reference.",
    )
    q.add_argument("--reference", metavar="FILE",
                   help="reference data set (CSV or Parquet; default: data.reference)")
    q.add_argument("--out", metavar="PATH",
                   help="where to write the profile (default: data.reference_profile, else "
                   ".mlgate/profiles/<sha256>.json next to mlgate.yaml or in the working "
                   "directory)")
    q.add_argument("--target", metavar="COL",
                   help="target column, profiled for label drift (default: data.target, else "
                   "model.target)")
    q.add_argument("--config", metavar="FILE",
                   help="mlgate.yaml to read the `data:` section from "
                   "(default: ./mlgate.yaml when it exists)")
    q.set_defaults(handler=_profile)


def _validate_data(args: argparse.Namespace) -> GateResult:
    from mlgate.config import find_config
    from mlgate.data.gate import run_data_gate
    from mlgate.data.settings import from_sources

    config = find_config(args.config)
    flags = {"data": args.data, "reference": args.reference, "suites": args.suites,
             "contract": args.contract, "training": args.training, "serving": args.serving,
             "target": args.target, "engine": args.engine}
    if config is not None:
        settings = from_sources(config.section("data"), config.resolve, config.where, **flags,
                                config_file=config.path, model=config.section("model"))
    else:
        settings = from_sources(None, Path, lambda *k: "mlgate validate-data", **flags)
    evidence_dir = Path(args.evidence_dir) if args.evidence_dir else None
    if evidence_dir is not None:
        evidence_dir.mkdir(parents=True, exist_ok=True)
    return run_data_gate(settings, evidence_dir, progress=not args.quiet)


def _profile(args: argparse.Namespace) -> GateResult:
    from mlgate.config import find_config
    from mlgate.data.profile_command import write_profile
    from mlgate.errors import InputError

    config = find_config(args.config)
    section = config.section("data") if config is not None else {}
    model = config.section("model") if config is not None else {}
    reference: Path | None = Path(args.reference) if args.reference else None
    out: Path | None = Path(args.out) if args.out else None
    if config is not None:
        if reference is None and section.get("reference"):
            reference = config.resolve(section["reference"])
        if out is None and section.get("reference_profile"):
            out = config.resolve(section["reference_profile"])
    if reference is None:
        raise InputError("no reference to profile: pass --reference FILE or set data.reference "
                         "in mlgate.yaml", "mlgate profile")
    target = args.target or section.get("target") or model.get("target")
    home = config.path.parent if config is not None else Path.cwd()
    return write_profile(reference, out, str(target) if target else None, home)
