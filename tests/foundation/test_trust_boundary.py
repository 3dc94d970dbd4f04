"""A run whose code is not the default branch's cannot widen its own trust.

Real repositories (the example churn repo, main pushed to a bare origin, a PR branch with one
commit), real payloads (GitHub's examples, SHAs and default_branch pointed at this repo), the
real CLI in-process, and real attacks: a .skops file that runs a shell command once
``os.system`` is trusted, and load targets whose command would leave a marker file.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import joblib
import pytest
import skops.io as sio

from mlgate.config import load_config
from mlgate.errors import InputError
from mlgate.trust import LEDGER_KEYS, TRUST_KEYS, check_unchanged, run_trust
from tests.support.cli import CliResult, run_mlgate
from tests.support.repos import ROOT, commit_all, git

EVENTS = ROOT / "tests" / "fixtures" / "events"
SERVE_TARGET = "  target: {serve: models/candidate.skops}"

# event -> (GitHub's example payload, GITHUB_REF of such a run)
UNTRUSTED = {
    "pull_request": ("pull_request.synchronize", "refs/pull/2/merge"),
    "issue_comment": ("issue_comment.created", "refs/heads/main"),
    "merge_group": ("merge_group.checks_requested",
                    "refs/heads/gh-readonly-queue/main/pr-2-0000000000000000000000000000000000000000"),
    "workflow_run": ("workflow_run.completed", "refs/heads/main"),
    "pull_request_review": ("pull_request_review.submitted", "refs/pull/2/merge"),
    "push": ("push", "refs/heads/feature"),
    "workflow_dispatch": ("workflow_dispatch", "refs/tags/v1"),
}


class PullRequest:
    """The example repo with main on origin, and a branch ``pr`` that changes mlgate.yaml."""

    def __init__(self, repo: Path, tmp: Path) -> None:
        self.repo = repo
        self.tmp = tmp
        self.base = git("rev-parse", "HEAD", cwd=repo)
        self.head = self.base
        git("checkout", "--quiet", "-b", "pr", cwd=repo)

    def change(self, edit: Callable[[str], str], message: str = "PR: change mlgate.yaml") -> None:
        config = self.repo / "mlgate.yaml"
        before = config.read_text()
        after = edit(before)
        assert after != before, "the edit changed nothing"
        config.write_text(after)
        self.head = commit_all(self.repo, message)

    def line_of(self, needle: str) -> int:
        lines = (self.repo / "mlgate.yaml").read_text().splitlines()
        return next(i for i, text in enumerate(lines, 1) if needle in text)

    def env(self, event: str = "pull_request", ref: str | None = None) -> dict[str, str | None]:
        """A GitHub Actions run on ``event``: GitHub's example payload edited to this repo."""
        fixture, default_ref = UNTRUSTED.get(event, ("push", "refs/heads/main"))
        payload = json.loads((EVENTS / f"{fixture}.json").read_text())
        payload["repository"]["default_branch"] = "main"
        if "pull_request" in payload:
            payload["pull_request"]["base"].update(sha=self.base, ref="main")
            payload["pull_request"]["head"].update(sha=self.head, ref="pr")
        if "merge_group" in payload:
            payload["merge_group"].update(base_sha=self.base, head_sha=self.head,
                                          base_ref="refs/heads/main")
        if "workflow_run" in payload:
            payload["workflow_run"].update(head_sha=self.head, head_branch="pr")
        if event == "push":
            payload.update(before=self.base, after=self.head, ref=ref or default_ref)
        path = self.tmp / f"{event}.json"
        path.write_text(json.dumps(payload))
        return {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_REF": ref or default_ref,
            "GITHUB_SHA": self.head,
            "GITHUB_EVENT_PATH": str(path),
            "MLGATE_DEFAULT_BRANCH": None,
            "MLGATE_UNTRUSTED": None,
            "MLGATE_ALLOW_PICKLE_FROM_PR": None,
        }

    def api_env(self, event: str = "pull_request", ref: str | None = None) -> dict[str, str]:
        """:meth:`env` for calling mlgate.trust directly (an explicit, complete environment)."""
        return {k: v for k, v in self.env(event, ref).items() if v is not None}

    def run(self, *args: str, env: dict[str, str | None] | None = None) -> CliResult:
        return run_mlgate(list(args), cwd=self.repo, env=env if env is not None else self.env())


