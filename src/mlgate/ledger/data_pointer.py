"""``ledger.data`` given as a URI or a DVC pointer: what a version records, how gate evidence is
bound to it, and how ``verify`` re-checks it.

Data kept in an object store can change (or be deleted) after a version was registered, while
git cannot see it. A version therefore records the pointer together with a digest of what it
pointed at: the sha256 of the content, computed while streaming (``ledger.data_digest:
content``, the default: it catches any change), or the store's version id / ETag (``etag``:
nothing is read, so it is cheap for large objects, but only as strong as the store's notion of
identity). ``verify`` reads the pointer again when it can and fails on a different digest;
data that cannot be reached (deleted for GDPR, offline, no credentials) is reported, not failed.
"""

from __future__ import annotations

from typing import Any

from mlgate.data.pointer import DVC_SUFFIX, is_uri, location, read_dvc, shown
from mlgate.errors import InputError
from mlgate.result import CheckResult, Status

DIGEST_MODES = ("content", "etag")
ROLE = "ledger.data"


def is_remote(data_path: str) -> bool:
    """Whether ``ledger.data`` names data outside the repository (a URI other than file://)."""
    return is_uri(data_path) and isinstance(location(data_path), str)


def pointer_record(uri: str, mode: str = "content") -> dict[str, Any]:
    """What a version records about data named by a URI (InputError, exit 2, when it cannot
    be read: a version must not be registered against data nobody can check)."""
    from mlgate.data import remote

    checked = location(uri)
    assert isinstance(checked, str)
    if mode == "etag":
        found = remote.stamp(checked, ROLE)
        return {"uri": shown(checked), "digest": "etag", **found.to_dict()}
    fetched = remote.digest(checked, ROLE)
    return {"uri": fetched.uri, "digest": "content", "sha256": fetched.sha256,
            "size": fetched.size, **fetched.stamp.to_dict()}


def dvc_details(rel: str, content: bytes) -> dict[str, Any] | None:
    """The md5 and data path a committed ``*.dvc`` file names (recorded beside its sha256)."""
    if not rel.endswith(DVC_SUFFIX):
        return None
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="mlgate-dvc-") as tmp:
        copy = Path(tmp) / Path(rel).name
        copy.write_bytes(content)
        try:
            return read_dvc(copy).to_dict()
        except InputError as exc:
            raise InputError(exc.message, f"ledger.data: {rel}") from exc


def data_binding(spec: dict[str, Any], data: dict[str, Any]) -> str | None:
    """Why a gate's input ``spec`` is not the version's ``data`` when both name the same
    pointer (None when bound, or when they are about different things)."""
    uri = data.get("uri")
    if isinstance(uri, str) and spec.get("uri") == uri:
        if data.get("digest") == "etag":
            for key in ("version_id", "etag"):
                if data.get(key) and spec.get(key) is not None:
                    if spec[key] != data[key]:
                        return (f"it read {uri} at {key} {spec[key]}, but the version records "
                                f"{data[key]}")
                    return None
            return (f"it read {uri} without the version id or ETag the version records, so "
                    "it cannot be matched to it")
        if spec.get("sha256") != data.get("sha256"):
            return (f"it read {uri} as {spec.get('sha256')}, but the version records "
                    f"{data.get('sha256')}")
        return None
    dvc = spec.get("dvc")
    recorded = data.get("dvc")
    if (isinstance(dvc, dict) and isinstance(recorded, dict)
            and dvc.get("pointer") == data.get("path") and dvc.get("md5") != recorded.get("md5")):
        return (f"it read the data of {data.get('path')} with md5 {dvc.get('md5')}, but the "
                f"version records {recorded.get('md5')}")
    return None


def recheck(data: Any, prefix: str = "") -> CheckResult | None:
    """``verify``'s check of a version's data pointer: read it again and compare (a warning,
    not a failure, when it cannot be read; a failure when it reads differently)."""
    if not isinstance(data, dict) or not isinstance(data.get("uri"), str):
        return None
    from mlgate.data import remote

    uri = data["uri"]
    name = f"{prefix}data pointer"
    mode = data.get("digest", "content")
    try:
        if mode == "etag":
            found = remote.stamp(uri, ROLE).to_dict()
            key = "version_id" if data.get("version_id") else "etag"
            now, then = found.get(key), data.get(key)
        else:
            key, now, then = "sha256", remote.digest(uri, ROLE).sha256, data.get("sha256")
    except InputError as exc:
        return CheckResult(name, Status.WARN,
                           f"{uri}: not reachable, not re-checked ({exc.message})",
                           details={"uri": uri, "digest": mode})
    if now != then:
        return CheckResult(name, Status.FAIL,
                           f"{uri} now has {key} {now}, but the version records {then} (the "
                           "data changed after registration)", value=now, threshold=then,
                           details={"uri": uri, "digest": mode})
    return CheckResult(name, Status.PASS, f"{uri} still has {key} {now}", value=now,
                       threshold=then, details={"uri": uri, "digest": mode})
