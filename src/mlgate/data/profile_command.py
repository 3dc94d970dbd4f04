"""``mlgate profile``: profile a reference once and save it where the data gate looks."""

from __future__ import annotations

from pathlib import Path

from mlgate.data.reference_profile import build, default_path, save
from mlgate.data.settings import display
from mlgate.provenance import file_input
from mlgate.result import GateResult


def write_profile(reference: Path, out: Path | None, target: str | None, home: Path
                  ) -> GateResult:
    """Profile ``reference`` and write it to ``out`` (default:
    ``<home>/.mlgate/profiles/<sha256>.json``).

    The digest is taken around the read and must not change, so the profile names exactly the
    bytes it describes (a file rewritten meanwhile would key one file's statistics by
    another's digest)."""
    from mlgate.data.loading import load_frame
    from mlgate.errors import InputError

    frame = load_frame(reference, "reference")
    recorded = file_input(reference)
    profile = build(frame, target)
    if file_input(reference)["sha256"] != recorded["sha256"]:
        raise InputError("reference changed while it was being profiled", reference)
    profile.sha256, profile.path, profile.size = (recorded["sha256"], str(recorded["path"]),
                                                  int(recorded["size"]))
    path = out or default_path(home, recorded["sha256"])
    try:
        save(profile, path)
    except OSError as exc:
        raise InputError(f"cannot write the reference profile: {exc.strerror}", path) from exc
    size = path.stat().st_size
    numeric = sum(c.kind == "numeric" for c in profile.columns.values())
    result = GateResult(
        gate="profile",
        summary=(f"{display(reference)}: {profile.rows} rows x {len(profile.columns)} columns "
                 f"({numeric} numeric) profiled to {display(path)} ({size / 1024:.0f} KiB)"
                 + (f"; target {target}" if profile.label is not None else "")),
    )
    result.inputs = {"reference": recorded}
    result.data = {"wrote": [f"{display(path)} ({size / 1024:.0f} KiB, profile of "
                             f"{display(reference)}, {recorded['sha256']})"],
                   "outputs": {"reference_profile": str(path),
                               "reference_sha256": recorded["sha256"]}}
    return result