@pytest.fixture
def pr(churn_repo: Path, tmp_path: Path, clean_github_env: None) -> PullRequest:
    return PullRequest(churn_repo, tmp_path)


def add_model_key(line: str) -> Callable[[str], str]:
    """An edit that adds ``line`` to the model: section (after allow_pickle)."""
    return lambda text: text.replace("  allow_pickle: false\n", f"  allow_pickle: false\n{line}\n")


def set_load_target(target: str) -> Callable[[str], str]:
    return lambda text: re.sub(r"(?m)^  target: \{serve: [^}]*\}", f"  target: {target}", text)


def assert_refused(result: CliResult, key: str, line: int, reason: str) -> None:
    assert result.code == 2, result.stderr
    error = result.error_line
    assert error.startswith(f"mlgate: error: mlgate.yaml:{line}: {key}: "), error
    assert f"this run's code is not the default branch's ({reason}" in error
    assert "read from the default branch (main), where it differs" in error
    assert "merge the change to main first" in error


def crafted_skops(path: Path, command: str) -> Path:
    """A .skops file whose loading calls ``os.system(command)`` once os.system is trusted:
    skops constructs ConstructorFromReduceNode objects by calling module.name(*args)."""
    text = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(command), "is_json": True, "__id__": 2}
    schema = {
        "__class__": "system", "__module__": "os", "__loader__": "ConstructorFromReduceNode",
        "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                    "content": [text], "__id__": 1},
        "__id__": 0, "protocol": 2, "_skops_version": "0.16.0",
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
    return path


# -- run_trust: which runs are untrusted -------------------------------------------------------


def actions_env(event: str, ref: str, fixture: str = "push", **extra: str) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_REF": ref,
            "GITHUB_EVENT_PATH": str(EVENTS / f"{fixture}.json"), **extra}


PR_LIKE = [*sorted(UNTRUSTED.keys() - {"push", "workflow_dispatch"}),
           "pull_request_target", "pull_request_review_comment"]


@pytest.mark.parametrize("event", PR_LIKE)
def test_pull_request_like_events_are_untrusted_on_any_ref(event: str) -> None:
    trust = run_trust(actions_env(event, "refs/heads/master"))  # push.json: default master
    assert trust.untrusted and trust.reason == event


@pytest.mark.parametrize(
    "event", ["push", "workflow_dispatch", "schedule", "release", "repository_dispatch",
              "deployment"])
def test_other_events_are_trusted_only_on_the_default_branch(event: str) -> None:
    # push.json is GitHub's example: repository.default_branch is master
    assert not run_trust(actions_env(event, "refs/heads/master")).untrusted
    for ref in ("refs/heads/feature", "refs/tags/v1", "refs/heads/master-2", ""):
        trust = run_trust(actions_env(event, ref))
        assert trust.untrusted, ref
        assert trust.reason.startswith(f"{event} on ")


def test_mlgate_default_branch_names_the_branch() -> None:
    env = actions_env("push", "refs/heads/trunk", MLGATE_DEFAULT_BRANCH="trunk")
    assert not run_trust(env).untrusted
    assert run_trust({**env, "GITHUB_REF": "refs/heads/master"}).untrusted


def test_unknown_default_branch_or_event_is_untrusted(tmp_path: Path) -> None:
    payload = tmp_path / "schedule.json"
    payload.write_text(json.dumps({"schedule": "0 0 * * *"}))  # no repository in it
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "schedule",
           "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": str(payload)}
    trust = run_trust(env)
    assert trust.untrusted and "default branch unknown" in trust.reason
    assert run_trust({**env, "GITHUB_EVENT_NAME": ""}).untrusted


