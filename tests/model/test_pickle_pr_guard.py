"""allow_pickle is not enough when this run's code is not the default branch's: pickles the
default branch does not hold stay refused.

Real git history (base commit pushed to main, PR commit on a branch) and real payloads
(GitHub's vendored examples, with SHAs pointed at our commits and default_branch at main). On
pull_request* events the guard diffs base...head; on the others (issue_comment, pushes to other
branches, ...) it compares the file with the default branch's.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import joblib
import pytest
import skops.io as sio

from tests.support.cli import run_mlgate
from tests.support.repos import ROOT, commit_all, git

EVENT = ROOT / "tests" / "fixtures" / "events" / "pull_request.synchronize.json"


EVENTS = ROOT / "tests" / "fixtures" / "events"


@pytest.fixture
def pr_repo(churn_repo: Path, tmp_path: Path, clean_github_env: None) -> dict[str, object]:
    """main allows pickles and holds trusted.joblib (reviewed); the PR branch adds pr.joblib.

    allow_pickle: true is on main: a pull request that flips it itself is refused earlier, by
    the trust boundary (tests/foundation/test_trust_boundary.py).
    """
    model = sio.load(churn_repo / "models" / "candidate.skops")
    joblib.dump(model, churn_repo / "models" / "trusted.joblib")
    config = churn_repo / "mlgate.yaml"
    config.write_text(config.read_text().replace("allow_pickle: false", "allow_pickle: true"))
    base = commit_all(churn_repo, "a pickled model reviewed on main", push=True)
    git("checkout", "--quiet", "-b", "pr-branch", cwd=churn_repo)
    joblib.dump(model, churn_repo / "models" / "pr.joblib")
    head = commit_all(churn_repo, "PR: swap in a pickle")
    payload = json.loads(EVENT.read_text())
    payload["pull_request"]["base"]["sha"] = base
    payload["pull_request"]["head"]["sha"] = head
    payload["repository"]["default_branch"] = "main"
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REF": "refs/pull/2/merge",
        "GITHUB_EVENT_PATH": str(event),
        "MLGATE_ALLOW_PICKLE_FROM_PR": None,
        "MLGATE_DEFAULT_BRANCH": None,
        "MLGATE_UNTRUSTED": None,
    }
    return {"repo": churn_repo, "env": env, "event": event, "tmp": tmp_path}


def other_event(ctx: dict, fixture: str, event: str, ref: str) -> dict[str, str]:
    """Environment of a run on ``event`` (payload: GitHub's example, default branch main)."""
    payload = json.loads((EVENTS / f"{fixture}.json").read_text())
    payload["repository"]["default_branch"] = "main"
    path = ctx["tmp"] / f"{fixture}.json"
    path.write_text(json.dumps(payload))
    return {"GITHUB_EVENT_NAME": event, "GITHUB_REF": ref, "GITHUB_EVENT_PATH": str(path)}


def gate(ctx: dict[str, object], model: str, *extra: str, env: dict | None = None):
    return run_mlgate(
        ["gate-model", "--model", model, *extra],
        cwd=ctx["repo"],  # type: ignore[arg-type]
        env={**ctx["env"], **(env or {})},  # type: ignore[dict-item]
    )


def test_pickle_changed_by_the_pr_is_refused_despite_allow_pickle(pr_repo: dict) -> None:
    result = gate(pr_repo, "models/pr.joblib")
    assert result.code == 2
    line = result.error_line
    assert "models/pr.joblib" in line and "changed by this pull request" in line
    assert "--allow-pickle-from-pr" in line


def test_pickle_unchanged_by_the_pr_loads_with_allow_pickle(pr_repo: dict) -> None:
    result = gate(pr_repo, "models/trusted.joblib")
    assert result.code == 0, result.stderr


def test_explicit_extra_opt_in_allows_the_pr_pickle(pr_repo: dict) -> None:
    assert gate(pr_repo, "models/pr.joblib", "--allow-pickle-from-pr").code == 0
    assert gate(pr_repo, "models/pr.joblib", env={"MLGATE_ALLOW_PICKLE_FROM_PR": "1"}).code == 0


def test_on_the_default_branch_allow_pickle_suffices(pr_repo: dict) -> None:
    push = other_event(pr_repo, "push", "push", "refs/heads/main")
    result = gate(pr_repo, "models/pr.joblib", env=push)
    assert result.code == 0, result.stderr


def test_outside_github_actions_allow_pickle_suffices(pr_repo: dict) -> None:
    result = gate(pr_repo, "models/pr.joblib", env={"GITHUB_ACTIONS": None})
    assert result.code == 0, result.stderr


def test_other_ci_marks_untrusted_runs_with_mlgate_untrusted(pr_repo: dict) -> None:
    env = {"GITHUB_ACTIONS": None, "MLGATE_UNTRUSTED": "1"}
    result = gate(pr_repo, "models/pr.joblib", env=env)
    assert result.code == 2
    assert "not on the default branch (main)" in result.error_line
    assert "(MLGATE_UNTRUSTED=1)" in result.error_line


@pytest.mark.parametrize(
    ("fixture", "event", "ref"),
    [
        ("issue_comment.created", "issue_comment", "refs/heads/main"),
        ("push", "push", "refs/heads/feature"),
    ],
)
def test_without_pr_shas_a_pickle_missing_from_main_is_refused(
    pr_repo: dict, fixture: str, event: str, ref: str
) -> None:
    """issue_comment runs on main's ref but checks out whatever the comment asks for."""
    env = other_event(pr_repo, fixture, event, ref)
    result = gate(pr_repo, "models/pr.joblib", env=env)
    assert result.code == 2
    line = result.error_line
    assert "models/pr.joblib" in line and "not on the default branch (main)" in line
    assert f"this run's code is not the default branch's ({event}" in line
    assert "--allow-pickle-from-pr" in line


def test_in_an_issue_comment_run_main_s_own_pickle_loads(pr_repo: dict) -> None:
    env = other_event(pr_repo, "issue_comment.created", "issue_comment", "refs/heads/main")
    result = gate(pr_repo, "models/trusted.joblib", env=env)
    assert result.code == 0, result.stderr


def test_in_an_issue_comment_run_a_pickle_edited_in_place_is_refused(pr_repo: dict) -> None:
    """Same path as main's reviewed pickle, other bytes: what is compared is the content."""
    repo: Path = pr_repo["repo"]  # type: ignore[assignment]
    trusted = repo / "models" / "trusted.joblib"
    joblib.dump(sio.load(repo / "models" / "champion.skops"), trusted)
    commit_all(repo, "PR: replace the reviewed pickle")
    env = other_event(pr_repo, "issue_comment.created", "issue_comment", "refs/heads/main")
    result = gate(pr_repo, "models/trusted.joblib", env=env)
    assert result.code == 2
    assert "differs from the default branch (main)" in result.error_line


def test_in_an_issue_comment_run_the_second_opt_in_allows_the_pickle(pr_repo: dict) -> None:
    env = other_event(pr_repo, "issue_comment.created", "issue_comment", "refs/heads/main")
    assert gate(pr_repo, "models/pr.joblib", "--allow-pickle-from-pr", env=env).code == 0
    env["MLGATE_ALLOW_PICKLE_FROM_PR"] = "1"
    assert gate(pr_repo, "models/pr.joblib", env=env).code == 0


def test_unreadable_default_branch_fails_closed(pr_repo: dict) -> None:
    """A clone without main whose origin cannot be fetched: no way to tell, so refuse.

    Run from models/ with flags only (no mlgate.yaml there), so that the refusal is the pickle
    guard's own and not the trust settings' (tests/foundation/test_trust_boundary.py).
    """
    repo: Path = pr_repo["repo"]  # type: ignore[assignment]
    git("branch", "--quiet", "-D", "main", cwd=repo)
    git("update-ref", "-d", "refs/remotes/origin/main", cwd=repo)
    git("remote", "set-url", "origin", str(pr_repo["tmp"] / "gone.git"), cwd=repo)  # type: ignore[operator]
    env = {**pr_repo["env"],  # type: ignore[dict-item]
           **other_event(pr_repo, "issue_comment.created", "issue_comment", "refs/heads/main")}
    args = ["gate-model", "--model", "trusted.joblib", "--data", "../data/holdout.csv",
            "--target", "churned", "--allow-pickle"]
    result = run_mlgate(args, cwd=repo / "models", env=env)
    assert result.code == 2
    line = result.error_line
    assert "trusted.joblib" in line and "refusing to unpickle" in line
    assert "cannot be read here" in line and "'main' is not in this clone" in line
    assert "fetch-depth: 0" in line and "--allow-pickle-from-pr" in line
    opted_in = run_mlgate([*args, "--allow-pickle-from-pr"], cwd=repo / "models", env=env)
    assert opted_in.code == 0, opted_in.stderr


def test_a_git_lfs_pointer_on_main_vouches_for_exactly_its_content(pr_repo: dict) -> None:
    """main stores the pickle with Git LFS (a pointer); the checkout has the real bytes."""
    repo: Path = pr_repo["repo"]  # type: ignore[assignment]
    real = (repo / "models" / "trusted.joblib").read_bytes()
    pointer = (f"version https://git-lfs.github.com/spec/v1\n"
               f"oid sha256:{hashlib.sha256(real).hexdigest()}\nsize {len(real)}\n")
    git("checkout", "--quiet", "main", cwd=repo)
    (repo / "models" / "lfs.joblib").write_text(pointer)
    commit_all(repo, "a pickle stored with Git LFS", push=True)
    git("checkout", "--quiet", "pr-branch", cwd=repo)
    lfs = repo / "models" / "lfs.joblib"
    env = other_event(pr_repo, "issue_comment.created", "issue_comment", "refs/heads/main")
    lfs.write_bytes(real)  # what `git lfs pull` puts in the work tree
    assert gate(pr_repo, "models/lfs.joblib", env=env).code == 0
    joblib.dump(sio.load(repo / "models" / "champion.skops"), lfs)  # other bytes
    result = gate(pr_repo, "models/lfs.joblib", env=env)
    assert result.code == 2
    assert "differs from the default branch (main)" in result.error_line
