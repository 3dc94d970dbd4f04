"""Read data named by a URI, hashing it while it streams, and turn every failure into one line.

Why stream to a temporary file: pandas needs a seekable file for Parquet, and the gate must
record the sha256 of exactly the bytes it judged. Hashing the stream that is being written
gives that digest in the same pass; the copy lives in the system's temporary directory only
while it is parsed (nothing goes into git, nothing is kept).

https/http are read with requests (TLS verified against the system's or ``REQUESTS_CA_BUNDLE``'s
certificates, never switched off); s3, gs and az through fsspec and the filesystem its extra
installs (``s3fs``, ``gcsfs``, ``adlfs``), with credentials and endpoints from the usual
environment (``AWS_*``, ``AWS_ENDPOINT_URL``, ``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_*``).
Messages name the URI in its printable form (:func:`mlgate.data.pointer.shown`) and never echo
a library's text that could hold a URL's query.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from mlgate.data.pointer import OBJECT_STORES, WEB, check_uri, file_name, shown
from mlgate.errors import InputError

CHUNK = 1 << 20
MAX_REDIRECTS = 5
METADATA_NETWORK = ipaddress.ip_network("fd00:ec2::/32")  # AWS's IPv6 metadata endpoint
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Stamp:
    """What an object store says identifies a stored object without reading it."""

    etag: str | None = None
    version_id: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["etag"] = self.etag
        if self.version_id:
            out["version_id"] = self.version_id
        return out


@dataclass(frozen=True)
class Fetched:
    """The digests of one complete read of a URI."""

    uri: str  # printable form
    sha256: str  # sha256:<hex>
    md5: str  # hex, to compare with a DVC pointer
    size: int
    stamp: Stamp

    def evidence(self) -> dict[str, Any]:
        """How a gate report records the input (see :mod:`mlgate.provenance`)."""
        return {"uri": self.uri, "sha256": self.sha256, "size": self.size,
                **self.stamp.to_dict()}


class Unreachable(InputError):
    """The data could not be read at all (host down, not found, denied, no extra)."""


@contextlib.contextmanager
def downloaded(uri: str, role: str = "data") -> Iterator[tuple[Path, Fetched]]:
    """Stream ``uri`` into a temporary file (deleted afterwards), hashing on the way."""
    with tempfile.TemporaryDirectory(prefix="mlgate-data-") as tmp:
        target = Path(tmp) / file_name(uri)
        with open(target, "wb") as out:
            fetched = _read(uri, role, out)
        yield target, fetched


def digest(uri: str, role: str = "data") -> Fetched:
    """The content digests of ``uri``, read once and thrown away (the ledger's default)."""
    return _read(uri, role, None)


def stamp(uri: str, role: str = "data") -> Stamp:
    """The object store's version id and ETag of ``uri``, without reading its content."""
    check_uri(uri)
    scheme = urlsplit(uri).scheme.lower()
    if scheme in WEB:
        with _http_get(uri, role) as response:
            tag = response.headers.get("ETag")
        if not tag:
            raise Unreachable(f"{role}: the server sends no ETag; use "
                              "ledger.data_digest: content", shown(uri))
        return Stamp(etag=tag)
    fs, path = _filesystem(uri, role)
    found = _stamp_of(_call(uri, role, lambda: fs.info(path)))
    if not (found.etag or found.version_id):
        raise Unreachable(f"{role}: the store reports neither a version id nor an ETag; use "
                          "ledger.data_digest: content", shown(uri))
    return found


def _read(uri: str, role: str, out: IO[bytes] | None) -> Fetched:
    check_uri(uri)
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    size = 0

    def take(chunk: bytes) -> None:
        nonlocal size
        sha.update(chunk)
        md5.update(chunk)
        size += len(chunk)
        if out is not None:
            out.write(chunk)

    if urlsplit(uri).scheme.lower() in WEB:
        with _http_get(uri, role) as response:
            try:
                for chunk in response.iter_content(CHUNK):
                    take(chunk)
            except Exception as exc:  # requests wraps socket errors in several types
                raise Unreachable(f"{role}: connection lost while reading "
                                  f"({type(exc).__name__})", shown(uri)) from exc
            found = Stamp(etag=response.headers.get("ETag"))
    else:
        fs, path = _filesystem(uri, role)
        before = _call(uri, role, lambda: _stamp_of(fs.info(path)))

        def copy() -> None:
            with fs.open(path, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    take(chunk)

        _call(uri, role, copy)
        found = _call(uri, role, lambda: _stamp_of(fs.info(path)))
        if found != before:
            raise InputError(f"{role}: the object changed while it was being read; run again",
                             shown(uri))
    return Fetched(shown(uri), "sha256:" + sha.hexdigest(), md5.hexdigest(), size, found)


@contextlib.contextmanager
def _http_get(uri: str, role: str) -> Iterator[Any]:
    import requests

    name = shown(uri)
    try:
        response = _follow(uri, role)
    except requests.exceptions.SSLError as exc:
        raise Unreachable(f"{role}: TLS certificate verification failed (set "
                          "REQUESTS_CA_BUNDLE to your CA's certificates)", name) from exc
    except requests.exceptions.Timeout as exc:
        raise Unreachable(f"{role}: the host did not answer in time", name) from exc
    except requests.exceptions.ConnectionError as exc:
        raise Unreachable(f"{role}: cannot connect to the host (unreachable or refusing "
                          "connections)", name) from exc
    except requests.exceptions.RequestException as exc:
        raise Unreachable(f"{role}: cannot read ({type(exc).__name__})", name) from exc
    try:
        code = response.status_code
        if code == 404 or code == 410:
            raise Unreachable(f"{role} not found (HTTP {code})", name)
        if code in (401, 403):
            raise Unreachable(f"{role}: access denied (HTTP {code})", name)
        if code >= 400:
            raise Unreachable(f"{role}: the server answered HTTP {code}", name)
        yield response
    finally:
        response.close()


def _follow(uri: str, role: str) -> Any:
    """GET ``uri``, following at most :data:`MAX_REDIRECTS` redirects, each checked by
    :func:`_refuse_link_local` (requests would follow them to any host)."""
    import requests

    target = uri
    for _ in range(MAX_REDIRECTS + 1):
        _refuse_link_local(target, role, uri)
        response = requests.get(target, stream=True, allow_redirects=False,
                                timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
        if not response.is_redirect:
            return response
        location = response.headers.get("Location", "")
        response.close()
        target = urljoin(target, location)
        if urlsplit(target).scheme.lower() not in WEB:
            raise Unreachable(f"{role}: redirected to a non-HTTP location", shown(uri))
    raise Unreachable(f"{role}: more than {MAX_REDIRECTS} redirects", shown(uri))


def _refuse_link_local(target: str, role: str, uri: str) -> None:
    """Refuse hosts that resolve to link-local addresses: that is where cloud metadata
    services hand out credentials (169.254.169.254, fd00:ec2::254), and a data set URI written
    in a pull request's mlgate.yaml must not make the gate read them into a report."""
    host = urlsplit(target).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return  # unresolvable: the request itself reports the host as unreachable
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address.is_link_local or address in METADATA_NETWORK:
            raise Unreachable(f"{role}: refusing to read from {address} (link-local: a cloud "
                              "metadata service)", shown(uri))


def _filesystem(uri: str, role: str) -> tuple[Any, str]:
    """An fsspec filesystem for the URI's scheme (a fresh instance, so that endpoint and
    credential settings are read now) and the path inside it."""
    scheme = urlsplit(uri).scheme.lower()
    protocol, extra = OBJECT_STORES[scheme]
    options: dict[str, Any] = {"skip_instance_cache": True}
    if protocol == "s3":
        options["config_kwargs"] = {"connect_timeout": CONNECT_TIMEOUT_S,
                                    "read_timeout": READ_TIMEOUT_S,
                                    "retries": {"max_attempts": 2}}
    try:
        import fsspec

        fs = fsspec.filesystem(protocol, **options)
    except ImportError as exc:
        raise Unreachable(f"{role}: reading {scheme}:// needs an optional extra: "
                          f"pip install 'mlgate[{extra}]'", shown(uri)) from exc
    except Exception as exc:
        raise Unreachable(f"{role}: cannot open {scheme}:// ({type(exc).__name__}: "
                          f"{_first_line(exc)})", shown(uri)) from exc
    return fs, uri.split("://", 1)[1].split("?", 1)[0]


def _call(uri: str, role: str, action: Any) -> Any:
    """Run one object-store action, mapping its failure to a one-line InputError."""
    name = shown(uri)
    try:
        return action()
    except InputError:
        raise
    except FileNotFoundError as exc:
        raise Unreachable(f"{role} not found (no such bucket or key)", name) from exc
    except PermissionError as exc:
        raise Unreachable(f"{role}: access denied ({_first_line(exc)})", name) from exc
    except Exception as exc:  # botocore/aiohttp/azure raise their own exception types
        kind = type(exc).__name__
        if "Credential" in kind:
            raise Unreachable(f"{role}: no usable credentials ({kind})", name) from exc
        if "Connect" in kind or "Endpoint" in kind or isinstance(exc, ConnectionError):
            raise Unreachable(f"{role}: cannot connect to the object store ({kind})",
                              name) from exc
        raise Unreachable(f"{role}: cannot read ({kind}: {_first_line(exc)})", name) from exc


def _stamp_of(info: dict[str, Any]) -> Stamp:
    lowered = {str(k).lower(): v for k, v in info.items()}
    etag = lowered.get("etag") or lowered.get("md5_hash")
    version = lowered.get("versionid") or lowered.get("version_id") or lowered.get("generation")
    return Stamp(etag=str(etag) if etag else None,
                 version_id=str(version) if version not in (None, "", "null") else None)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__
