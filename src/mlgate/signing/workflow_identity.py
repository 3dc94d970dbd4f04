"""Which workflow may sign (ledger events and artifacts), and how a Fulcio certificate proves
it was that one.

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

:class:`KeylessPolicy` is the one description of that workflow; :attr:`KeylessPolicy.signer`
is what its certificates (and the OIDC tokens they are issued for) must say, a
:class:`SignerIdentity`. Artifact verification can also expect a signer that is not a GitHub
workflow (an e-mail identity of another issuer): a :class:`SignerIdentity` without source
repository or ref. :func:`certificate_problems` is the one check of a certificate against it.
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

# What each field must be (matched in full): (pattern, the rule in words).
_WORKFLOW = (re.compile(r"\.github/workflows/[A-Za-z0-9._-]+\.ya?ml"),
             "must be .github/workflows/FILE.yml")
# A branch or tag, no "..": pinning one is what stops a run of the same workflow file for a pull
# request (refs/pull/N/merge) from producing signatures that verify.
_REF = (re.compile(r"refs/(?:heads|tags)/(?!.*\.\.)[A-Za-z0-9._/+-]+"),
        "must be a full ref of a branch or tag, such as refs/heads/main")
_REPOSITORY = (re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+"),
               "must be OWNER/REPO")
_URL = (re.compile(r"https://[^\s/@]+(?:/[^\s@]*[^\s@/])?"),
        "must be an https URL without a trailing /")
_RULES = {"workflow": _WORKFLOW, "ref": _REF, "workflow_ref": _REF, "repository": _REPOSITORY,
          "workflow_repository": _REPOSITORY, "issuer": _URL, "server_url": _URL}


def _fulcio(n: int) -> ObjectIdentifier:
    return ObjectIdentifier(f"1.3.6.1.4.1.57264.1.{n}")


# (v2 extension: DER UTF8String, v1 extension: raw bytes) per claim, from Fulcio's OID list.
_ISSUER = (_fulcio(8), _fulcio(1))
_SOURCE_REPOSITORY = (_fulcio(12), _fulcio(5))
_SOURCE_REF = (_fulcio(14), _fulcio(6))


@dataclass(frozen=True)
class SignerIdentity:
    """What a Fulcio certificate must say about whom it was issued to (and so what the OIDC
    token it is issued for must claim).

    ``identity``: the subject alternative name (a URI, or an e-mail address); ``issuer``: the
    OIDC issuer; ``repository`` (``OWNER/REPO``) and ``ref``: the source repository and ref of
    the run, None where not pinned (an identity that is not a GitHub workflow);
    ``server_url``: where ``repository`` lives. A GitHub workflow's is
    :attr:`KeylessPolicy.signer`.
    """

    identity: str
    issuer: str = GITHUB_ISSUER
    repository: str | None = None
    ref: str | None = None
    server_url: str = GITHUB_SERVER

    def __post_init__(self) -> None:
        if not isinstance(self.identity, str) or not self.identity.strip():
            raise InputError("the expected signer identity is empty", "identity")
        _refuse_bad({"issuer": self.issuer, "server_url": self.server_url},
                    repository=self.repository, ref=self.ref)


@dataclass(frozen=True)
class KeylessPolicy:
    """The one GitHub Actions workflow allowed to sign (``ledger.signing`` in mlgate.yaml):
    ledger events, and model artifacts with :class:`~mlgate.signing.methods.SigstoreMethod`.

    ``workflow``: the workflow file, ``.github/workflows/ml-release.yml``; ``ref``: the ref the
    run is triggered on, ``refs/heads/main``; ``repository``: ``OWNER/REPO`` of the run;
    ``issuer``: the OIDC issuer (GitHub's unless GitHub Enterprise Server); ``server_url``:
    where the repository lives.

    ``workflow_repository`` and ``workflow_ref``: when the workflow is a reusable workflow of
    another repository (``uses: OWNER/REPO/.github/workflows/FILE@REF``), where its file is
    and at which ref. They change only the certificate's SAN (default: ``repository`` and
    ``ref``); the source repository and ref stay the calling run's.
    """

    workflow: str
    ref: str
    repository: str
    issuer: str = GITHUB_ISSUER
    server_url: str = GITHUB_SERVER
    workflow_repository: str | None = None
    workflow_ref: str | None = None

    def __post_init__(self) -> None:
        _refuse_bad({"workflow": self.workflow, "ref": self.ref, "repository": self.repository,
                     "issuer": self.issuer, "server_url": self.server_url},
                    workflow_repository=self.workflow_repository,
                    workflow_ref=self.workflow_ref)

    @property
    def identity(self) -> str:
        """The certificate SAN a signature by this workflow carries (``job_workflow_ref``)."""
        repository = self.workflow_repository or self.repository
        return f"{self.server_url}/{repository}/{self.workflow}@{self.workflow_ref or self.ref}"

    @property
    def signer(self) -> SignerIdentity:
        """What this workflow's certificates say: SAN, issuer, source repository and ref."""
        return SignerIdentity(identity=self.identity, issuer=self.issuer,
                              repository=self.repository, ref=self.ref,
                              server_url=self.server_url)

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


