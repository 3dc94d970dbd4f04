"""The ledger writes and judges by a use-case profile's stage rules (docs/profiles.md)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.ledger.conftest import ml, register_and_stage, tags
from tests.support.repos import commit_all


def test_promotions_follow_the_batch_profile_with_the_configs_own_overrides(repo: Path) -> None:
    config = repo / "mlgate.yaml"
    text = re.sub(r"(?ms)^  stages:\n.*\Z", "", config.read_text())
    text = text.replace("project: churn\n", "project: churn\nprofile: batch\n")
    text += ("  stages:\n    production:\n"
             "      approvals: {source: local, approvers: [alice, bob]}\n")
    config.write_text(text)
    commit_all(repo, "batch profile, approvals by --approved-by", push=True)

    version = register_and_stage(repo)  # staging comes from the profile
    assert "churn#staging#1" in tags(repo)
    # production: the profile's one approval and staging first; the config's approvers
    out = ml(repo, "promote", "--version", version, "--to", "production")
    assert out.code == 1 and "approval" in out.stdout
    out = ml(repo, "promote", "--version", version, "--to", "production",
             "--approved-by", "mallory")
    assert out.code == 1 and "mallory" in out.stdout
    out = ml(repo, "promote", "--version", version, "--to", "production",
             "--approved-by", "alice")
    assert out.code == 0, out.stdout + out.stderr
    verified = ml(repo, "verify", "churn#production")
    assert verified.code == 0, verified.stdout
    status = ml(repo, "status")
    assert "production" in status.stdout and version in status.stdout
