"""Data by pointer: the data gate on https:// and s3:// data (real servers on 127.0.0.1), DVC
pointer files, and every way a pointer can be bad (exit 2, one line naming the URI)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import CliResult, run_mlgate
from tests.support.data_servers import Bucket, FileServer, closed_port


def sha256(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def report(cwd: Path, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((cwd / name).read_text())
    return doc["gates"][0]


def verdicts(gate: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in gate["checks"]}


def validate(cwd: Path, *args: str, out: str = "o.json") -> CliResult:
    res = run_mlgate(["validate-data", *args, "--json", out], cwd=cwd)
    assert "Traceback" not in res.stderr
    return res


def test_config_pointers_judge_like_the_local_files(
        churn_dir: Path, s3_bucket: Bucket, https_files: FileServer,
        clean_github_env: None) -> None:
    """data.path and skew.training on s3://, data.reference and skew.serving on https://: the
    same checks and verdicts as the local files, and evidence naming each URI with the sha256
    of the bytes judged."""
    data = churn_dir / "data"
    local = validate(churn_dir, out="local.json")
    uris = {
        "data": s3_bucket.put("gate/holdout.csv", (data / "holdout.csv").read_bytes()),
        "reference": https_files.put("reference.csv", (data / "reference.csv").read_bytes()),
        "training": s3_bucket.put("gate/train.csv", (data / "train.csv").read_bytes()),
        "serving": https_files.put("serving.csv", (data / "serving_sample.csv").read_bytes()),
    }
    config = churn_dir / "mlgate.yaml"
    doc = yaml.safe_load(config.read_text())
    doc["data"]["path"], doc["data"]["reference"] = uris["data"], uris["reference"]
    doc["data"]["skew"]["training"] = uris["training"]
    doc["data"]["skew"]["serving"] = uris["serving"]
    config.write_text(yaml.safe_dump(doc))
    remote = validate(churn_dir, out="remote.json")
    assert remote.code == local.code == 0, remote.stderr
    assert verdicts(report(churn_dir, "remote.json")) == verdicts(report(churn_dir, "local.json"))
    inputs = report(churn_dir, "remote.json")["inputs"]
    files = {"data": "holdout.csv", "reference": "reference.csv", "training": "train.csv",
             "serving": "serving_sample.csv"}
    for role, uri in uris.items():
        content = (data / files[role]).read_bytes()
        assert inputs[role]["uri"] == uri
        assert inputs[role]["sha256"] == sha256(content)
        assert inputs[role]["size"] == len(content)
    assert inputs["data"]["etag"]  # the store's identity of the object, beside the content


def test_flags_take_uris_and_a_parquet_object(churn_dir: Path, s3_bucket: Bucket,
                                              https_files: FileServer) -> None:
    """--data/--reference take URIs too; a Parquet object is parsed by its key's suffix, and a
    changed column in the remote data is found as in a local file."""
    import pandas as pd

    (churn_dir / "mlgate.yaml").unlink()
    frame = pd.read_csv(churn_dir / "data" / "holdout.csv")
    frame["monthly_charges"] = frame["monthly_charges"] * 3
    frame.to_parquet(churn_dir / "shifted.parquet")
    uri = s3_bucket.put("shifted.parquet", (churn_dir / "shifted.parquet").read_bytes())
    ref = https_files.put("ref.csv", (churn_dir / "data" / "reference.csv").read_bytes())
    res = validate(churn_dir, "--data", uri, "--reference", ref)
    checks = verdicts(report(churn_dir, "o.json"))
    assert checks["drift: monthly_charges"] == "warn"
    assert checks["drift: tenure_months"] == "pass"
    assert res.code == 0
    # file:// is a local file, recorded as one
    local = (churn_dir / "shifted.parquet").resolve()
    res = validate(churn_dir, "--data", local.as_uri(), "--reference", ref, out="f.json")
    assert res.code == 0 and verdicts(report(churn_dir, "f.json")) == checks
    assert report(churn_dir, "f.json")["inputs"]["data"]["path"] == local.as_posix()


def dvc_file(path: Path, data_name: str, content: bytes) -> Path:
    md5 = hashlib.md5(content).hexdigest()
    path.write_text(f"outs:\n- md5: {md5}\n  size: {len(content)}\n  hash: md5\n"
                    f"  path: {data_name}\n")
    return path


def test_dvc_pointer_reads_the_file_next_to_it(churn_dir: Path) -> None:
    (churn_dir / "mlgate.yaml").unlink()
    content = (churn_dir / "data" / "holdout.csv").read_bytes()
    dvc_file(churn_dir / "data" / "holdout.csv.dvc", "holdout.csv", content)
    res = validate(churn_dir, "--data", "data/holdout.csv.dvc")
    assert res.code == 0, res.stderr
    data = report(churn_dir, "o.json")["inputs"]["data"]
    assert data["sha256"] == sha256(content)
    assert data["dvc"]["md5"] == hashlib.md5(content).hexdigest()
    assert data["dvc"]["path"] == "holdout.csv"
    assert data["dvc"]["pointer"].endswith("holdout.csv.dvc")
    # the same file edited without `dvc add`: the pointer no longer vouches for it
    (churn_dir / "data" / "holdout.csv").write_bytes(content + content.splitlines(True)[1])
    res = validate(churn_dir, "--data", "data/holdout.csv.dvc")
    assert res.code == 2
    assert res.error_line.startswith(
        "mlgate: error: data/holdout.csv.dvc: data/holdout.csv has md5 ")
    assert "but the DVC pointer records" in res.error_line


def test_dvc_pointer_without_its_data_is_exit_2(churn_dir: Path) -> None:
    (churn_dir / "mlgate.yaml").unlink()
    content = b"a,b\n1,2\n"
    pointer = dvc_file(churn_dir / "gone.csv.dvc", "gone.csv", content)
    res = validate(churn_dir, "--data", "gone.csv.dvc")
    assert res.code == 2
    assert res.error_line == (
        f"mlgate: error: {pointer.name}: data: gone.csv (md5 {hashlib.md5(content).hexdigest()})"
        " is not next to its DVC pointer and no readable default DVC remote is configured; "
        "run `dvc pull` first")


def test_dvc_pointer_read_from_the_default_dvc_remote(churn_dir: Path,
                                                      s3_bucket: Bucket) -> None:
    """No local copy: the bytes come from the DVC remote's content-addressed store (DVC 3
    layout), checked against the pointer's md5; no dvc package involved."""
    (churn_dir / "mlgate.yaml").unlink()
    content = (churn_dir / "data" / "holdout.csv").read_bytes()
    md5 = hashlib.md5(content).hexdigest()
    (churn_dir / ".dvc").mkdir()
    (churn_dir / ".dvc" / "config").write_text(
        f"[core]\n    remote = store\n['remote \"store\"']\n    url = s3://{s3_bucket.name}/dvc\n")
    uri = s3_bucket.put(f"dvc/files/md5/{md5[:2]}/{md5[2:]}", content)
    dvc_file(churn_dir / "remote.csv.dvc", "remote.csv", content)
    res = validate(churn_dir, "--data", "remote.csv.dvc")
    assert res.code == 0, res.stderr
    data = report(churn_dir, "o.json")["inputs"]["data"]
    assert data["uri"] == uri and data["sha256"] == sha256(content)
    assert data["dvc"]["md5"] == md5
    # a remote object that is not what the pointer names is refused
    s3_bucket.put(f"dvc/files/md5/{md5[:2]}/{md5[2:]}", content.replace(b"north", b"south"))
    res = validate(churn_dir, "--data", "remote.csv.dvc")
    assert res.code == 2 and "but the DVC pointer records" in res.error_line