def test_outside_actions_trusted_unless_marked() -> None:
    assert not run_trust({}).untrusted
    assert not run_trust({"GITHUB_EVENT_NAME": "pull_request"}).untrusted
    assert run_trust({"MLGATE_UNTRUSTED": "1"}) == run_trust({"MLGATE_UNTRUSTED": "true"})
    assert run_trust({"MLGATE_UNTRUSTED": "1"}).untrusted
    assert not run_trust({"MLGATE_UNTRUSTED": "0"}).untrusted


def test_trust_keys_are_one_named_list() -> None:
    assert TRUST_KEYS == (
        "model.trusted_types", "model.allow_pickle", "model.code_paths",
        "model.mlflow_tracking_uri", "load.target.command", "load.target.image", "load.target.env",
        "load.target.allow_pickle", "data.spark", "ledger",
    )


# -- model.trusted_types: a crafted .skops file --------------------------------------------------


@pytest.mark.parametrize("command", [["gate-model"], ["run", "--stage", "pr"]])
def test_pr_trusting_os_system_is_refused_before_any_model_is_loaded(
    pr: PullRequest, command: list[str]
) -> None:
    marker = pr.tmp / "pwned"
    crafted_skops(pr.repo / "models" / "candidate.skops", f"touch {marker}")
    pr.change(add_model_key("  trusted_types: [os.system]"), "PR: a model that needs os.system")
    result = pr.run(*command)
    assert_refused(result, "model.trusted_types", pr.line_of("trusted_types"), "pull_request")
    assert not marker.exists()


def test_the_crafted_model_really_runs_code_in_a_trusted_run(pr: PullRequest) -> None:
    """The control: on the default branch's own code the same change is honoured, and the
    .skops file runs its command. The refusal above is what stops it."""
    marker = pr.tmp / "pwned"
    crafted_skops(pr.repo / "models" / "candidate.skops", f"touch {marker}")
    pr.change(add_model_key("  trusted_types: [os.system]"))
    pr.run("gate-model", env={"GITHUB_ACTIONS": None})
    assert marker.exists()


@pytest.mark.parametrize("event", list(UNTRUSTED))
def test_every_untrusted_event_refuses_a_trusted_types_change(
    pr: PullRequest, event: str
) -> None:
    pr.change(add_model_key("  trusted_types: [builtins.eval]"))
    result = pr.run("gate-model", env=pr.env(event))
    assert_refused(result, "model.trusted_types", pr.line_of("trusted_types"), event)


@pytest.mark.parametrize("where", ["push to main", "outside Actions"])
def test_the_same_change_is_allowed_in_a_trusted_run(pr: PullRequest, where: str) -> None:
    pr.change(add_model_key("  trusted_types: [builtins.eval]"))
    env = pr.env("push", "refs/heads/main") if where == "push to main" else {
        "GITHUB_ACTIONS": None}
    result = pr.run("gate-model", env=env)
    assert result.code == 0, result.stderr


def test_pr_adding_code_paths_is_refused(pr: PullRequest) -> None:
    """Code paths are code that loading imports: a PR cannot add its own."""
    (pr.repo / "src").mkdir()
    (pr.repo / "src" / "sitecustom.py").write_text("raise SystemExit('imported')\n")
    pr.change(add_model_key("  code_paths: [src]"), "PR: import src while loading")
    result = pr.run("gate-model")
    assert_refused(result, "model.code_paths", pr.line_of("code_paths"), "pull_request")


@pytest.mark.parametrize("command", [["load-test"], ["serve", "--model",
                                                     "models/candidate.skops", "--port", "0"]])
def test_pr_widening_the_served_models_rules_is_refused(
    pr: PullRequest, command: list[str]
) -> None:
    """`mlgate serve` (and the server a load test starts) loads under the model: rules, so
    they are checked there too; the load test refuses before starting anything."""
    pr.change(add_model_key("  trusted_types: [builtins.eval]"))
    result = pr.run(*command)
    assert_refused(result, "model.trusted_types", pr.line_of("trusted_types"), "pull_request")


def test_pr_flipping_allow_pickle_is_refused(pr: PullRequest) -> None:
    joblib.dump(sio.load(pr.repo / "models" / "candidate.skops"),
                pr.repo / "models" / "candidate.joblib")
    pr.change(lambda text: text.replace("allow_pickle: false", "allow_pickle: true")
              .replace("path: models/candidate.skops", "path: models/candidate.joblib"))
    result = pr.run("gate-model")
    assert_refused(result, "model.allow_pickle", pr.line_of("allow_pickle: true"),
                   "pull_request")


