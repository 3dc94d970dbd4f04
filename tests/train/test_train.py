"""``mlgate train`` and the ``train`` stage: the command runs without a shell or credentials,
must write every output, is stopped at its timeout with everything it started, and in an
untrusted run the stage never runs the pull request's training in the gating job."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.support.cli import run_mlgate
from tests.support.repos import commit_all, git

PY = sys.executable


def set_train(repo: Path, train: dict, pipeline: dict | None = None) -> None:
    """Put ``train`` (and ``pipeline``) into the repo's mlgate.yaml."""
    path = repo / "mlgate.yaml"
    config = yaml.safe_load(path.read_text())
    config["train"] = train
    if pipeline is not None:
        config["pipeline"] = pipeline
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def report(path: Path) -> dict:
    return json.loads(path.read_text())["gates"][0]


@pytest.fixture
def repo(churn_repo: Path, clean_github_env: None) -> Path:
    return churn_repo


def test_train_writes_the_candidate_and_records_its_digest(repo: Path, tmp_path: Path) -> None:
    model = repo / "models" / "candidate.skops"
    model.unlink()
    set_train(repo, {"command": f"{PY} train.py --fraction 0.5"})
    out = tmp_path / "train.json"
    result = run_mlgate(["train", "--json", out], cwd=repo)
    assert result.code == 0, result.stderr
    assert model.is_file()
    got = report(out)
    assert got["gate"] == "train" and got["status"] == "pass"
    recorded = got["inputs"]["output:models/candidate.skops"]
    import hashlib
    assert recorded["sha256"] == "sha256:" + hashlib.sha256(model.read_bytes()).hexdigest()
    assert got["checks"][0]["details"]["command"] == [PY, "train.py", "--fraction", "0.5"]


def test_a_failing_command_fails_with_its_exit_code_and_log(repo: Path, tmp_path: Path) -> None:
    set_train(repo, {"command": [PY, "-c", "print('loading data'); raise SystemExit(3)"]})
    out = tmp_path / "train.json"
    result = run_mlgate(["train", "--json", out], cwd=repo)
    assert result.code == 1, result.stderr
    check = report(out)["checks"][0]
    assert check["status"] == "fail" and "exited with 3" in check["message"]
    assert "loading data" in check["details"]["log_tail"]
    assert "loading data" in result.stderr  # streamed while it ran


def test_an_output_left_as_it_was_fails(repo: Path, tmp_path: Path) -> None:
    set_train(repo, {"command": [PY, "-c", "pass"]})  # the committed candidate stays
    out = tmp_path / "train.json"
    result = run_mlgate(["train", "--json", out], cwd=repo)
    assert result.code == 1
    check = report(out)["checks"][1]
    assert check["name"] == "output models/candidate.skops" and check["status"] == "fail"
    assert "stale model" in check["message"]


def test_a_missing_output_fails(repo: Path, tmp_path: Path) -> None:
    set_train(repo, {"command": [PY, "-c", "pass"], "outputs": ["models/other.skops"]})
    result = run_mlgate(["train", "--json", tmp_path / "t.json"], cwd=repo)
    assert result.code == 1
    assert "without writing this file" in report(tmp_path / "t.json")["checks"][1]["message"]


