"""A version registered from a data pointer (s3://, https://, a DVC pointer file) records the
pointer and a digest; ``verify`` reads it again: pass when unchanged, fail after the object was
overwritten, a warning (not a failure) when it cannot be reached."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from mlgate.report.json_report import write_json
from mlgate.resources import schema_problem
from mlgate.result import CheckResult, GateResult, Status
from tests.ledger.conftest import bound_evidence, file_input, ml, record, tags
from tests.support.data_servers import Bucket, FileServer, closed_port
from tests.support.repos import commit_all


def sha256(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def use_data(repo: Path, data: str, digest: str | None = None) -> None:
    """Point ledger.data at ``data`` on the default branch (where the policy is read)."""
    config = repo / "mlgate.yaml"
    text = config.read_text()
    line = "  data: data/train.csv               # its sha256 is recorded with every version\n"
    assert line in text
    extra = f"  data_digest: {digest}\n" if digest else ""
    config.write_text(text.replace(line, f"  data: {data}\n{extra}"))
    commit_all(repo, f"ledger.data: {data}", push=True)


def verify(repo: Path, target: str = "churn@v0.1.0") -> tuple[int, dict[str, dict[str, Any]]]:
    import json

    out_file = repo.parent / "verify.json"
    out = ml(repo, "verify", target, "--json", str(out_file))
    assert "Traceback" not in out.stderr
    doc = json.loads(out_file.read_text())
    return out.code, {c["name"]: c for g in doc["gates"] for c in g["checks"]}


def register(repo: Path, evidence: list[Path]) -> None:
    out = ml(repo, "register", "churn", "--evidence", *map(str, evidence))
    assert out.code == 0, out.stderr + out.stdout


def test_s3_pointer_recorded_and_rechecked(repo: Path, s3_bucket: Bucket,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    train = (repo / "data" / "train.csv").read_bytes()
    uri = s3_bucket.put("train/train.csv", train)
    use_data(repo, uri)
    register(repo, bound_evidence(repo, repo.parent / "ev"))
    rec = record(repo, "churn@v0.1.0")
    assert rec["data"]["uri"] == uri and rec["data"]["digest"] == "content"
    assert rec["data"]["sha256"] == sha256(train) and rec["data"]["size"] == len(train)
    assert schema_problem(rec, "ledger-record.schema.json") is None

    code, checks = verify(repo)
    assert code == 0 and checks["data pointer"]["status"] == "pass"

    endpoint = s3_bucket.client.meta.endpoint_url
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    code, checks = verify(repo)
    assert code == 0
    assert checks["data pointer"]["status"] == "warn"
    assert checks["data pointer"]["message"].startswith(f"{uri}: not reachable, not re-checked")

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    s3_bucket.put("train/train.csv", train.replace(b"north", b"south", 1))
    code, checks = verify(repo)
    assert code == 1
    assert checks["data pointer"]["status"] == "fail"
    assert "the data changed after registration" in checks["data pointer"]["message"]


def test_https_pointer_recorded_and_rechecked(repo: Path, https_files: FileServer) -> None:
    train = (repo / "data" / "train.csv").read_bytes()
    uri = https_files.put("train.csv", train)
    use_data(repo, uri)
    register(repo, bound_evidence(repo, repo.parent / "ev"))
    data = record(repo, "churn@v0.1.0")["data"]
    assert (data["uri"], data["digest"], data["sha256"]) == (uri, "content", sha256(train))

    out = ml(repo, "promote", "churn", "--version", "v0.1.0", "--to", "staging")
    assert out.code == 0, out.stderr
    code, checks = verify(repo, "churn#staging")  # a stage tag re-checks its version's data
    assert code == 0 and checks["v0.1.0: data pointer"]["status"] == "pass"

    https_files.files["train.csv"] = train + b"\n"
    code, checks = verify(repo)
    assert code == 1 and checks["data pointer"]["status"] == "fail"

    https_files.stop()
    code, checks = verify(repo)
    assert code == 0 and checks["data pointer"]["status"] == "warn"
    assert "not reachable, not re-checked" in checks["data pointer"]["message"]


def test_etag_digest_records_the_version_id_without_reading(
        repo: Path, s3_bucket: Bucket) -> None:
    """data_digest: etag on a versioned bucket: the object's version id is the identity; an
    overwrite makes a new version, which verify reports."""
    s3_bucket.client.put_bucket_versioning(Bucket=s3_bucket.name,
                                           VersioningConfiguration={"Status": "Enabled"})
    train = (repo / "data" / "train.csv").read_bytes()
    uri = s3_bucket.put("train.csv", train)
    use_data(repo, uri, digest="etag")
    register(repo, bound_evidence(repo, repo.parent / "ev"))
    data = record(repo, "churn@v0.1.0")["data"]
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key="train.csv")
    assert data["digest"] == "etag" and "sha256" not in data
    assert data["version_id"] == head["VersionId"] and data["etag"] == head["ETag"]
    assert verify(repo)[0] == 0
    s3_bucket.put("train.csv", train)  # the same bytes, a new version: etag mode cannot tell
    code, checks = verify(repo)
    assert code == 1 and "version_id" in checks["data pointer"]["message"]


def test_evidence_about_other_pointer_content_is_refused(repo: Path, s3_bucket: Bucket) -> None:
    """A passing data report that read the pointer when it held other bytes is not evidence
    about the version's data (the evidence-bound-to-inputs rule, for URIs)."""
    train = (repo / "data" / "train.csv").read_bytes()
    uri = s3_bucket.put("train.csv", train)
    use_data(repo, uri)
    other = GateResult("data", [CheckResult("drift", Status.PASS, "ok")],
                       inputs={"training": {"uri": uri, "sha256": sha256(b"older bytes"),
                                            "size": 11},
                               "config": file_input(repo, "mlgate.yaml")})
    model = bound_evidence(repo, repo.parent / "ev")[1]
    data_report = write_json(repo.parent / "data.json", [other], "validate-data")
    out = ml(repo, "register", "churn", "--evidence", str(data_report), str(model))
    assert out.code == 1
    assert f"it read {uri} as {sha256(b'older bytes')}, but the version records" in out.stdout
    assert tags(repo) == []