def test_a_key_spelled_out_as_its_default_is_no_change(pr: PullRequest) -> None:
    """main says allow_pickle: false; a PR that drops the line (default false) changed nothing."""
    pr.change(lambda text: text.replace("  allow_pickle: false\n", ""))
    result = pr.run("gate-model")
    assert result.code == 0, result.stderr


# -- load targets: nothing is started --------------------------------------------------------


def test_pr_load_command_is_refused_and_never_started(pr: PullRequest) -> None:
    marker = pr.tmp / "started"
    target = (f"{{command: 'touch {marker} && sleep 30', health: 'http://127.0.0.1:{{port}}/',"
              " startup_timeout: 1s}")
    pr.change(set_load_target(target))
    line = pr.line_of("touch")
    assert_refused(pr.run("load-test"), "load.target.command", line, "pull_request")
    assert not marker.exists()
    pr.change(lambda text: text.replace("pr: [data, model, load]", "pr: [load]"))
    assert_refused(pr.run("run", "--stage", "pr"), "load.target.command", line, "pull_request")
    assert not marker.exists()
    # The control: outside Actions the command is started (and stopped when health fails).
    assert pr.run("load-test", env={"GITHUB_ACTIONS": None}).code == 2
    assert marker.exists()


def test_pr_load_image_is_refused_before_docker_is_asked(pr: PullRequest) -> None:
    pr.change(set_load_target("{image: 'attacker/miner:latest'}"))
    result = pr.run("load-test", env=pr.env("merge_group"))
    assert_refused(result, "load.target.image", pr.line_of("attacker/miner"), "merge_group")


@pytest.mark.parametrize(
    ("extra", "key"),
    [("env: {PYTHONPATH: evil}", "load.target.env"),
     ("allow_pickle: true", "load.target.allow_pickle")],
)
def test_pr_widening_the_served_model_target_is_refused(
    pr: PullRequest, extra: str, key: str
) -> None:
    pr.change(lambda text: text.replace(
        SERVE_TARGET, f"  target: {{serve: models/candidate.skops, {extra}}}"))
    result = pr.run("load-test", env=pr.env("issue_comment"))
    assert_refused(result, key, pr.line_of(extra), "issue_comment")


def test_pr_changing_only_a_threshold_passes_its_gates(pr: PullRequest) -> None:
    """data, model and load (mlgate serve on the candidate) all run; nothing is refused."""
    pr.change(lambda text: text.replace("roc_auc: {min: 0.75}", "roc_auc: {min: 0.7}"))
    result = pr.run("run", "--stage", "pr", "--quiet")
    assert result.code == 0, result.stderr
    report = json.loads((pr.repo / ".mlgate" / "results" / "pr" / "report.json").read_text())
    assert [g["gate"] for g in report["gates"]] == ["data", "model", "load"]


# -- reading the default branch ------------------------------------------------------------


def test_a_clone_without_the_default_branch_fetches_it(pr: PullRequest) -> None:
    """actions/checkout fetches only the run's commit: main is fetched from origin."""
    pr.change(add_model_key("  trusted_types: [builtins.eval]"))
    git("branch", "--quiet", "-D", "main", cwd=pr.repo)
    git("update-ref", "-d", "refs/remotes/origin/main", cwd=pr.repo)
    result = pr.run("gate-model")
    assert_refused(result, "model.trusted_types", pr.line_of("trusted_types"), "pull_request")
    assert git("rev-parse", "refs/remotes/origin/main", cwd=pr.repo) == pr.base


def test_an_unreadable_default_branch_fails_closed(pr: PullRequest) -> None:
    git("branch", "--quiet", "-D", "main", cwd=pr.repo)
    git("update-ref", "-d", "refs/remotes/origin/main", cwd=pr.repo)
    git("remote", "set-url", "origin", str(pr.tmp / "gone.git"), cwd=pr.repo)
    result = pr.run("gate-model")  # no change at all: the run still cannot tell
    assert result.code == 2
    line = result.error_line
    assert "this run's code is not the default branch's (pull_request)" in line
    assert "cannot be read here" in line and "'main' is not in this clone" in line
    assert "fetch-depth: 0" in line


