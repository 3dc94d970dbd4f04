"""Where a data set lives: a local file, a URI (https, s3, gs, az) or a DVC pointer file.

Teams keep large or personal data in object stores and warehouses and must be able to delete it,
so a repository refers to it instead of holding it. This module only *names* data: it tells a
URI from a path, parses one into something readable, redacts what must never be printed or
recorded (user info, signed-URL queries), and reads DVC's ``*.dvc`` pointer files. Reading is
:mod:`mlgate.data.remote`'s job, parsing :mod:`mlgate.data.loading`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from mlgate.errors import InputError

# scheme -> (fsspec protocol, extra that provides it); https/http are read with requests.
OBJECT_STORES: dict[str, tuple[str, str]] = {
    "s3": ("s3", "s3"),
    "gs": ("gcs", "gcs"),
    "gcs": ("gcs", "gcs"),
    "az": ("az", "azure"),
    "abfs": ("abfs", "azure"),
    "abfss": ("abfs", "azure"),
}
WEB = ("https", "http")
SCHEMES = ("file", *WEB, *OBJECT_STORES)
# Read by Spark itself (data.engine: spark), through its Hadoop filesystems: never by mlgate.
SPARK_SCHEMES = ("s3a", "s3n", "hdfs", "viewfs", "webhdfs", "wasb", "wasbs", "abfss", "dbfs")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Query parameters that carry credentials (pre-signed S3/GCS URLs, Azure SAS tokens, API keys).
_SECRET_PARAMS = re.compile(
    r"(signature|sig|token|key|secret|password|credential|x-amz-|x-goog-|^se$|^sp$|^sv$)",
    re.IGNORECASE)
DVC_SUFFIX = ".dvc"
MAX_DVC_BYTES = 64 * 1024

Location = Path | str
"""A data set as settings hold it: a local :class:`Path`, or a URI string (not ``file://``)."""


def is_uri(value: str | Path) -> bool:
    """Whether ``value`` is written as a URI (``scheme://...``) rather than a path."""
    return isinstance(value, str) and bool(_URI.match(value))


def location(value: str | Path, resolve: Any = Path, spark: bool = False) -> Location:
    """A configured or flag value as a :data:`Location`: ``file://`` URIs and paths become
    paths (``resolve`` makes a relative path absolute), other URIs stay strings, checked.
    ``spark``: the Spark engine reads it, so Spark's own schemes (``s3a://``, ``hdfs://``)
    are accepted too."""
    if not is_uri(value):
        return resolve(value) if isinstance(value, str) else value
    text = str(value)
    scheme = text.split("://", 1)[0].lower()
    if scheme == "file":
        return file_path(text)
    if spark and scheme in SPARK_SCHEMES:
        if not urlsplit(text).netloc and scheme != "dbfs":
            raise InputError("malformed URI: no host or bucket", shown(text))
        return text
    check_uri(text)
    return text


def file_path(uri: str) -> Path:
    """The local path of a ``file://`` URI (``file:///abs/path`` or ``file://localhost/...``)."""
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise InputError("a file:// URI must name a local file (file:///path), not host "
                         f"{parts.netloc!r}", shown(uri))
    if not parts.path:
        raise InputError("malformed URI: no path", shown(uri))
    return Path(unquote(parts.path))


def check_uri(uri: str) -> None:
    """InputError (exit 2) for a URI mlgate cannot read: unknown scheme, no host or bucket,
    no object key."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError as exc:
        raise InputError(f"malformed URI: {exc}", shown(uri)) from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        hint = (f"; {scheme}:// is read by the Spark engine (data.engine: spark)"
                if scheme in SPARK_SCHEMES else "")
        raise InputError(f"unsupported URI scheme {scheme!r} (use a path, file://, https://, "
                         f"s3://, gs:// or az://){hint}", shown(uri))
    host = parts.hostname if scheme in WEB else parts.netloc
    if not host:
        what = "host" if scheme in WEB else "bucket or container"
        raise InputError(f"malformed URI: no {what}", shown(uri))
    if scheme not in WEB and parts.path.strip("/") == "":
        raise InputError("malformed URI: no object key after the bucket", shown(uri))
    if scheme in WEB and parts.path.rstrip("/") == "":
        raise InputError("malformed URI: no file path after the host", shown(uri))


def shown(uri: str) -> str:
    """``uri`` as it may be printed and recorded: no user info, no fragment, and no query when
    any of its parameters looks like a credential (a pre-signed URL, an Azure SAS token)."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a bad port: still name it, without user info, query or fragment
        return re.sub(r"//[^/?#]*@", "//", uri).split("?", 1)[0].split("#", 1)[0]
    if parts.scheme.lower() in WEB:
        host = f"[{host}]" if ":" in host else host
        netloc = f"{host}:{port}" if port is not None else host
    else:
        netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query and any(_SECRET_PARAMS.search(k) for k, _ in parse_qsl(query, True)):
        query = ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def label(loc: Location) -> str:
    """How messages name a data set: a URI in its printable form, a path as it is."""
    return shown(loc) if isinstance(loc, str) else str(loc)


def file_name(uri: str) -> str:
    """The last part of a URI's path (``train.csv.gz``): its suffixes choose the parser."""
    name = unquote(urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1])
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[-100:] or "data"


