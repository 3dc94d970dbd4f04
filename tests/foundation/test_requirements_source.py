"""Which project requirements the gating job installs: the work tree's in a trusted run, the
default branch's in an untrusted one, and never a line that reads another file or index."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import InputError
from mlgate.requirements_source import main, trusted_requirements
from tests.support.repos import commit_all

UNTRUSTED = {"MLGATE_UNTRUSTED": "1", "MLGATE_DEFAULT_BRANCH": "main"}


@pytest.fixture
def repo(churn_repo: Path, clean_github_env: None) -> Path:
    (churn_repo / "requirements.txt").write_text("scikit-learn>=1.3  # the training's\n")
    commit_all(churn_repo, "requirements", push=True)
    return churn_repo


def test_trusted_run_installs_the_file_itself(repo: Path) -> None:
    text, source = trusted_requirements(repo / "requirements.txt", env={})
    assert text == f"-r {repo / 'requirements.txt'}"
    assert source.endswith("requirements.txt")


def test_untrusted_run_installs_the_default_branch_copy(repo: Path) -> None:
    (repo / "requirements.txt").write_text("scikit-learn>=1.3\nevil-package\n")  # the PR's
    text, source = trusted_requirements(repo / "requirements.txt", env=UNTRUSTED)
    assert text == "scikit-learn>=1.3  # the training's\n"
    assert source.startswith("main:requirements.txt (untrusted run")


@pytest.mark.parametrize("line", [
    "-r other.txt", "--requirement=other.txt", "-c constraints.txt", "-e .",
    "--editable ./pkg", "./local-package", "/abs/wheel.whl", "pkg @ file:///tmp/x.whl",
    "pkg @ https://example.com/pkg.whl", "--index-url https://evil.example/simple",
    "--extra-index-url=https://evil.example", "-f ./wheels", "-rother.txt",
])
def test_untrusted_run_refuses_lines_that_reach_outside(repo: Path, line: str) -> None:
    (repo / "requirements.txt").write_text(f"pandas\n{line}\n")
    commit_all(repo, "a line that reads elsewhere", push=True)
    with pytest.raises(InputError) as info:
        trusted_requirements(repo / "requirements.txt", env=UNTRUSTED)
    assert info.value.source == "main:requirements.txt:2"
    assert "installs named packages only" in info.value.message


def test_untrusted_run_needs_the_file_on_the_default_branch(repo: Path) -> None:
    (repo / "extra.txt").write_text("pandas\n")
    with pytest.raises(InputError, match=r"the default branch \(main\) has no extra\.txt"):
        trusted_requirements(repo / "extra.txt", env=UNTRUSTED)


def test_command_line_writes_the_chosen_requirements(repo: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "chosen.txt"
    assert main([str(repo / "requirements.txt"), "--out", str(out)]) == 0
    assert f"-r {repo / 'requirements.txt'}" in out.read_text()
    assert main([str(repo / "missing.txt"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "mlgate: error:" in err and "missing.txt" in err and "not found" in err