def test_a_config_missing_on_the_default_branch_compares_with_defaults(pr: PullRequest) -> None:
    """A PR that adds the config (here: under a new name) compares with an empty one."""
    text = (pr.repo / "mlgate.yaml").read_text()
    (pr.repo / "ml.yaml").write_text(text.replace("allow_pickle: false", "allow_pickle: true"))
    pr.head = commit_all(pr.repo, "PR: a second config")
    with pytest.raises(InputError) as refused:
        check_unchanged(load_config(pr.repo / "ml.yaml"), env=pr.api_env())
    assert refused.value.message.startswith("model.allow_pickle: this run's code")
    assert "default branch (main), where it differs" in refused.value.message
    (pr.repo / "ml.yaml").write_text(text)
    check_unchanged(load_config(pr.repo / "ml.yaml"), ("model.allow_pickle",), env=pr.api_env())


def test_the_ledger_section_can_be_checked_by_the_ledger(pr: PullRequest) -> None:
    # The PR lowers production's approvals from one reviewer to none.
    pr.change(lambda text: text.replace("min: 1\n        approvers: [alice, bob]",
                                        "min: 0\n        approvers: [alice, bob]"))
    config = load_config(pr.repo / "mlgate.yaml")
    with pytest.raises(InputError) as refused:
        check_unchanged(config, LEDGER_KEYS, env=pr.api_env("workflow_run"))
    assert refused.value.message.startswith("ledger: this run's code is not the default "
                                            "branch's (workflow_run)")
    assert refused.value.source == f"{config.path}:{pr.line_of('ledger:')}"
    check_unchanged(config, ("model.trusted_types",), env=pr.api_env("workflow_run"))


def test_a_trusted_run_never_runs_git(pr: PullRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    pr.change(add_model_key("  trusted_types: [builtins.eval]"))
    config = load_config(pr.repo / "mlgate.yaml")
    monkeypatch.setenv("PATH", str(pr.tmp))  # no git on PATH
    check_unchanged(config, env=pr.api_env("push", "refs/heads/main"))
    check_unchanged(config, env={})
    with pytest.raises(InputError, match="not in a git checkout"):
        check_unchanged(config, env=pr.api_env())


def test_a_pull_request_cannot_drop_a_gate_main_requires(pr: PullRequest) -> None:
    """pipeline.pr without the model gate: in the PR's own run the model gate still runs,
    because main requires it; outside Actions the config decides."""
    pr.change(lambda text: text.replace("pr: [data, model, load]", "pr: [data]"))
    out = pr.run("run", "--stage", "pr", env={**pr.env(), "GITHUB_OUTPUT": None})
    ran = json.loads((pr.repo / ".mlgate" / "results" / "pr" / "report.json").read_text())
    gates = [g["gate"] for g in ran["gates"]]
    assert gates[:2] == ["data", "model"], (gates, out.stdout, out.stderr)
    local = run_mlgate(["run", "--stage", "pr"], cwd=pr.repo)
    ran = json.loads((pr.repo / ".mlgate" / "results" / "pr" / "report.json").read_text())
    assert [g["gate"] for g in ran["gates"]] == ["data"], local.stdout


def test_pr_choosing_spark_jars_is_refused_before_a_session_starts(pr: PullRequest) -> None:
    """spark.jars (or a master of the pull request's choosing) would run its code or send the
    data elsewhere: data.spark is read from the default branch in an untrusted run."""
    pr.change(lambda text: text.replace(
        "  path: data/holdout.csv\n",
        "  path: data/holdout.csv\n  engine: spark\n"
        "  spark: {config: {spark.jars: /tmp/evil.jar}}\n", 1))
    result = pr.run("validate-data", "--quiet")
    assert_refused(result, "data.spark", pr.line_of("spark: {config"), "pull_request")
    assert "pyspark" not in result.stderr.lower()