def _refuse_bad(required: Mapping[str, object], **optional: object) -> None:
    """One InputError naming every field that is not what its name requires (an ``optional``
    one only when given); its source is the first bad field (``from_config`` names the
    configuration instead)."""
    fields = {**required, **{name: v for name, v in optional.items() if v is not None}}
    bad = [name for name, value in fields.items()
           if not isinstance(value, str) or not _RULES[name][0].fullmatch(value)]
    if bad:
        raise InputError("; ".join(f"{name} {fields[name]!r} {_RULES[name][1]}" for name in bad),
                         bad[0])


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


@dataclass(frozen=True)
class IdentityProblem:
    """One way a certificate is not the expected signer's.

    ``claim``: ``identity`` (the SAN), ``OIDC issuer``, ``source repository`` or ``source
    ref``; ``found``: what the certificate says (None: it has no such SAN or extension);
    ``wanted``: what the signer's would say. ``str()`` is the wording the ledger shows.
    """

    claim: str
    found: str | None
    wanted: str

    def __str__(self) -> str:
        if self.claim == "identity":
            return f"signed by {self.found or 'none'}, not by {self.wanted}"
        if self.found is None:
            return f"the certificate has no {self.claim} extension"
        return f"{self.claim} is {self.found!r}, not {self.wanted!r}"


def identity_problems(cert: x509.Certificate, policy: KeylessPolicy) -> list[str]:
    """Why ``cert`` was not issued to ``policy``'s workflow (empty: it was)."""
    return [str(problem) for problem in certificate_problems(cert, policy.signer)]


def certificate_problems(cert: x509.Certificate, signer: SignerIdentity) -> list[IdentityProblem]:
    """Why ``cert`` was not issued to ``signer`` (empty: it was).

    The SAN must be exactly one, the expected identity (a URI, or an e-mail address when the
    identity has no scheme). Each of issuer, source repository (when pinned) and source ref
    (when pinned) needs at least one of its two extensions, and every one present must match.
    """
    problems: list[IdentityProblem] = []
    names = _subject_alternative_names(cert)
    kind = x509.UniformResourceIdentifier if "://" in signer.identity else x509.RFC822Name
    if [(type(n), n.value) for n in names] != [(kind, signer.identity)]:
        shown = ", ".join(_shown(n) for n in names) or None
        problems.append(IdentityProblem("identity", shown, signer.identity))
    checks: list[tuple[str, tuple[ObjectIdentifier, ObjectIdentifier], tuple[str, str]]] = [
        ("OIDC issuer", _ISSUER, (signer.issuer, signer.issuer)),
    ]
    if signer.repository is not None:
        server_repo = f"{signer.server_url}/{signer.repository}"
        checks.append(("source repository", _SOURCE_REPOSITORY, (server_repo, signer.repository)))
    if signer.ref is not None:
        checks.append(("source ref", _SOURCE_REF, (signer.ref, signer.ref)))
    for label, (v2_oid, v1_oid), (v2_wanted, v1_wanted) in checks:
        found = [
            (value, wanted)
            for value, wanted in ((_extension_v2(cert, v2_oid), v2_wanted),
                                  (_extension_v1(cert, v1_oid), v1_wanted))
            if value is not None
        ]
        if not found:
            problems.append(IdentityProblem(label, None, v2_wanted))
        problems.extend(IdentityProblem(label, value, wanted)
                        for value, wanted in found if value != wanted)
    return problems


def _subject_alternative_names(cert: x509.Certificate) -> list[x509.GeneralName]:
    try:
        return list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return []


def _shown(name: x509.GeneralName) -> str:
    """A SAN as a refusal shows it: URIs and e-mail addresses as they are, anything else
    tagged with its type."""
    if isinstance(name, x509.UniformResourceIdentifier | x509.RFC822Name):
        return name.value
    return f"{type(name).__name__}:{name.value!r}"


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
