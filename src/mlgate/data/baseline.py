"""Which reference statistics a drift run uses: a saved profile when one is valid, else the
reference read and profiled in memory.

Three ways in (docs/data.md, "Reference profiles"):

* ``data.reference_profile`` (or ``--reference-profile``) without a reference: the profile
  *is* the reference. The raw file need not exist; the gate records the digest the profile
  names as the reference's.
* ``data.reference_profile`` with ``data.reference``: the reference is hashed (read, not
  parsed) and the profile used only when it names that digest. Otherwise the profile is stale
  (the reference changed, or someone swapped one of the two): it is ignored with a warning
  and the reference is profiled afresh.
* ``data.reference`` alone: the gate hashes it and uses ``.mlgate/profiles/<sha256>.json``
  next to mlgate.yaml (where ``mlgate profile`` writes by default) when that exists.

A profile that is malformed or inconsistent stops the run (exit 2, naming the file) in every
case, including a cached one: a tampered cache is worth a person's attention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.data.reference_profile import ReferenceProfile, build, default_path, load
from mlgate.data.settings import DataSettings, display
from mlgate.errors import InputError
from mlgate.provenance import file_input
from mlgate.result import CheckResult, Status


@dataclass
class Baseline:
    profile: ReferenceProfile
    name: str  # how messages name the reference
    profile_file: Path | None = None  # the saved profile in use, if any
    checks: list[CheckResult] = field(default_factory=list)  # a stale profile's warning
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # for the gate's record


def resolve(settings: DataSettings, target: str | None, summaries: bool = True) -> Baseline:
    """The reference statistics for this run (see the module docstring)."""
    configured = settings.reference_profile
    if configured is not None and settings.reference is None:
        profile = load(configured)
        _check_target(profile, target, configured)
        return Baseline(profile, profile.path or display(configured), configured, inputs={
            "reference": _recorded(profile), "reference_profile": file_input(configured)})
    if settings.reference is None:
        raise ValueError("no reference")
    from mlgate.data.loading import load_frame, read_frame
    from mlgate.data.pointer import is_dvc

    reference = settings.reference
    loaded = None
    if isinstance(reference, Path) and not is_dvc(reference):
        if not reference.is_file() or not reference.stat().st_size:
            load_frame(reference, "reference")  # says what is wrong with it, in its own words
        recorded = file_input(reference)  # hashed, not parsed: a valid profile spares that
    else:
        # A URI or a DVC pointer: its digest can only be that of the bytes parsed (the object
        # may change between two reads), so it is read once, here, profile or not.
        loaded = read_frame(reference, "reference")
        recorded = loaded.input
    digest = recorded["sha256"]
    name = display(reference)
    candidate = configured or default_path(settings.profile_home, digest)
    checks: list[CheckResult] = []
    if configured is not None or candidate.is_file():
        profile = load(candidate)
        if profile.sha256 == digest and _has_target(profile, target):
            return Baseline(profile, name, candidate, inputs={
                "reference": recorded, "reference_profile": file_input(candidate)})
        if configured is None and profile.sha256 != digest:
            raise InputError(f"reference profile names {profile.sha256}, not the digest in its "
                             f"file name (tampered with? delete it)", display(candidate))
        why = (f"was made from {profile.sha256}, but {name} is {digest}"
               if profile.sha256 != digest else
               f"has no label statistics for target {target!r}")
        checks.append(CheckResult(
            "drift: reference profile", Status.WARN,
            f"reference profile {display(candidate)} {why}; statistics recomputed from the "
            f"reference (refresh it with `mlgate profile`)", value="stale",
            details={"profile": display(candidate), "profile_sha256": profile.sha256,
                     "reference_sha256": digest}))
    frame = loaded.frame if loaded is not None else load_frame(reference, "reference")
    del loaded
    profile = build(frame, target, summaries=summaries)
    profile.sha256, profile.path = digest, name
    return Baseline(profile, name, None, checks, inputs={"reference": recorded})


def _has_target(profile: ReferenceProfile, target: str | None) -> bool:
    """A profile serves label drift only when made for the same target (or when the target
    is not a column of the reference at all: label drift then says so itself)."""
    if target is None or target not in profile.columns:
        return True
    return profile.label is not None and profile.label.column == target


def _check_target(profile: ReferenceProfile, target: str | None, path: Path) -> None:
    if not _has_target(profile, target):
        raise InputError(f"reference profile has no label statistics for target {target!r} "
                         f"and the reference is not named to recompute them; write it again "
                         f"with `mlgate profile --target {target}`", display(path))


def _recorded(profile: ReferenceProfile) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": profile.path, "sha256": profile.sha256}
    if profile.size is not None:
        entry["size"] = profile.size
    return entry