def test_unreachable_pointer_is_not_registered(repo: Path, s3_bucket: Bucket) -> None:
    uri = f"s3://{s3_bucket.name}/missing.csv"
    use_data(repo, uri)
    out = ml(repo, "register", "churn", "--evidence",
             *map(str, bound_evidence(repo, repo.parent / "ev")))
    assert out.code == 2
    assert out.error_line == (f"mlgate: error: {uri}: ledger.data not found (no such bucket "
                              "or key)")
    assert tags(repo) == []


def test_dvc_pointer_records_its_md5(repo: Path) -> None:
    train = (repo / "data" / "train.csv").read_bytes()
    md5 = hashlib.md5(train).hexdigest()
    pointer = f"outs:\n- md5: {md5}\n  size: {len(train)}\n  path: train.csv\n"
    (repo / "data" / "train.csv.dvc").write_text(pointer)
    use_data(repo, "data/train.csv.dvc")
    register(repo, bound_evidence(repo, repo.parent / "ev"))
    data = record(repo, "churn@v0.1.0")["data"]
    assert data == {"path": "data/train.csv.dvc", "sha256": sha256(pointer.encode()),
                    "committed": True, "dvc": {"md5": md5, "path": "train.csv",
                                               "size": len(train)}}
    code, checks = verify(repo)
    assert code == 0 and checks["data digest"]["status"] == "pass"
    assert "data pointer" not in checks  # a committed pointer is checked by git alone


def test_record_schema_accepts_old_and_pointer_records() -> None:
    base = {"format": "mlgate.ledger/v1", "event": "register", "name": "churn",
            "version": "v0.1.0", "commit": "a" * 40, "actor": "me",
            "time": "2026-01-01T00:00:00Z", "evidence": "sha256:" + "0" * 64,
            "artifact": {"path": "m.skops", "sha256": "sha256:" + "1" * 64}, "gates": {}}
    digest = "sha256:" + "2" * 64
    good = [
        None,
        {"path": "data/train.csv", "sha256": digest, "committed": True},
        {"uri": "s3://b/k.csv", "digest": "content", "sha256": digest, "size": 3},
        {"uri": "https://h/k.csv", "digest": "etag", "etag": '"abc"'},
        {"uri": "gs://b/k.csv", "digest": "etag", "version_id": "17"},
    ]
    bad = [
        {"uri": "s3://b/k.csv", "digest": "content"},  # no sha256
        {"uri": "s3://b/k.csv", "digest": "etag"},  # neither etag nor version id
        {"uri": "https://user:pw@h/k.csv", "digest": "content", "sha256": digest},
        {"uri": "ftp://h/k.csv", "digest": "content", "sha256": digest},
    ]
    for data in good:
        assert schema_problem({**base, "data": data}, "ledger-record.schema.json") is None
    for data in bad:
        assert schema_problem({**base, "data": data}, "ledger-record.schema.json") is not None


def test_binding_of_dvc_and_uri_evidence() -> None:
    """The rule register and every reader apply: a report that read the version's pointer
    must have read what the version records (md5 of a DVC pointer's data; sha256 of a URI; the
    version id in etag mode), and a report about other files is not judged by it."""
    from mlgate.ledger.validate import binding_problems

    artifact = "sha256:" + "a" * 64

    def problems(spec: dict[str, Any], data: dict[str, Any]) -> list[str]:
        return binding_problems({"data": spec}, "data", artifact, data, lambda path: None)

    dvc = {"path": "data/train.csv.dvc", "sha256": sha256(b"pointer"), "committed": True,
           "dvc": {"md5": "1" * 32, "path": "train.csv"}}
    read = {"path": "data/train.csv", "sha256": sha256(b"x"), "size": 1,
            "dvc": {"pointer": "data/train.csv.dvc", "md5": "1" * 32, "path": "train.csv"}}
    assert problems(read, dvc) == []
    other = {**read, "dvc": {**read["dvc"], "md5": "2" * 32}}
    assert problems(other, dvc) == [
        f"it read the data of data/train.csv.dvc with md5 {'2' * 32}, but the version records "
        f"{'1' * 32}"]
    etag = {"uri": "s3://b/k.csv", "digest": "etag", "version_id": "v2", "etag": '"e"'}
    assert problems({"uri": "s3://b/k.csv", "sha256": sha256(b"x"), "version_id": "v2"},
                    etag) == []
    assert problems({"uri": "s3://b/k.csv", "sha256": sha256(b"x"), "version_id": "v1"},
                    etag) == ["it read s3://b/k.csv at version_id v1, but the version records v2"]
    assert problems({"uri": "s3://b/k.csv", "sha256": sha256(b"x")}, etag) == [
        "it read s3://b/k.csv without the version id or ETag the version records, so it "
        "cannot be matched to it"]
    assert problems({"uri": "s3://b/other.csv", "sha256": sha256(b"x")}, etag) == []
