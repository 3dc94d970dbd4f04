"""The one exception that says "this signature does not vouch for this artifact".

Callers must tell a tampered artifact from a broken input: bad input (a missing key, a
malformed signature document, an unsupported key type) is an :class:`InputError` (exit 2),
while a well-formed signature that does not verify is a *refusal* (exit 1).

:class:`SignatureMismatch` subclasses :class:`InputError` on purpose, so that the system
fails closed: code that only catches ``InputError`` still refuses the artifact (exit 2)
instead of crashing or passing it. Callers that report refusals catch ``SignatureMismatch``
*before* ``InputError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from mlgate.errors import InputError

MismatchReason = Literal["key", "identity", "signature", "content"]


class SignatureMismatch(InputError):
    """A well-formed signature that does not verify: a refusal (exit 1), not bad input.

    ``reason`` says what did not hold, so a report can say more than "invalid":

    * ``key``: signed by another key than the expected public key;
    * ``identity``: a Sigstore certificate of another identity, issuer or repository;
    * ``signature``: the cryptographic signature does not verify (the document was edited);
    * ``content``: the signature is genuine but the file's bytes are not the signed ones.
    """

    def __init__(self, message: str, source: str | Path | None, reason: MismatchReason) -> None:
        self.reason: MismatchReason = reason
        super().__init__(message, source)
