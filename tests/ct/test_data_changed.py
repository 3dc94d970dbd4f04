"""``mlgate data-changed``: the data's identity now against what the verified production
version (or a valid candidate registered after it) recorded, on the example repository with a
bare origin; the answer as a line, a step output and JSON; bad input as exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ledger.conftest import ml, register_and_stage
from tests.ledger.test_data_pointer import use_data
from tests.support.cli import CliResult, run_mlgate
from tests.support.data_servers import FileServer
from tests.support.repos import commit_all, git


def changed(repo: Path, *extra: str, env: dict[str, str | None] | None = None) -> CliResult:
    return run_mlgate(["data-changed", "--config", str(repo / "mlgate.yaml"), *extra], env=env)


def to_production(repo: Path, version: str) -> None:
    out = ml(repo, "promote", "churn", "--version", version, "--to", "production",
             "--approved-by", "alice")
    assert out.code == 0, out.stderr + out.stdout


def new_rows(repo: Path) -> None:
    """New training data arrives (a row more), committed to the default branch."""
    train = repo / "data" / "train.csv"
    lines = train.read_text().splitlines()
    train.write_text("\n".join([*lines, lines[-1]]) + "\n")
    commit_all(repo, "new training data", push=True)


def test_no_production_version_yet_means_changed(repo: Path, tmp_path: Path) -> None:
    outputs = tmp_path / "out"
    outputs.write_text("")
    report = tmp_path / "changed.json"
    out = changed(repo, "--json", str(report), env={"GITHUB_OUTPUT": str(outputs)})
    assert out.code == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith(
        "data changed: no verified production version of churn yet; data/train.csv is at "
        "sha256 ")
    assert "changed=true" in outputs.read_text().splitlines()
    [gate] = json.loads(report.read_text())["gates"]
    assert gate["data"]["changed"] is True
    assert gate["data"]["current"]["source"] == "data/train.csv"


def test_unchanged_after_production_then_changed_by_new_rows(repo: Path,
                                                             tmp_path: Path) -> None:
    version = register_and_stage(repo)
    # In staging only: a candidate trained on this data awaits approval; no second one.
    out = changed(repo)
    assert out.code == 0, out.stderr
    assert out.stdout.startswith("data unchanged: data/train.csv is at sha256 ")
    assert f"what {version} (registered, not yet in production) was trained on" in out.stdout
    to_production(repo, version)
    outputs = tmp_path / "out"
    outputs.write_text("")
    out = changed(repo, env={"GITHUB_OUTPUT": str(outputs)})
    assert out.code == 0, out.stderr
    assert f"what production's {version} was trained on" in out.stdout
    assert "changed=false" in outputs.read_text().splitlines()

    new_rows(repo)
    out = changed(repo)
    assert out.code == 0, out.stderr
    line = out.stdout.splitlines()[0]
    assert line.startswith("data changed: data/train.csv is at sha256 ")
    assert f"production's {version} was trained on sha256 " in line
    now, then = line.split("sha256 ")[1][:12], line.split("sha256 ")[2][:12]
    assert now != then and len(now) == 12


def test_a_candidate_after_production_on_the_same_data_counts_as_unchanged(
        repo: Path) -> None:
    from tests.ledger.conftest import new_candidate

    first = register_and_stage(repo)
    to_production(repo, first)
    new_rows(repo)
    assert changed(repo).stdout.startswith("data changed:")
    new_candidate(repo, seed=3)
    second = register_and_stage(repo)
    out = changed(repo)
    assert out.stdout.startswith("data unchanged:"), out.stdout
    assert f"what {second} (registered after production's {first}, not yet in production)" \
        in out.stdout


def test_a_forged_production_tag_decides_nothing(repo: Path) -> None:
    """A hand-written stage tag is not a verified production version: exit 2, not
    "unchanged" (which would stop retraining)."""
    version = register_and_stage(repo)
    git("tag", "-a", "churn#production#9", "-m", "forged", f"churn@{version}^{{commit}}",
        cwd=repo)
    out = changed(repo)
    assert out.code == 2
    assert "production has ledger entries and none is valid" in out.error_line


def test_https_pointer_compared_by_content(repo: Path, https_files: FileServer) -> None:
    train = (repo / "data" / "train.csv").read_bytes()
    uri = https_files.put("train.csv", train)
    use_data(repo, uri)
    version = register_and_stage(repo)
    to_production(repo, version)
    out = changed(repo)
    assert out.code == 0 and out.stdout.startswith(f"data unchanged: {uri} is at sha256 ")
    # The dispatch may name the data, but only the configured data.
    assert changed(repo, "--dispatched-data", uri).code == 0
    other = changed(repo, "--dispatched-data", https_files.url + "/other.csv")
    assert other.code == 2
    assert "client_payload.data: names" in other.error_line
    assert "the data mlgate.yaml trains on is" in other.error_line
    https_files.files["train.csv"] = train + b"\n"
    out = changed(repo)
    assert out.code == 0 and out.stdout.startswith(f"data changed: {uri} is at sha256 ")
    https_files.stop()
    out = changed(repo)
    assert out.code == 2, out.stdout
    assert uri in out.error_line


@pytest.mark.parametrize("payload, message", [
    ("data/train.csv\n::set-output name=changed::false", "contains control characters"),
    ("x" * 3000, "longer than 2048 characters"),
    ("ftp://example.com/train.csv", "client_payload.data"),
    ("data/other.csv", "names 'data/other.csv', but the data mlgate.yaml trains on is "
                       "'data/train.csv'"),
])
def test_dispatched_data_is_checked_text(repo: Path, payload: str, message: str) -> None:
    out = changed(repo, "--dispatched-data", payload)
    assert out.code == 2
    assert message in out.error_line
    assert len(out.stderr.strip().splitlines()) == 1
    assert changed(repo, "--dispatched-data", "data/train.csv").code == 0
    assert changed(repo, "--dispatched-data", "./data/train.csv").code == 0


def test_bad_input_is_one_line_and_exit_2(repo: Path, tmp_path: Path) -> None:
    missing = run_mlgate(["data-changed", "--config", str(tmp_path / "nope.yaml")])
    assert missing.code == 2
    assert "config file not found" in missing.error_line
    assert len(missing.stderr.strip().splitlines()) == 1

    (repo / "data" / "train.csv").unlink()
    commit_all(repo, "the training data is gone", push=True)
    gone = changed(repo)
    assert gone.code == 2
    assert "data file does not exist" in gone.error_line and "data/train.csv" in gone.error_line

    config = repo / "mlgate.yaml"
    text = config.read_text()
    config.write_text(text.replace("  data: data/train.csv", "  data: s3://"))
    bad_uri = changed(repo)
    assert bad_uri.code == 2 and bad_uri.error_line

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "mlgate.yaml").write_text("version: 1\nproject: churn\n")
    no_repo = run_mlgate(["data-changed", "--config", str(outside / "mlgate.yaml")])
    assert no_repo.code == 2
    assert "not a git repository" in no_repo.error_line or "no data" in no_repo.error_line