BAD_URIS = [
    ("ftp://host/x.csv", "unsupported URI scheme 'ftp' (use a path, file://, https://, s3://, "
     "gs:// or az://)"),
    ("s3://only-a-bucket", "malformed URI: no object key after the bucket"),
    ("https:///x.csv", "malformed URI: no host"),
    ("https://127.0.0.1:99999/x.csv", "malformed URI: Port out of range 0-65535"),
    ("file://elsewhere/x.csv", "a file:// URI must name a local file (file:///path), not host "
     "'elsewhere'"),
    ("gs://bucket/x.csv", "data: reading gs:// needs an optional extra: pip install "
     "'mlgate[gcs]'"),
    ("az://container/x.csv", "data: reading az:// needs an optional extra: pip install "
     "'mlgate[azure]'"),
]


@pytest.mark.parametrize(("uri", "message"), BAD_URIS)
def test_malformed_or_unsupported_uri(tmp_path: Path, uri: str, message: str) -> None:
    res = validate(tmp_path, "--data", uri)
    assert res.code == 2
    assert res.stderr.strip() == f"mlgate: error: {uri}: {message}"


def test_https_errors_are_one_line_naming_the_uri(tmp_path: Path,
                                                  https_files: FileServer) -> None:
    base = https_files.url
    cases = {
        f"{base}/missing.csv": "data not found (HTTP 404)",
        f"{base}/denied/x.csv": "data: access denied (HTTP 403)",
        f"https://127.0.0.1:{closed_port()}/x.csv":
            "data: cannot connect to the host (unreachable or refusing connections)",
    }
    for uri, message in cases.items():
        res = validate(tmp_path, "--data", uri)
        assert (res.code, res.stderr.strip()) == (2, f"mlgate: error: {uri}: {message}")