@dataclass(frozen=True)
class DvcPointer:
    """One output of a DVC pointer file: where the data sits next to it, its md5 and size."""

    pointer: Path  # the .dvc file
    data: Path  # the file it stands for, next to it
    md5: str
    size: int | None
    path: str  # outs[0].path as written, relative to the pointer's directory

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"md5": self.md5, "path": self.path}
        if self.size is not None:
            out["size"] = self.size
        return out


def is_dvc(loc: Location) -> bool:
    return isinstance(loc, Path) and loc.name.endswith(DVC_SUFFIX)


def read_dvc(pointer: Path) -> DvcPointer:
    """Parse a ``*.dvc`` file (``outs: [{md5, path, size}]``); nothing is fetched here.

    Only single-file outputs are supported: a directory output (md5 ending ``.dir``) stands for
    a listing stored in DVC's cache, which a data gate cannot read as one table.
    """
    from mlgate.bounded import parse_yaml

    if not pointer.is_file():
        raise InputError("DVC pointer file not found", pointer)
    raw = pointer.read_bytes()
    if len(raw) > MAX_DVC_BYTES:
        raise InputError(f"DVC pointer file is larger than {MAX_DVC_BYTES} bytes", pointer)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("DVC pointer file is not UTF-8 text", pointer) from exc
    doc, _ = parse_yaml(text, pointer)
    outs = doc.get("outs") if isinstance(doc, dict) else None
    if not isinstance(outs, list) or not outs or not isinstance(outs[0], dict):
        raise InputError("not a DVC pointer file: no 'outs' list", pointer)
    if len(outs) > 1:
        raise InputError(f"DVC pointer file lists {len(outs)} outputs; mlgate reads one "
                         "data set per pointer", pointer)
    out = outs[0]
    md5, path, size = out.get("md5"), out.get("path"), out.get("size")
    if not isinstance(md5, str) or not re.fullmatch(r"[0-9a-f]{32}(\.dir)?", md5):
        raise InputError("DVC pointer file has no md5 for its output (outs[0].md5)", pointer)
    if md5.endswith(".dir"):
        raise InputError("DVC pointer to a directory; point at one CSV or Parquet file",
                         pointer)
    if not isinstance(path, str) or not path or Path(path).is_absolute() or ".." in Path(
            path).parts:
        raise InputError("DVC pointer file has no relative outs[0].path", pointer)
    if size is not None and (not isinstance(size, int) or size < 0):
        raise InputError("DVC pointer file has a bad outs[0].size", pointer)
    return DvcPointer(pointer, pointer.parent / path, md5, size, Path(path).as_posix())
