"""The data a ``repository_dispatch`` event names: untrusted text, checked, never obeyed.

A data pipeline announces new data with ``POST /repos/{o}/{r}/dispatches`` and may say which
data it means in ``client_payload.data``. Whoever holds such a token (or a compromised
pipeline) could name anything there, so the payload never chooses what is trained on: that is
``ledger.data`` (or ``data.path``) on the default branch. The payload is only compared with it,
so a pipeline that writes somewhere else is told so (exit 2) instead of silently training on
the old data.
"""

from __future__ import annotations

from mlgate.data.pointer import check_uri, is_uri, shown
from mlgate.errors import InputError

MAX_LENGTH = 2048
SOURCE = "client_payload.data"


def check_dispatched(value: str, configured: str) -> str:
    """``value`` as printable text when it names the configured data; InputError otherwise.

    ``configured`` is the data's source as :mod:`mlgate.ct.changed` shows it (a repository path
    or a URI without credentials)."""
    text = value.strip()
    if len(text) > MAX_LENGTH:
        raise InputError(f"longer than {MAX_LENGTH} characters", SOURCE)
    if any(not ch.isprintable() for ch in text):
        raise InputError("contains control characters; expected a URI or a repository path",
                         SOURCE)
    if is_uri(text):
        if text.split("://", 1)[0].lower() != "file":
            try:
                check_uri(text)
            except InputError as exc:
                raise InputError(exc.message, SOURCE) from exc
        named = shown(text)
    else:
        named = text.removeprefix("./")
    if named != configured:
        raise InputError(
            f"names {named!r}, but the data mlgate.yaml trains on is {configured!r}; continuous "
            "training reads only the data the default branch's mlgate.yaml names (change "
            "ledger.data in a pull request to move it)", SOURCE)
    return named
