"""How an artifact is signed and whom a signature must come from.

The *verifier* always chooses the method and the expected signer (from the default branch's
configuration); nothing in a signature document decides how it is checked. A document that
carries a certificate is never accepted by a :class:`KeyMethod`, and one that names a key is
never accepted by a :class:`SigstoreMethod`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlgate.signing.workflow_identity import KeylessPolicy, SignerIdentity


@dataclass(frozen=True)
class KeyMethod:
    """Sign with an elliptic-curve private key; verify with its public key. Fully offline.

    ``private_key`` is needed to sign (a PEM or OpenSSH file, from a CI secret), and
    ``public_key`` to verify (the file committed on the default branch). ``password`` opens an
    encrypted private key.
    """

    private_key: Path | None = None
    public_key: Path | None = None
    password: str | None = None


@dataclass(frozen=True)
class SigstoreMethod:
    """Keyless signing with Sigstore: a short-lived Fulcio certificate for an OIDC identity.

    ``signer`` is whom a certificate must name (needed to verify): for the release workflow,
    build the method from the same :class:`KeylessPolicy` the ledger uses
    (:meth:`from_policy`, :meth:`github_workflow`), so artifacts and ledger events expect one
    identity; a :class:`SignerIdentity` of its own for any other OIDC identity. Verification
    checks the certificate with :func:`~mlgate.signing.workflow_identity.certificate_problems`.

    Signing needs an OIDC token: ``identity_token``, or in GitHub Actions the job's own token
    (``permissions: id-token: write``). With a ``signer``, signing first checks that the token
    is for it, so a signature the verifier would refuse is never made.

    ``trust_config`` is a Sigstore ClientTrustConfig JSON file (a private instance, or the
    public one's trust root for offline verification); without it the public-good instance's
    trust root is fetched through TUF (network). ``staging`` uses Sigstore's staging instance.
    """

    signer: SignerIdentity | None = None
    identity_token: str | None = None
    trust_config: Path | None = None
    staging: bool = False

    @classmethod
    def from_policy(
        cls, policy: KeylessPolicy, *, identity_token: str | None = None,
        trust_config: Path | None = None,
    ) -> SigstoreMethod:
        """Signed by ``policy``'s workflow (the ledger's ``ledger.signing``)."""
        return cls(policy.signer, identity_token=identity_token, trust_config=trust_config)

    @classmethod
    def github_workflow(
        cls,
        repository: str,
        workflow: str,
        ref: str = "refs/heads/main",
        *,
        workflow_repository: str | None = None,
        workflow_ref: str | None = None,
        trust_config: Path | None = None,
    ) -> SigstoreMethod:
        """Signed by this GitHub Actions workflow (``FILE.yml`` or ``.github/workflows/FILE.yml``)
        of this repository, run on ``ref``; the arguments are :class:`KeylessPolicy`'s.

        ``workflow_repository``/``workflow_ref``: where the workflow file is when it is a
        reusable workflow of another repository called from ``repository`` (default:
        ``repository`` itself, at ``ref``).
        """
        path = workflow if "/" in workflow else f".github/workflows/{workflow}"
        policy = KeylessPolicy(workflow=path, ref=ref, repository=repository,
                               workflow_repository=workflow_repository,
                               workflow_ref=workflow_ref)
        return cls.from_policy(policy, trust_config=trust_config)

    @property
    def identity(self) -> str | None:
        """The certificate SAN the verifier expects (None: no signer given)."""
        return self.signer.identity if self.signer else None

    @property
    def issuer(self) -> str | None:
        return self.signer.issuer if self.signer else None

    @property
    def repository(self) -> str | None:
        """The source repository the verifier pins, ``OWNER/REPO`` (None: not pinned)."""
        return self.signer.repository if self.signer else None
