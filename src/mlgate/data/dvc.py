"""Data named by a DVC pointer file (``train.csv.dvc``), read without the ``dvc`` package.

A ``.dvc`` file is DVC's way of versioning data by pointer: git holds the small YAML file with
the data's md5, the data sits in the work tree (after ``dvc pull``) or in a DVC remote. mlgate
reads the file next to the pointer when it is there, and otherwise the DVC remote's copy when
the repository's ``.dvc/config`` names a default remote that mlgate can read (a URI or a local
directory; DVC 3's layout ``files/md5/<2>/<30>``). Either way the bytes must have the pointer's
md5, so the pointer identifies the data; nothing is copied into the repository.
"""

from __future__ import annotations

import configparser
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.data.pointer import DvcPointer, file_name, is_uri, read_dvc, shown
from mlgate.errors import InputError

if TYPE_CHECKING:
    from mlgate.data.loading import Loaded

CHUNK = 1 << 20


def read_pointed(pointer: Path, role: str, parse: Callable[..., Any]) -> Loaded:
    """Load the data a pointer stands for; ``parse(file, source, role, name)`` parses it."""
    from mlgate.data.loading import Loaded
    from mlgate.provenance import file_input, repo_path

    ptr = read_dvc(pointer)
    meta = {"pointer": repo_path(pointer), **ptr.to_dict()}
    if ptr.data.is_file():
        _check_md5(ptr, _md5_file(ptr.data), str(ptr.data))
        frame = parse(ptr.data, str(ptr.data), role, ptr.data.name)
        return Loaded(frame, {**file_input(ptr.data), "dvc": meta})
    remote = remote_copy(ptr)
    if remote is None:
        raise InputError(f"{role}: {ptr.data.name} (md5 {ptr.md5}) is not next to its DVC "
                         "pointer and no readable default DVC remote is configured; run "
                         "`dvc pull` first", pointer)
    if isinstance(remote, Path):
        if not remote.is_file():
            raise InputError(f"{role}: md5 {ptr.md5} is neither next to the pointer nor in the "
                             f"DVC remote ({remote}); run `dvc push` where it was added",
                             pointer)
        _check_md5(ptr, _md5_file(remote), str(remote))
        frame = parse(remote, str(pointer), role, ptr.data.name)
        return Loaded(frame, {**file_input(remote), "dvc": meta})
    from mlgate.data.remote import downloaded

    with downloaded(remote, role) as (local, fetched):
        _check_md5(ptr, fetched.md5, shown(remote))
        frame = parse(local, shown(remote), role, file_name(ptr.data.name))
    return Loaded(frame, {**fetched.evidence(), "dvc": meta})


def remote_copy(ptr: DvcPointer) -> Path | str | None:
    """Where the default DVC remote keeps the pointer's data (None: no remote configured)."""
    config = _dvc_config(ptr.pointer.parent)
    if config is None:
        return None
    root, parser = config
    name = parser.get("core", "remote", fallback=None)
    if not name:
        return None
    # DVC writes the section as ['remote "name"'] (quotes included in the name).
    url = (parser.get(f"'remote \"{name}\"'", "url", fallback=None)
           or parser.get(f'remote "{name}"', "url", fallback=None))
    if not url:
        return None
    tail = f"files/md5/{ptr.md5[:2]}/{ptr.md5[2:]}"
    if is_uri(url):
        return url.rstrip("/") + "/" + tail
    base = Path(url)
    return (base if base.is_absolute() else root / ".dvc" / base) / tail


def _dvc_config(start: Path) -> tuple[Path, configparser.ConfigParser] | None:
    """The repository's committed ``.dvc/config`` (``config.local``, where credentials go,
    is deliberately not read), found from ``start`` upwards."""
    for directory in [start.resolve(), *start.resolve().parents]:
        file = directory / ".dvc" / "config"
        if file.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read_string(file.read_text(encoding="utf-8"), str(file))
            except (configparser.Error, UnicodeDecodeError) as exc:
                raise InputError(f"unreadable DVC config: {type(exc).__name__}", file) from exc
            return directory, parser
    return None


def _md5_file(path: Path) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            md5.update(chunk)
    return md5.hexdigest()


def _check_md5(ptr: DvcPointer, actual: str, where: str) -> None:
    """The data must be what the pointer names: a pointer whose file changed underneath it
    (edited, not re-added with ``dvc add``) would vouch for data it never saw."""
    if actual != ptr.md5:
        raise InputError(f"{where} has md5 {actual}, but the DVC pointer records {ptr.md5} "
                         "(run `dvc add` or `dvc checkout`)", ptr.pointer)
