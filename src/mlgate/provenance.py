"""Digests of every input a gate read, so its evidence is bound to those exact bytes.

A gate report without them proves nothing about *this* model: a passing report of another
model could be presented instead ("evidence laundering"). Each gate therefore records, per role
(``model``, ``data``, ``suite:churn.json``, ``config``, ...), the sha256 of what it read, and a
``meta`` block saying which mlgate and which commit produced it. The result's digest covers
both, so an edited input digest no longer matches the digest a ledger tag recorded.

Formats (the ledger reads them; keep them stable):

* a file:         ``{"path": P, "sha256": "sha256:<hex>", "size": N}``, P relative to the top of
  the git work tree holding the file (POSIX separators), else absolute;
* a preset:       ``{"preset": NAME, "sha256": ...}`` for files shipped in mlgate's ``checks/``;
* a ledger model: ``{"ref": "NAME@vX.Y.Z", "sha256": ...}``;
* an MLflow registry model: ``{"ref": "mlflow:models:/NAME@ALIAS", "version": "N", "sha256": ...}``
  (the reference as given, the version it resolved to, the model file that was loaded);
* a URL target:   ``{"url": URL}`` without user info, query or fragment (they may hold secrets);
* data by URI:    ``{"uri": URI, "sha256": ..., "size": N}`` (+ ``etag``/``version_id`` when the
  store sends them): the digest of the bytes the gate parsed, URI without credentials
  (:mod:`mlgate.data.remote`);
* data by a DVC pointer: the file's or URI's entry plus ``"dvc": {"pointer", "md5", "path"}``;
* an image:       ``{"image": NAME, "id": "sha256:..."}``.

Hashing streams 1 MiB chunks and is cached per process by (path, size, mtime, inode), so a
file used by two gates of one ``mlgate run`` (the held-out data, the candidate model, the
config) is read for hashing once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mlgate import __version__
from mlgate.errors import InputError

CHUNK = 1 << 20
UNREADABLE = "cannot read the file to record its sha256"
Input = dict[str, Any]

_HASHES: dict[tuple[str, int, int, int], str] = {}
_TOPLEVELS: dict[str, Path | None] = {}


def sha256_file(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes, read in 1 MiB chunks (models can be gigabytes)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"{UNREADABLE}: {exc.strerror}", path) from exc
    return "sha256:" + digest.hexdigest()


def sha256_bytes(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def _located(path: str | Path) -> Path:
    """An absolute path whose directories are resolved; the file name is kept as given, so a
    symlinked file inside a repository is still named by its place in that repository."""
    absolute = Path(os.path.abspath(path))
    return absolute.parent.resolve() / absolute.name


def git_toplevel(directory: Path) -> Path | None:
    """The top of the git work tree holding ``directory`` (one ``git`` call per directory)."""
    key = str(directory)
    if key not in _TOPLEVELS:
        out = _git(directory, "rev-parse", "--show-toplevel")
        _TOPLEVELS[key] = Path(out).resolve() if out else None
    return _TOPLEVELS[key]


def repo_path(path: str | Path) -> str:
    """How a report names a file: relative to its git work tree (POSIX), else absolute."""
    located = _located(path)
    top = git_toplevel(located.parent)
    if top is not None:
        try:
            return located.relative_to(top).as_posix()
        except ValueError:
            pass
    return located.as_posix()


def file_input(path: str | Path) -> Input:
    """``{"path", "sha256", "size"}`` of a file the gate read."""
    located = _located(path)
    try:
        st = located.stat()
    except OSError as exc:
        raise InputError(f"{UNREADABLE}: {exc.strerror}", path) from exc
    key = (str(located.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    digest = _HASHES.get(key)
    if digest is None:
        digest = _HASHES[key] = sha256_file(located)
    return {"path": repo_path(located), "sha256": digest, "size": st.st_size}


def preset_input(name: str, path: str | Path) -> Input:
    """``{"preset", "sha256"}`` of a file shipped with mlgate (a policy, SLO profile, suite)."""
    return {"preset": name, "sha256": file_input(path)["sha256"]}


def is_preset(path: str | Path) -> bool:
    """Whether ``path`` is one of the files shipped in mlgate's ``checks/`` catalogue."""
    from mlgate.resources import checks_dir

    try:
        catalogue = checks_dir().resolve()
    except FileNotFoundError:
        return False
    return _located(path).resolve().is_relative_to(catalogue)


def source_input(path: str | Path) -> Input:
    """A preset entry for a catalogue file, a file entry for anything else."""
    return preset_input(Path(path).stem, path) if is_preset(path) else file_input(path)


def ledger_input(ref: str, content: bytes) -> Input:
    """A registered artifact read from the ledger: its version tag and the bytes' sha256."""
    return {"ref": ref, "sha256": sha256_bytes(content)}


def registry_input(ref: str, version: str, model_file: Path) -> Input:
    """A model version read from an MLflow registry: the reference as given (an alias moves),
    the version it resolved to, and the sha256 of the model file inside it that was loaded."""
    return {"ref": ref, "version": version, "sha256": sha256_file(model_file)}


def url_input(url: str) -> Input:
    """A URL target without user info, query or fragment, which may carry credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return {"url": urlunsplit((parts.scheme, netloc, parts.path, "", ""))}


def image_input(image: str, image_id: str | None) -> Input:
    return {"image": image, "id": image_id}


def run_meta(directory: str | Path) -> dict[str, Any]:
    """Which mlgate judged, at which commit of the repository holding ``directory``, and when.

    ``dirty`` is true when tracked files differ from HEAD (untracked files such as the results
    directory do not count); ``commit`` and ``dirty`` are null outside a git repository.
    """
    where = Path(os.path.abspath(directory))
    commit = _git(where, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    dirty: bool | None = None
    if git_toplevel(where) is not None:
        status = _git(where, "--no-optional-locks", "status", "--porcelain",
                      "--untracked-files=no", keep_empty=True)
        dirty = bool(status) if status is not None else None
    return {
        "mlgate": __version__,
        "commit": commit or None,
        "dirty": dirty,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _git(directory: Path, *args: str, keep_empty: bool = False) -> str | None:
    """stdout of ``git -C DIRECTORY ARGS`` (stripped), or None when it fails or git is absent."""
    try:
        proc = subprocess.run(["git", "-C", str(directory), *args],
                              capture_output=True, text=True, check=False)
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    out = proc.stdout.strip()
    return out if out or keep_empty else None
