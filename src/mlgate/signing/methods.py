"""How an artifact is signed and whom a signature must come from.

The *verifier* always chooses the method and the expected signer (from the default branch's
configuration); nothing in a signature document decides how it is checked. A document that
carries a certificate is never accepted by a :class:`KeyMethod`, and one that names a key is
never accepted by a :class:`SigstoreMethod`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import InputError

#: The OIDC issuer of GitHub Actions tokens, and so of Fulcio certificates made in Actions.
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"

_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_WORKFLOW = re.compile(r"(?:\.github/workflows/)?([A-Za-z0-9._-]+\.ya?ml)")
_REF = re.compile(r"refs/(?:heads|tags)/[A-Za-z0-9._/-]+")


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

    Verifying needs ``identity`` (the certificate's subject alternative name: for GitHub
    Actions, :func:`github_workflow_identity`) and ``issuer``. ``repository`` ("OWNER/REPO")
    additionally requires the certificate's *source repository* to be that repository: needed
    when the signing workflow is a reusable workflow of another repository, whose identity is
    the same for every repository that calls it.

    Signing needs an OIDC token: ``identity_token``, or in GitHub Actions the job's own token
    (``permissions: id-token: write``). When ``identity`` or ``repository`` is set, signing first
    checks that the token is for them, so a signature the verifier would refuse is never made.

    ``trust_config`` is a Sigstore ClientTrustConfig JSON file (a private instance, or the
    public one's trust root for offline verification); without it the public-good instance's
    trust root is fetched through TUF (network). ``staging`` uses Sigstore's staging instance.
    """

    identity: str | None = None
    issuer: str = GITHUB_ACTIONS_ISSUER
    repository: str | None = None
    identity_token: str | None = None
    trust_config: Path | None = None
    staging: bool = False

    def __post_init__(self) -> None:
        if self.repository is not None and not _REPOSITORY.fullmatch(self.repository):
            raise InputError(f"not an OWNER/REPO repository name: {self.repository!r}",
                             "repository")
        if not self.issuer.startswith("https://"):
            raise InputError(f"the OIDC issuer must be an https URL: {self.issuer!r}", "issuer")

    @classmethod
    def github_workflow(
        cls,
        repository: str,
        workflow: str,
        ref: str = "refs/heads/main",
        *,
        workflow_repository: str | None = None,
        trust_config: Path | None = None,
    ) -> SigstoreMethod:
        """The signer policy for "signed by this GitHub Actions workflow of this repository".

        ``workflow_repository`` is the repository that holds the workflow file when it is a
        reusable workflow called from ``repository`` (default: ``repository`` itself).
        """
        identity = github_workflow_identity(workflow_repository or repository, workflow, ref)
        return cls(identity=identity, issuer=GITHUB_ACTIONS_ISSUER, repository=repository,
                   trust_config=trust_config)


def github_workflow_identity(repository: str, workflow: str, ref: str) -> str:
    """The subject alternative name Fulcio gives a GitHub Actions workflow run:
    ``https://github.com/OWNER/REPO/.github/workflows/FILE@REF``.

    ``ref`` must be a branch or tag (``refs/heads/main``, ``refs/tags/v1``): pinning it is what
    stops a run of the same workflow file on another branch, or on a pull request
    (``refs/pull/N/merge``), from producing signatures that verify.
    """
    if not _REPOSITORY.fullmatch(repository):
        raise InputError(f"not an OWNER/REPO repository name: {repository!r}", "repository")
    match = _WORKFLOW.fullmatch(workflow)
    if not match:
        raise InputError(
            f"not a workflow file name (FILE.yml or .github/workflows/FILE.yml): {workflow!r}",
            "workflow",
        )
    if not _REF.fullmatch(ref) or ".." in ref:
        raise InputError(
            f"the signing workflow's ref must be a branch or tag (refs/heads/NAME, "
            f"refs/tags/NAME), got {ref!r}",
            "ref",
        )
    return f"https://github.com/{repository}/.github/workflows/{match.group(1)}@{ref}"
