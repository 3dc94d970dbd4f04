"""The workflow-identity policy: configuration, and a certificate Fulcio really issued.

The recorded bundle (tests/fixtures/sigstore/public-good, see its README) was signed in GitHub
Actions by trailofbits/rfc8785.py's release workflow through Sigstore's public-good instance;
its certificate is what Fulcio writes for a GitHub job, so the policy's extension parsing is
checked against real data, not only against the test instance's imitation of it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from mlgate.errors import InputError
from mlgate.signing.workflow_identity import (
    GITHUB_ISSUER,
    CertificateIdentityPolicy,
    IdentityMismatch,
    KeylessPolicy,
    SignerIdentity,
    identity_problems,
)

RECORDED = Path(__file__).parents[1] / "fixtures" / "sigstore" / "public-good"
REAL = KeylessPolicy(workflow=".github/workflows/release.yml", ref="refs/tags/v0.1.2",
                     repository="trailofbits/rfc8785.py")


def recorded_bundle() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((RECORDED / "bundle_v3_github.whl.sigstore").read_text())
    return doc


def real_certificate() -> x509.Certificate:
    import base64

    chain = recorded_bundle()["verificationMaterial"]["x509CertificateChain"]["certificates"]
    return x509.load_der_x509_certificate(base64.b64decode(chain[0]["rawBytes"]))


# --- configuration --------------------------------------------------------------------------


def test_configuration_gives_the_job_workflow_ref_identity() -> None:
    policy = KeylessPolicy.from_config(
        {"method": "sigstore", "workflow": ".github/workflows/ml-release.yml",
         "ref": "refs/heads/main"}, repository="octo-org/churn")
    assert policy.identity == (
        "https://github.com/octo-org/churn/.github/workflows/ml-release.yml@refs/heads/main")
    assert policy.issuer == GITHUB_ISSUER
    named = KeylessPolicy.from_config(
        {"method": "sigstore", "workflow": ".github/workflows/ml-release.yml",
         "ref": "refs/heads/main", "repository": "octo-org/models"}, repository="octo-org/churn")
    assert named.repository == "octo-org/models"  # the configured one wins


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"method": "ssh", "workflow": ".github/workflows/a.yml", "ref": "refs/heads/main"},
         "not 'sigstore'"),
        ({"method": "sigstore", "workflow": ".github/workflows/a.yml"}, "needs ref"),
        ({"method": "sigstore", "ref": "refs/heads/main"}, "needs workflow"),
        ({"method": "sigstore", "workflow": "ml-release.yml", "ref": "refs/heads/main"},
         ".github/workflows/FILE.yml"),
        ({"method": "sigstore", "workflow": ".github/workflows/a.yml", "ref": "main"},
         "full ref"),
        ({"method": "sigstore", "workflow": ".github/workflows/a.yml", "ref": "refs/heads/main",
          "issuer": "http://token.example"}, "issuer"),
        ({"method": "sigstore", "workflow": ".github/workflows/a.yml", "ref": "refs/heads/main",
          "identity": "anyone"}, "unknown keys identity"),
        ("sigstore", "must be a mapping"),
    ],
)
def test_bad_configuration_is_input_error(section: Any, named: str) -> None:
    with pytest.raises(InputError, match=named) as info:
        KeylessPolicy.from_config(section, repository="octo-org/churn")
    assert info.value.source == "mlgate.yaml:ledger.signing"


def test_configuration_without_any_repository_is_input_error() -> None:
    with pytest.raises(InputError, match="needs repository"):
        KeylessPolicy.from_config({"method": "sigstore", "workflow": ".github/workflows/a.yml",
                                   "ref": "refs/heads/main"})


@pytest.mark.parametrize(
    ("field", "value"),
    [("ref", "refs/pull/7/merge"), ("ref", "refs/heads/../main"),
     ("repository", "octo-org/churn\n"), ("workflow", ".github/workflows/a.yml\n")],
)
def test_refs_other_than_branches_and_tags_and_trailing_newlines_are_refused(
    field: str, value: str
) -> None:
    section = {"method": "sigstore", "workflow": ".github/workflows/a.yml",
               "ref": "refs/heads/main", "repository": "octo-org/churn", field: value}
    with pytest.raises(InputError, match=field) as info:
        KeylessPolicy.from_config(section)
    assert info.value.source == "mlgate.yaml:ledger.signing"


def test_a_reusable_workflow_changes_only_the_san() -> None:
    policy = KeylessPolicy(workflow=".github/workflows/ml-release.yml", ref="refs/heads/main",
                           repository="octo-org/churn", workflow_repository="mlgate/mlgate",
                           workflow_ref="refs/tags/v1")
    assert policy.signer == SignerIdentity(
        identity="https://github.com/mlgate/mlgate/.github/workflows/ml-release.yml"
                 "@refs/tags/v1",
        issuer=GITHUB_ISSUER, repository="octo-org/churn", ref="refs/heads/main")


# --- a real Fulcio certificate --------------------------------------------------------------


def test_real_certificate_matches_its_workflow() -> None:
    assert identity_problems(real_certificate(), REAL) == []


@pytest.mark.parametrize(
    ("policy", "named"),
    [
        (replace(REAL, workflow=".github/workflows/ci.yml"), "signed by https://github.com/"
         "trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"),
        (replace(REAL, ref="refs/heads/main"), "source ref is 'refs/tags/v0.1.2'"),
        (replace(REAL, repository="trailofbits/other"),
         "source repository is 'https://github.com/trailofbits/rfc8785.py'"),
        (replace(REAL, issuer="https://accounts.google.com"),
         "OIDC issuer is 'https://token.actions.githubusercontent.com'"),
    ],
    ids=["workflow", "ref", "repository", "issuer"],
)
def test_real_certificate_refused_for_another_identity(policy: KeylessPolicy, named: str) -> None:
    problems = identity_problems(real_certificate(), policy)
    assert any(named in p for p in problems), problems


def test_library_verifies_the_recorded_bundle_offline_with_this_policy() -> None:
    """sigstore's full verification of real public-good data (chain to Fulcio's CA, SCT,
    Rekor inclusion proof, checkpoint and SET, signature over the wheel) against the recorded
    trusted root, with mlgate's policy at the identity step. No network."""
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier

    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(RECORDED / "trusted_root.json")))
    bundle = Bundle.from_json(json.dumps(recorded_bundle()))
    wheel = (RECORDED / "bundle_v3_github.whl").read_bytes()
    verifier.verify_artifact(wheel, bundle, CertificateIdentityPolicy(REAL))

    with pytest.raises(IdentityMismatch, match="source ref"):
        verifier.verify_artifact(wheel, bundle,
                                 CertificateIdentityPolicy(replace(REAL, ref="refs/heads/main")))