def test_https_is_verified_by_default(tmp_path: Path, https_files: FileServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A server whose certificate nobody configured as trusted is refused, not read."""
    uri = https_files.put("x.csv", b"a,b\n1,2\n")
    assert validate(tmp_path, "--data", uri).code == 0
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    res = validate(tmp_path, "--data", uri)
    assert res.code == 2
    assert res.stderr.strip() == (f"mlgate: error: {uri}: data: TLS certificate verification "
                                  "failed (set REQUESTS_CA_BUNDLE to your CA's certificates)")


def test_credentials_in_a_uri_are_never_printed(tmp_path: Path) -> None:
    port = closed_port()
    uri = f"https://alice:hunter2@127.0.0.1:{port}/x.csv?X-Amz-Signature=s3cr3t&part=1"
    res = validate(tmp_path, "--data", uri)
    assert res.code == 2
    assert "hunter2" not in res.stderr and "s3cr3t" not in res.stderr and "alice" not in (
        res.stderr)
    assert res.stderr.strip().startswith(f"mlgate: error: https://127.0.0.1:{port}/x.csv: ")


def test_s3_errors_are_one_line_naming_the_uri(tmp_path: Path, s3_bucket: Bucket,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {
        f"s3://{s3_bucket.name}/missing.csv": "data not found (no such bucket or key)",
        "s3://no-such-bucket-here/x.csv": "data not found (no such bucket or key)",
    }
    for uri, message in cases.items():
        res = validate(tmp_path, "--data", uri)
        assert (res.code, res.stderr.strip()) == (2, f"mlgate: error: {uri}: {message}")
    uri = s3_bucket.put("empty.csv", b"")
    res = validate(tmp_path, "--data", uri)
    assert (res.code, res.stderr.strip()) == (
        2, f"mlgate: error: {uri}: data file is empty (0 bytes)")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    res = validate(tmp_path, "--data", uri)
    assert (res.code, res.stderr.strip()) == (
        2, f"mlgate: error: {uri}: data: cannot connect to the object store "
        "(EndpointConnectionError)")


def test_unparsable_remote_data_names_the_uri(tmp_path: Path, s3_bucket: Bucket) -> None:
    uri = s3_bucket.put("bad.parquet", b"this is not parquet")
    res = validate(tmp_path, "--data", uri)
    assert res.code == 2
    assert res.stderr.strip().startswith(f"mlgate: error: {uri}: unreadable Parquet file: ")
    assert len(res.stderr.strip().splitlines()) == 1
    assert "mlgate-data-" not in res.stderr  # pyarrow's text names the temporary copy


def test_redirects_are_followed_but_never_to_a_metadata_service(
        tmp_path: Path, https_files: FileServer) -> None:
    """A data URI (which a pull request can write) must not make the gate read the cloud
    metadata service, where runners get credentials: not directly, not through a redirect."""
    https_files.put("x.csv", b"a,b\n1,2\n")
    assert validate(tmp_path, "--data", f"{https_files.url}/redirect/x.csv").code == 0
    for uri in ("http://169.254.169.254/latest/meta-data/x.csv",
                f"{https_files.url}/redirect/http://169.254.169.254/latest/x.csv"):
        res = validate(tmp_path, "--data", uri)
        assert (res.code, res.stderr.strip()) == (
            2, f"mlgate: error: {uri}: data: refusing to read from 169.254.169.254 "
            "(link-local: a cloud metadata service)")


def test_s3_access_denied(tmp_path: Path, denying_s3_endpoint: str,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.data_servers import s3_environment

    s3_environment(monkeypatch, denying_s3_endpoint)
    uri = "s3://someone-elses/data.csv"
    res = validate(tmp_path, "--data", uri)
    assert res.code == 2
    assert res.stderr.strip() == f"mlgate: error: {uri}: data: access denied (Forbidden)"
    assert len(res.stderr.strip().splitlines()) == 1
    assert "testing" not in res.stderr  # the access key id is not echoed


def test_a_saved_profile_serves_a_uri_reference_of_the_same_bytes(
        churn_dir: Path, https_files: FileServer, clean_github_env: None) -> None:
    """A reference on https:// is read once (its digest is that of the bytes parsed); a saved
    profile naming that digest is used, and one made from other bytes is not."""
    reference = (churn_dir / "data" / "reference.csv").read_bytes()
    uri = https_files.put("reference.csv", reference)
    config = churn_dir / "mlgate.yaml"
    doc = yaml.safe_load(config.read_text())
    doc["data"]["reference"] = uri
    config.write_text(yaml.safe_dump(doc))
    made = run_mlgate(["profile", "--reference", "data/reference.csv"], cwd=churn_dir)
    assert made.code == 0, made.stderr
    used = validate(churn_dir, out="used.json")
    assert used.code == 0, used.stderr
    gate = report(churn_dir, "used.json")
    recorded = gate["inputs"]["reference"]
    assert (recorded["uri"], recorded["sha256"]) == (uri, sha256(reference))
    assert "reference_profile" in gate["inputs"]
    https_files.put("reference.csv", reference.replace(b"\n", b"\r\n"))  # same rows, new bytes
    assert validate(churn_dir, out="stale.json").code == 0
    gate = report(churn_dir, "stale.json")
    assert "reference_profile" not in gate["inputs"]
    assert verdicts(gate) == verdicts(report(churn_dir, "used.json"))