def test_timeout_stops_the_command_and_what_it_started(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "grandchild-survived"
    child = tmp_path / "child.py"
    child.write_text(f"import time\ntime.sleep(3)\nopen({str(marker)!r}, 'w').close()\n")
    script = (f"import subprocess, sys, time\n"
              f"subprocess.Popen([sys.executable, {str(child)!r}])\ntime.sleep(60)\n")
    set_train(repo, {"command": [PY, "-c", script], "timeout": "1s"})
    started = time.monotonic()
    result = run_mlgate(["train", "--json", tmp_path / "t.json"], cwd=repo)
    assert result.code == 1
    assert time.monotonic() - started < 20
    assert "did not finish within 1s" in report(tmp_path / "t.json")["checks"][0]["message"]
    time.sleep(4)
    assert not marker.exists(), "a process the training started outlived the timeout"


def test_credentials_are_not_in_the_training_environment(repo: Path, tmp_path: Path) -> None:
    dump = tmp_path / "env.json"
    script = f"import json, os; json.dump(dict(os.environ), open({str(dump)!r}, 'w'))"
    set_train(repo, {"command": [PY, "-c", script], "outputs": ["mlgate.yaml"]})
    (repo / "mlgate.yaml").touch()
    run_mlgate(["train"], cwd=repo, env={"GITHUB_TOKEN": "ghs_secret", "GH_TOKEN": "x",
                                         "MLGATE_SIGNING_KEY": "key",
                                         "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc",
                                         "MLGATE_KEEP_ME": "kept"})
    seen = json.loads(dump.read_text())
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "MLGATE_SIGNING_KEY",
                 "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        assert name not in seen
    assert seen["MLGATE_KEEP_ME"] == "kept"


def test_no_shell_and_workflow_commands_are_off_in_actions(repo: Path, tmp_path: Path) -> None:
    set_train(repo, {"command": f"{PY} -c \"print('::error::forged; echo $HOME')\" ; rm -rf /",
                     "outputs": ["models/candidate.skops"]})
    result = run_mlgate(["train"], cwd=repo, env={"GITHUB_ACTIONS": "true"})
    # No shell: `;`, `rm` and `/` are arguments of python -c (sys.argv), never commands.
    assert result.code == 1
    lines = result.stderr.splitlines()
    stop = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[stop].split("::")[2]
    forged = lines.index("::error::forged; echo $HOME")
    resume = lines.index(f"::{token}::")
    assert stop < forged < resume


@pytest.mark.parametrize(("train", "expected"), [
    (None, "no train section"),
    ({"command": ""}, "train.command"),
    ({"command": ["no-such-program-anywhere"]}, "cannot start 'no-such-program-anywhere'"),
    ({"command": "python 'unclosed"}, "cannot split the command"),
    ({"command": "x", "timeout": "soon"}, "train.timeout"),
    ({"command": "x", "outputs": ["../outside.skops"]}, "outside the directory"),
])
def test_bad_train_settings_are_exit_2(repo: Path, train: dict | None, expected: str) -> None:
    if train is not None:
        set_train(repo, train)
    result = run_mlgate(["train"], cwd=repo)
    assert result.code == 2, result.stderr
    assert expected in result.error_line
    assert len(result.stderr.strip().splitlines()) == 1


def test_pipeline_trains_before_the_gates(repo: Path) -> None:
    model = repo / "models" / "candidate.skops"
    model.unlink()
    set_train(repo, {"command": [PY, "train.py"]}, {"pr": ["train", "data", "model"]})
    result = run_mlgate(["run", "--stage", "pr"], cwd=repo)
    assert result.code == 0, result.stderr
    results = json.loads((repo / ".mlgate/results/pr/report.json").read_text())["gates"]
    assert [r["gate"] for r in results] == ["train", "data", "model"]
    trained = results[0]["inputs"]["output:models/candidate.skops"]["sha256"]
    assert results[2]["inputs"]["model"]["sha256"] == trained


def test_untrusted_run_never_trains_in_the_gating_job(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    set_train(repo, {"command": [PY, "-c", f"open({str(marker)!r}, 'w').close()"]},
              {"pr": ["train", "data", "model"]})
    commit_all(repo, "train in CI", push=True)
    untrusted = {"MLGATE_UNTRUSTED": "1", "MLGATE_DEFAULT_BRANCH": "main"}
    result = run_mlgate(["run", "--stage", "pr"], cwd=repo, env=untrusted)
    assert result.code == 0, result.stderr  # the committed candidate stands in for the artifact
    assert not marker.exists()
    first = json.loads((repo / ".mlgate/results/pr/train.json").read_text())["gates"][0]
    assert "separate job" in first["checks"][0]["message"]
    (repo / "models" / "candidate.skops").unlink()
    result = run_mlgate(["run", "--stage", "pr"], cwd=repo, env=untrusted)
    assert result.code == 2
    assert "run `mlgate train` in a separate job" in result.error_line
    assert not marker.exists()
    git("checkout", "--", "models/candidate.skops", cwd=repo)


def test_run_receives_a_training_job_export_instead_of_training(repo: Path,
                                                                tmp_path: Path) -> None:
    """The release job holds write access, so it runs no training: it takes the training job's
    export (verified against the digests that job reported) and gates and registers that."""
    model = repo / "models" / "candidate.skops"
    marker = tmp_path / "trained-again"
    set_train(repo, {"command": [PY, "train.py", "--fraction", "0.5"]},
              {"release": ["train", "data", "model"]})
    exported = tmp_path / "exported"
    assert run_mlgate(["train", "--export", exported], cwd=repo).code == 0
    trained = model.read_bytes()
    git("checkout", "--", "models/candidate.skops", cwd=repo)  # a fresh checkout of the job
    set_train(repo, {"command": [PY, "-c", f"open({str(marker)!r}, 'w').close()"],
                     "outputs": ["models/candidate.skops"]},
              {"release": ["train", "data", "model"]})
    # the export was made with the real command; its report is what gets received
    result = run_mlgate(["run", "--stage", "release", "--receive", exported], cwd=repo)
    assert result.code == 0, result.stderr
    assert not marker.exists() and model.read_bytes() == trained
    results = json.loads((repo / ".mlgate/results/release/report.json").read_text())["gates"]
    assert [r["gate"] for r in results] == ["train", "data", "model"]
    assert any(c["name"] == "received models/candidate.skops" and c["status"] == "pass"
               for c in results[0]["checks"])
    (exported / "models" / "candidate.skops").write_bytes(b"swapped in transit")
    result = run_mlgate(["run", "--stage", "release", "--receive", exported], cwd=repo)
    assert result.code == 1  # the digest no longer matches: nothing is gated
    assert not marker.exists()
    results = json.loads((repo / ".mlgate/results/release/report.json").read_text())["gates"]
    assert results[0]["gate"] == "train" and results[0]["status"] == "fail"
    assert not {"data", "model"} & {r["gate"] for r in results}
