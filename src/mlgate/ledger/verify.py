"""``mlgate verify``: judge one ledger tag the way every decision judges it, and show why.

The checks are the validating reader's own (:mod:`mlgate.ledger.validate`): a tag verifies
exactly when ``status``, the champion lookup and ``promote`` would count it. For a stage tag
the checks of its version follow, prefixed with the version.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from mlgate.errors import InputError
from mlgate.ledger.data_pointer import recheck
from mlgate.ledger.policy import LedgerConfig
from mlgate.ledger.tags import parse_tag
from mlgate.ledger.validate import Entry, Ledger
from mlgate.result import CheckResult, GateResult, Status


def verify(repo: Path, target: str, remote: str = "origin",
           parsed: dict[str, LedgerConfig] | None = None,
           config_path: str = "mlgate.yaml") -> GateResult:
    with Ledger(repo, remote=remote, parsed=parsed, config_path=config_path) as ledger:
        entry = resolve(ledger, target)
        result = GateResult(gate="verify", summary=f"verify {entry.tag}")
        result.checks.extend(entry.checks)
        git_says = _git_verify_tag(ledger, entry)
        if git_says is not None:
            result.checks.append(git_says)
        version: Entry | None = entry if entry.kind == "register" else None
        if entry.kind != "register" and entry.version:
            state = ledger.index.artifacts.get(entry.artifact)
            if state is not None and entry.version in state.versions:
                version = ledger.version(entry.artifact, entry.version)
                result.checks.extend(_prefixed(version, f"{entry.version}: "))
        if version is not None and version.record is not None:
            # Only verify reads a data pointer again: every other reader decides from git alone
            # (a store being down must not change which version is in production).
            prefix = "" if version is entry else f"{entry.version}: "
            pointer = recheck(version.record.get("data"), prefix)
            if pointer is not None:
                result.checks.append(pointer)
        result.data["outputs"] = {"tag": entry.tag, "valid": "true" if entry.valid else "false"}
        return result


def resolve(ledger: Ledger, target: str) -> Entry:
    """The entry of ``NAME@vX.Y.Z``, ``NAME#STAGE#N`` or ``NAME#STAGE`` (the valid current)."""
    if target in ledger.index.refs and parse_tag(target) is not None:
        return ledger.entry(target)
    if parse_tag(target) is not None:
        raise InputError("no such tag", target)
    if "#" in target:
        name, _, stage = target.partition("#")
        ledger.artifact(name, target)
        view = ledger.stage(name, stage)
        if view.entry is None:
            why = "".join(f"; ignored {e.tag}: {e.reason}" for e in view.ignored[:3])
            raise InputError(f"no valid version of {name!r} is in stage {stage!r}{why}", target)
        return view.entry
    raise InputError("expected NAME@vX.Y.Z, NAME#STAGE#N or NAME#STAGE", target)


def _git_verify_tag(ledger: Ledger, entry: Entry) -> CheckResult | None:
    """``git verify-tag`` against the default branch's allowed signers, for a tag that must
    be signed: git's own verdict beside the reader's in-process one."""
    anchors = ledger.signing_anchors()
    policy = anchors.policy
    if (policy is None or policy.method != "ssh" or anchors.problem is not None
            or not policy.required(entry.artifact, entry.stage, entry.counter)):
        return None
    with tempfile.TemporaryDirectory(prefix="mlgate-signers-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        signers.write_text(anchors.text, encoding="utf-8")
        proc = subprocess.run(
            ["git", "-C", str(ledger.repo), "-c", "gpg.format=ssh",
             "-c", f"gpg.ssh.allowedSignersFile={signers}", "verify-tag", "--", entry.tag],
            capture_output=True, text=True, check=False)
    said = " ".join((proc.stderr or proc.stdout).split())[:300]
    return CheckResult("signature (git verify-tag)",
                       Status.PASS if proc.returncode == 0 else Status.FAIL,
                       said or f"git verify-tag exited {proc.returncode}")


def _prefixed(entry: Entry, prefix: str) -> list[CheckResult]:
    return [CheckResult(prefix + c.name, c.status, c.message, c.value, c.threshold, c.details)
            for c in entry.checks]
