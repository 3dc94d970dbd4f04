"""Evidence bound to inputs: every gate result records the sha256 of what it read.

The gates run for real (Great Expectations, scikit-learn, an HTTP server started by the load
gate, git repositories) on the bundled example, through the CLI with ``--json`` and through
``mlgate run``; every recorded digest is checked against ``hashlib.sha256`` of the bytes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

import mlgate
from mlgate import provenance
from mlgate.resources import checks_dir
from mlgate.result import CheckResult, GateResult, Status
from tests.support.cli import run_mlgate
from tests.support.repos import EXAMPLE, commit_all, git

PRESET_DIRS = {"policy": ("policies", "load"), "suite": ("suites",), "contract": ()}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def gates_of(report: Path) -> dict[str, dict[str, Any]]:
    doc = json.loads(report.read_text(encoding="utf-8"))
    return {g["gate"]: g for g in doc["gates"]}


def assert_bound(gate: dict[str, Any], repo: Path | None) -> None:
    """Every file entry names a file (repo-relative inside ``repo``) whose bytes have that
    sha256 and size; every preset entry has the sha256 of the shipped file."""
    assert gate["inputs"], gate["gate"]
    for role, entry in gate["inputs"].items():
        if "path" in entry:
            assert set(entry) == {"path", "sha256", "size"}, role
            path = entry["path"]
            if repo is not None:
                assert not os.path.isabs(path) and ".." not in path and "\\" not in path, path
                file = repo / path
            else:
                assert os.path.isabs(path), path
                file = Path(path)
            assert entry["sha256"] == sha(file.read_bytes()), role
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", entry["sha256"])
            assert entry["size"] == file.stat().st_size, role
        elif "preset" in entry:
            kind = role.split(":")[0]
            shipped = [checks_dir() / d / f"{entry['preset']}{ext}"
                       for d in PRESET_DIRS[kind] for ext in (".yaml", ".json")]
            found = [p for p in shipped if p.is_file()]
            assert found, (role, entry)
            assert entry["sha256"] == sha(found[0].read_bytes()), role


def assert_meta(gate: dict[str, Any], repo: Path | None, dirty: bool | None = False) -> None:
    meta = gate["meta"]
    assert set(meta) == {"mlgate", "commit", "dirty", "time"}
    assert meta["mlgate"] == mlgate.__version__
    assert meta["commit"] == (git("rev-parse", "HEAD", cwd=repo) if repo else None)
    assert meta["dirty"] is dirty
    assert TIME.match(meta["time"]), meta["time"]


def assert_round_trip(gate: dict[str, Any]) -> None:
    """The stored report reads back unchanged, digest included; an edited input does not."""
    back = GateResult.from_dict(gate)
    assert back.to_dict() == gate
    assert back.digest() == gate["digest"]
    for role in gate["inputs"]:
        edited = copy.deepcopy(gate)
        edited["inputs"][role]["sha256"] = sha(b"another model")
        assert GateResult.from_dict(edited).digest() != gate["digest"], role
    edited = copy.deepcopy(gate)
    edited["meta"]["commit"] = "0" * 40
    assert GateResult.from_dict(edited).digest() != gate["digest"]


# --- the gates on the example, through the CLI -----------------------------------------------


def test_validate_data_records_every_file_it_read(
    churn_repo: Path, tmp_path: Path, clean_github_env: None
) -> None:
    report = tmp_path / "data.json"
    res = run_mlgate(["validate-data", "--json", report], cwd=churn_repo)
    assert res.code == 0, res.stdout + res.stderr
    gate = gates_of(report)["data"]
    assert set(gate["inputs"]) == {"data", "reference", "suite:churn.json", "training",
                                   "serving", "config"}
    assert gate["inputs"]["data"]["path"] == "data/holdout.csv"
    assert gate["inputs"]["suite:churn.json"]["path"] == "suites/churn.json"
    assert gate["inputs"]["config"]["path"] == "mlgate.yaml"
    assert_bound(gate, churn_repo)
    assert_meta(gate, churn_repo)
    assert_round_trip(gate)


def test_validate_data_outside_git_records_absolute_paths_contract_file_and_preset_suite(
    tmp_path: Path, clean_github_env: None
) -> None:
    work = tmp_path / "plain"
    work.mkdir()
    shutil.copy(EXAMPLE / "data" / "holdout.csv", work / "holdout.csv")
    contract = {"columns": [{"name": "tenure_months", "dtype": "int", "min": 0}]}
    (work / "contract.yaml").write_text(yaml.safe_dump(contract))
    report = tmp_path / "data.json"
    res = run_mlgate(["validate-data", "--data", "holdout.csv", "--contract", "contract.yaml",
                      "--suite", "non_empty", "--json", report], cwd=work)
    assert res.code == 0, res.stdout + res.stderr
    gate = gates_of(report)["data"]
    # No mlgate.yaml here: no config entry, and no repository to name a commit.
    assert set(gate["inputs"]) == {"data", "contract", "suite:non_empty.json"}
    assert gate["inputs"]["data"]["path"] == (work / "holdout.csv").resolve().as_posix()
    assert gate["inputs"]["suite:non_empty.json"]["preset"] == "non_empty"
    assert_bound(gate, None)
    assert_meta(gate, None, dirty=None)
    assert_round_trip(gate)


def test_gate_model_records_model_data_policy_champion_and_config(
    churn_repo: Path, tmp_path: Path, clean_github_env: None
) -> None:
    first, second = tmp_path / "candidate.json", tmp_path / "champion-as-candidate.json"
    res = run_mlgate(["gate-model", "--json", first], cwd=churn_repo)
    assert res.code == 0, res.stdout + res.stderr
    gate = gates_of(first)["model"]
    # The example's inline policy extends a preset: the preset file is an input, the inline
    # part is covered by the config's digest.
    assert set(gate["inputs"]) == {"model", "data", "policy:classification-default.yaml",
                                   "champion", "config"}
    assert gate["inputs"]["model"]["path"] == "models/candidate.skops"
    assert gate["inputs"]["champion"]["path"] == "models/champion.skops"
    assert gate["inputs"]["policy:classification-default.yaml"]["preset"] == \
        "classification-default"
    assert_bound(gate, churn_repo)
    assert_meta(gate, churn_repo)
    assert_round_trip(gate)

    # Another model file, and a policy file given by flag: a different model digest.
    policy = churn_repo / "policy.yaml"
    policy.write_text(yaml.safe_dump({"extends": "strict", "thresholds": {"roc_auc": {"min": 0.5}},
                                      "budgets": {}}))
    res = run_mlgate(["gate-model", "--model", "models/champion.skops", "--policy",
                      "policy.yaml", "--json", second], cwd=churn_repo)
    assert res.code in (0, 1), res.stdout + res.stderr
    other = gates_of(second)["model"]
    assert other["inputs"]["model"]["path"] == "models/champion.skops"
    assert other["inputs"]["model"]["sha256"] != gate["inputs"]["model"]["sha256"]
    assert other["inputs"]["policy"]["path"] == "policy.yaml"
    assert other["inputs"]["policy:strict.yaml"]["preset"] == "strict"
    assert_bound(other, churn_repo)
    assert_meta(other, churn_repo, dirty=False)  # policy.yaml is untracked: not dirty
    assert other["digest"] != gate["digest"]


def test_gate_model_records_a_ledger_champion_by_version_and_sha256(
    churn_repo: Path, tmp_path: Path, clean_github_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITHUB_ACTOR", "GITHUB_RUN_ID", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    data, model = tmp_path / "data.json", tmp_path / "model.json"
    assert run_mlgate(["validate-data", "--json", data], cwd=churn_repo).code == 0
    assert run_mlgate(["gate-model", "--json", model], cwd=churn_repo).code == 0
    registered = (churn_repo / "models" / "candidate.skops").read_bytes()
    out = run_mlgate(["register", "churn", "--evidence", data, model, "--repo", churn_repo])
    assert out.code == 0, out.stdout + out.stderr
    (tag,) = [t for t in git("tag", "--list", cwd=churn_repo).split() if t.startswith("churn@")]
    version = tag.split("@", 1)[1]
    out = run_mlgate(["promote", "churn", "--version", version, "--to", "staging",
                      "--repo", churn_repo])
    assert out.code == 0, out.stdout + out.stderr

    report = tmp_path / "against-staging.json"
    res = run_mlgate(["gate-model", "--model", "models/champion.skops", "--champion", "staging",
                      "--json", report], cwd=churn_repo)
    assert res.code in (0, 1), res.stdout + res.stderr
    gate = gates_of(report)["model"]
    assert gate["inputs"]["champion"] == {"ref": tag, "sha256": sha(registered)}
    assert_bound(gate, churn_repo)
    assert_round_trip(gate)


def test_load_test_of_a_served_model_records_model_payload_profile_and_config(
    churn_repo: Path, tmp_path: Path, clean_github_env: None
) -> None:
    report = tmp_path / "load.json"
    res = run_mlgate(["load-test", "--rate", "10", "--duration", "1s", "--warmup", "0",
                      "--json", report, "--quiet"], cwd=churn_repo)
    assert res.code == 0, res.stdout + res.stderr
    gate = gates_of(report)["load"]
    assert set(gate["inputs"]) == {"model", "payload", "policy", "config"}
    assert gate["inputs"]["model"]["path"] == "models/candidate.skops"
    assert gate["inputs"]["payload"]["path"] == "data/serving_sample.csv"
    assert gate["inputs"]["policy"]["preset"] == "interactive"
    assert_bound(gate, churn_repo)
    assert_meta(gate, churn_repo)
    assert_round_trip(gate)


@pytest.fixture
def answering_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering 200 to everything."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_load_test_of_a_url_records_it_without_credentials_and_its_payload_files(
    answering_server: str, tmp_path: Path, clean_github_env: None
) -> None:
    shutil.copy(EXAMPLE / "data" / "serving_sample.csv", tmp_path / "rows.csv")
    (tmp_path / "body.json").write_text('{"instances": {{rows}}}')
    (tmp_path / "slo.yaml").write_text("slo: ['error_rate<1%']\n")
    report = tmp_path / "load.json"
    url = f"http://user:s3cret@{answering_server}/predict?token=s3cret#frag"
    res = run_mlgate(["load-test", "--url", url, "--rate", "10", "--duration", "1s",
                      "--data", "rows.csv", "--template", "body.json", "--profile", "slo.yaml",
                      "--json", report, "--quiet"], cwd=tmp_path)
    assert res.code == 0, res.stdout + res.stderr
    gate = gates_of(report)["load"]
    assert gate["inputs"]["target"] == {"url": f"http://{answering_server}/predict"}
    assert "s3cret" not in json.dumps(gate["inputs"])
    assert set(gate["inputs"]) == {"target", "payload", "template", "policy"}
    assert_bound(gate, None)
    assert_meta(gate, None, dirty=None)


def test_mlgate_run_records_inputs_of_every_gate(
    churn_repo: Path, clean_github_env: None
) -> None:
    config = churn_repo / "mlgate.yaml"
    document = yaml.safe_load(config.read_text())
    document["load"].update({"duration": "1s", "warmup": 0, "rate": 10})
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    commit_all(churn_repo, "shorter load test")
    res = run_mlgate(["run", "--quiet"], cwd=churn_repo)
    assert res.code == 0, res.stdout + res.stderr
    results = churn_repo / ".mlgate" / "results" / "pr"
    gates = gates_of(results / "report.json")
    assert list(gates) == ["data", "model", "load"]
    for gate in gates.values():
        assert_bound(gate, churn_repo)
        assert_meta(gate, churn_repo)  # .mlgate/results is untracked: still clean
        assert_round_trip(gate)
        # Each stage's own JSON holds the same, identically digested, result.
        (alone,) = gates_of(results / f"{gate['gate']}.json").values()
        assert alone["inputs"] == gate["inputs"] and alone["digest"] == gate["digest"]
    data, model, load = gates["data"], gates["model"], gates["load"]
    assert data["inputs"]["data"] == model["inputs"]["data"]
    assert model["inputs"]["model"] == load["inputs"]["model"]
    assert data["inputs"]["config"]["sha256"] == sha(config.read_bytes())


# --- the helper and the result model ---------------------------------------------------------


def test_file_input_inside_and_outside_a_repository(tmp_path: Path) -> None:
    from tests.support.repos import init_repo

    repo = init_repo(tmp_path / "repo")
    (repo / "sub").mkdir()
    inside = repo / "sub" / "model.bin"
    inside.write_bytes(b"\x00model" * 300_000)  # > 1 MiB: read in more than one chunk
    outside = tmp_path / "loose.csv"
    outside.write_text("a\n1\n")
    entry = provenance.file_input(inside)
    assert entry == {"path": "sub/model.bin", "sha256": sha(inside.read_bytes()),
                     "size": inside.stat().st_size}
    # The same file named from another directory, through a relative path, is the same entry.
    cwd = Path.cwd()
    os.chdir(repo / "sub")
    try:
        assert provenance.file_input("model.bin") == entry
    finally:
        os.chdir(cwd)
    assert provenance.file_input(outside)["path"] == outside.resolve().as_posix()


def test_a_changed_file_is_hashed_again_an_unchanged_one_is_not(tmp_path: Path) -> None:
    file = tmp_path / "m.bin"
    file.write_bytes(b"first")
    first = provenance.file_input(file)["sha256"]
    file.write_bytes(b"second, longer")
    assert provenance.file_input(file)["sha256"] == sha(b"second, longer") != first
    # Same size, inode and mtime as an earlier read: the cached digest is used (the file is
    # not read again), which is what makes two gates of one run cheap.
    stat = file.stat()
    file.write_bytes(b"SECOND, LONGER")
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert provenance.file_input(file)["sha256"] == sha(b"second, longer")


def test_missing_file_is_input_error_naming_it(tmp_path: Path) -> None:
    from mlgate.errors import InputError

    with pytest.raises(InputError, match=r"absent\.csv"):
        provenance.file_input(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    "url, recorded",
    [
        ("http://u:p@example.com:8080/predict?key=1#x", "http://example.com:8080/predict"),
        ("https://token@api.example.com/v1/", "https://api.example.com/v1/"),
        ("http://[::1]:9000/p", "http://[::1]:9000/p"),
    ],
)
def test_url_input_drops_credentials_query_and_fragment(url: str, recorded: str) -> None:
    assert provenance.url_input(url) == {"url": recorded}


def test_run_meta_names_head_and_tracked_changes_only(tmp_path: Path) -> None:
    from tests.support.repos import init_repo

    repo = init_repo(tmp_path / "repo")
    (repo / "mlgate.yaml").write_text("version: 1\n")
    head = commit_all(repo, "config")
    meta = provenance.run_meta(repo)
    assert (meta["commit"], meta["dirty"], meta["mlgate"]) == (head, False, mlgate.__version__)
    (repo / "results.json").write_text("{}")  # untracked: not a change to what was judged
    assert provenance.run_meta(repo)["dirty"] is False
    (repo / "mlgate.yaml").write_text("version: 2\n")
    assert provenance.run_meta(repo)["dirty"] is True
    empty = init_repo(tmp_path / "fresh")
    assert provenance.run_meta(empty)["commit"] is None
    plain = tmp_path / "plain"
    plain.mkdir()
    assert provenance.run_meta(plain) | {"time": ""} == {
        "mlgate": mlgate.__version__, "commit": None, "dirty": None, "time": ""}


def test_digest_covers_inputs_and_meta_and_keeps_the_old_form_without_them() -> None:
    checks = [CheckResult("auc", Status.PASS, "0.91", 0.91, 0.8)]
    bare = GateResult("model", list(checks))
    old = json.dumps({"gate": "model", "checks": [c.to_dict() for c in checks]},
                     sort_keys=True, separators=(",", ":"))
    assert bare.digest() == sha(old.encode())  # digests already stored in tags still verify
    doc = bare.to_dict()
    del doc["inputs"], doc["meta"]  # a report written before inputs existed
    assert GateResult.from_dict(doc).digest() == bare.digest()

    bound = GateResult("model", list(checks), inputs={
        "model": {"path": "models/a.skops", "sha256": sha(b"a"), "size": 1}},
        meta={"mlgate": "0.1.0", "commit": None, "dirty": None, "time": "2025-01-01T00:00:00Z"})
    assert bound.digest() != bare.digest()
    again = GateResult.from_dict(json.loads(json.dumps(bound.to_dict())))
    assert again.digest() == bound.digest() and again.inputs == bound.inputs
    again.inputs["model"]["sha256"] = sha(b"b")
    assert again.digest() != bound.digest()
