"""Which workflow may sign the ledger, and how a Fulcio certificate proves it was that one.

A keyless signature is only as good as the identity check: any GitHub repository can get a
Sigstore certificate for *its* workflows. Fulcio copies the job's OIDC claims into the
certificate, so the check compares them with what the default branch's ``mlgate.yaml`` names:

* SAN (URI) == ``{server_url}/{repository}/{workflow}@{ref}``: GitHub's ``job_workflow_ref``,
  the workflow file that ran the job, at the ref it was loaded from;
* OIDC issuer (1.3.6.1.4.1.57264.1.8, and the older 1.1 when present) == ``issuer``;
* source repository (1.12 ``{server_url}/{repository}``, and 1.5 ``repository`` when present):
  the repository whose run it was. Without it, another repository calling our workflow as a
  reusable workflow would get a certificate with our SAN;
* source ref (1.14, and 1.6 when present) == ``ref``: the run was triggered on that ref.

Each pair needs at least one of its extensions (Fulcio writes both for GitHub). Comparisons are
exact: spell the repository as GitHub does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from mlgate.errors import InputError

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_SERVER = "https://github.com"
CONFIG_SOURCE = "mlgate.yaml:ledger.signing"

_WORKFLOW = re.compile(r"^\.github/workflows/[A-Za-z0-9._-]+\.ya?ml$")
_REF = re.compile(r"^refs/[A-Za-z0-9._/+-]+$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$")
_URL = re.compile(r"^https://[^\s/@]+(?:/[^\s@]*)?$")


def _fulcio(n: int) -> ObjectIdentifier:
    return ObjectIdentifier(f"1.3.6.1.4.1.57264.1.{n}")


# (v2 extension: DER UTF8String, v1 extension: raw bytes) per claim, from Fulcio's OID list.
_ISSUER = (_fulcio(8), _fulcio(1))
_SOURCE_REPOSITORY = (_fulcio(12), _fulcio(5))
_SOURCE_REF = (_fulcio(14), _fulcio(6))


@dataclass(frozen=True)
class KeylessPolicy:
    """The one identity allowed to sign ledger events (``ledger.signing`` in mlgate.yaml).

    ``workflow``: the workflow file, ``.github/workflows/ml-release.yml``; ``ref``: the ref it
    runs from, ``refs/heads/main``; ``repository``: ``OWNER/REPO``; ``issuer``: the OIDC issuer
    (GitHub's unless GitHub Enterprise Server); ``server_url``: where the repository lives.
    """

    workflow: str
    ref: str
    repository: str
    issuer: str = GITHUB_ISSUER
    server_url: str = GITHUB_SERVER

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.workflow, str) or not _WORKFLOW.match(self.workflow):
            problems.append(f"workflow {self.workflow!r} must be .github/workflows/FILE.yml")
        if not isinstance(self.ref, str) or not _REF.match(self.ref):
            problems.append(f"ref {self.ref!r} must be a full ref such as refs/heads/main")
        if not isinstance(self.repository, str) or not _REPOSITORY.match(self.repository):
            problems.append(f"repository {self.repository!r} must be OWNER/REPO")
        for label, value in (("issuer", self.issuer), ("server_url", self.server_url)):
            if not isinstance(value, str) or not _URL.match(value) or value.endswith("/"):
                problems.append(f"{label} {value!r} must be an https URL without a trailing /")
        if problems:
            raise InputError("; ".join(problems), CONFIG_SOURCE)

    @property
    def identity(self) -> str:
        """The certificate SAN a signature by this workflow carries (``job_workflow_ref``)."""
        return f"{self.server_url}/{self.repository}/{self.workflow}@{self.ref}"

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], *, repository: str | None = None,
        source: str = CONFIG_SOURCE,
    ) -> KeylessPolicy:
        """The policy from ``ledger.signing`` ({method: sigstore, workflow, ref, [repository,
        issuer, server_url]}); ``repository`` is the fallback when the section names none (the
        caller passes ``GITHUB_REPOSITORY`` or the origin remote's OWNER/REPO)."""
        if not isinstance(section, Mapping):
            raise InputError("must be a mapping", source)
        allowed = {"method", "workflow", "ref", "repository", "issuer", "server_url"}
        unknown = sorted(str(k) for k in section if k not in allowed)
        if unknown:
            raise InputError(f"unknown keys {', '.join(unknown)} (allowed: "
                             f"{', '.join(sorted(allowed))})", source)
        if section.get("method") != "sigstore":
            raise InputError(f"method {section.get('method')!r} is not 'sigstore'", source)
        missing = [k for k in ("workflow", "ref") if not section.get(k)]
        repo: str = section.get("repository") or repository or ""
        if not repo:
            missing.append("repository")
        if missing:
            raise InputError(f"keyless signing needs {', '.join(missing)}", source)
        try:
            return cls(
                workflow=section["workflow"], ref=section["ref"], repository=repo,
                issuer=section.get("issuer", GITHUB_ISSUER),
                server_url=section.get("server_url", GITHUB_SERVER),
            )
        except InputError as exc:
            raise InputError(exc.message, source) from exc


class IdentityMismatch(Exception):
    """The certificate was issued to another identity than the policy's (see
    :func:`identity_problems`); raised by :class:`CertificateIdentityPolicy`."""


class CertificateIdentityPolicy:
    """``policy`` as a sigstore ``VerificationPolicy`` (the protocol is one method,
    ``verify(cert)``), so the library applies it at its step for identity checks: after the
    chain and SCT are verified, before the log entry and signature."""

    def __init__(self, policy: KeylessPolicy) -> None:
        self.policy = policy

    def verify(self, cert: x509.Certificate) -> None:
        problems = identity_problems(cert, self.policy)
        if problems:
            raise IdentityMismatch("; ".join(problems))


def identity_problems(cert: x509.Certificate, policy: KeylessPolicy) -> list[str]:
    """Why ``cert`` was not issued to ``policy``'s workflow (empty: it was)."""
    problems: list[str] = []
    sans = _subject_alternative_names(cert)
    if sans != [policy.identity]:
        shown = ", ".join(sans) or "none"
        problems.append(f"signed by {shown}, not by {policy.identity}")
    server_repo = f"{policy.server_url}/{policy.repository}"
    checks = (
        ("OIDC issuer", _ISSUER, (policy.issuer, policy.issuer)),
        ("source repository", _SOURCE_REPOSITORY, (server_repo, policy.repository)),
        ("source ref", _SOURCE_REF, (policy.ref, policy.ref)),
    )
    for label, (v2_oid, v1_oid), (v2_wanted, v1_wanted) in checks:
        found = [
            (value, wanted)
            for value, wanted in ((_extension_v2(cert, v2_oid), v2_wanted),
                                  (_extension_v1(cert, v1_oid), v1_wanted))
            if value is not None
        ]
        if not found:
            problems.append(f"the certificate has no {label} extension")
        problems.extend(f"{label} is {value!r}, not {wanted!r}"
                        for value, wanted in found if value != wanted)
    return problems


def _subject_alternative_names(cert: x509.Certificate) -> list[str]:
    """Every SAN, URIs as-is, anything else tagged with its type so it never matches a URI."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [n.value if isinstance(n, x509.UniformResourceIdentifier) else f"{type(n).__name__}"
            f":{n.value!r}" for n in names]


def _extension_v1(cert: x509.Certificate, oid: ObjectIdentifier) -> str | None:
    """A Fulcio v1 extension: the value's raw bytes are the UTF-8 text."""
    raw = _extension_bytes(cert, oid)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return repr(raw)


def _extension_v2(cert: x509.Certificate, oid: ObjectIdentifier) -> str | None:
    """A Fulcio v2 extension: a DER UTF8String (tag 0x0C), decoded strictly."""
    raw = _extension_bytes(cert, oid)
    if raw is None:
        return None
    if len(raw) < 2 or raw[0] != 0x0C:
        return repr(raw)
    length, offset = raw[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(raw) < 2 + count:
            return repr(raw)
        length, offset = int.from_bytes(raw[2:2 + count], "big"), 2 + count
    body = raw[offset:]
    if len(body) != length:
        return repr(raw)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return repr(raw)


def _extension_bytes(cert: x509.Certificate, oid: ObjectIdentifier) -> bytes | None:
    try:
        value = cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    return value.value if isinstance(value, x509.UnrecognizedExtension) else None
