"""Ledger read speed: ``mlgate status`` (validating every entry it relies on) vs ``gto show``.

Builds a repository (one ``git fast-import``, then ``git pack-refs --all`` as a clone has
them) holding ARTIFACTS artifacts, each with version tags on their own commits and stage
assignments (staging/production, with counters). Every tag carries a complete mlgate record
and every tagged commit an evidence note, exactly as mlgate writes them, and main holds the
mlgate.yaml whose policy they recorded: so ``mlgate status`` validates for real (schema,
artifact and evidence digests, binding, policy from the default branch, stage order,
approvals). Then times both tools as a user runs them (a fresh process each time), cold (no
digest cache) and warm, and checks that they agree on which version is in which stage.

    .venv/bin/python benchmarks/bench_ledger.py            # 10,000 tags, 100 artifacts
    .venv/bin/python benchmarks/bench_ledger.py --quick    # 400 tags, 10 artifacts
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mlgate.ledger.record import canonical_digest
from mlgate.result import CheckResult, GateResult, Status

BIN = Path(sys.executable).parent
T0 = 1_700_000_000
POLICY = """version: 1
project: bench
ledger:
  stages:
    staging: {promotes_from: null, gates: [model], approvals: {min: 0}}
    production:
      promotes_from: staging
      gates: [model]
      approvals: {min: 1, approvers: [alice, bob], source: local}
"""


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _entry(doc: dict[str, Any]) -> tuple[dict[str, Any], str]:
    normal = json.loads(json.dumps(doc, sort_keys=True))
    return normal, canonical_digest(normal)


def build_repo(path: Path, artifacts: int, tags_per_artifact: int) -> int:
    """Write the repository with fast-import; returns the number of tags."""
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(path)], check=True)
    versions = max(1, tags_per_artifact * 2 // 5)
    assigns = tags_per_artifact - versions
    out: list[str] = []
    models = [f"model bytes {c}\n".encode() for c in range(versions)]
    policy = POLICY.encode()
    out.append(f"blob\nmark :900000\ndata {len(policy)}\n{POLICY}")
    for c, payload in enumerate(models):
        out.append(f"blob\nmark :{c + 1}\ndata {len(payload)}\n{payload.decode()}")
    shas: list[str] = []
    for c in range(versions):
        msg = f"commit {c}\n"
        out.append(
            f"commit refs/heads/main\nmark :{10_000 + c}\n"
            f"author Bench <bench@example.com> {T0 + c} +0000\n"
            f"committer Bench <bench@example.com> {T0 + c} +0000\n"
            f"data {len(msg)}\n{msg}"
            + (f"from :{10_000 + c - 1}\n" if c else "")
            + f"M 100644 :{c + 1} models/model.bin\nM 100644 :900000 mlgate.yaml\n")
    stream = "\n".join(out) + "\n"
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=stream.encode(),
                   check=True)
    for c in range(versions):
        shas.append(subprocess.run(
            ["git", "-C", str(path), "rev-parse", f"main~{versions - 1 - c}"],
            capture_output=True, text=True, check=True).stdout.strip())
    tip = shas[-1]
    policy_ref = {"path": "mlgate.yaml", "blob": _git_blob_id(policy), "commit": tip,
                  "branch": "main", "digest": _stages_digest()}
    tags: list[str] = []
    notes: dict[str, dict[str, Any]] = {c: {} for c in shas}
    total = 0
    clock = T0 + versions
    for a in range(artifacts):
        name = f"model-{a:03d}"
        for v in range(versions):
            clock += 1
            tag = f"{name}@v1.{v}.0"
            artifact = {"path": "models/model.bin", "sha256": _sha(models[v]),
                        "size": len(models[v])}
            report = GateResult(
                "model", [CheckResult("roc_auc", Status.PASS, "0.9", 0.9, 0.8)],
                inputs={"model": {**{"path": artifact["path"], "sha256": artifact["sha256"],
                                     "size": artifact["size"]}}})
            note, evidence = _entry({"event": "register", "gates": [report.to_dict()]})
            notes[shas[v]][tag] = note
            rec = {"event": "register", "name": name, "version": f"v1.{v}.0",
                   "commit": shas[v], "artifact": artifact, "data": None,
                   "gates": {"model": {"status": "pass", "digest": report.digest()}},
                   "actor": "release-bot", "time": _iso(clock), "run_url": "",
                   "evidence": evidence}
            tags.append(_tag(tag, shas[v], clock, rec))
            total += 1
        staged_at: dict[int, int] = {}
        for n in range(1, assigns + 1):
            clock += 1
            v = min(versions - 1, (n - 1) // 2)
            stage = "staging" if n % 2 else "production"
            tag = f"{name}#{stage}#{n}"
            approvals = []
            if stage == "staging":
                staged_at[v] = clock
            else:
                approvals = [{"login": "alice", "state": "approved",
                              "time": _iso(max(clock - 1, staged_at.get(v, clock))),
                              "source": "local", "comment": "", "url": "",
                              "subject": f"{name}@v1.{v}.0 to production"}]
            note, evidence = _entry({"event": "assign", "checks": [], "approvals": approvals})
            notes[shas[v]][tag] = note
            rec = {"event": "assign", "name": name, "version": f"v1.{v}.0", "stage": stage,
                   "counter": n, "commit": shas[v],
                   "artifact": {"path": "models/model.bin", "sha256": _sha(models[v]),
                                "size": len(models[v])},
                   "gates": {}, "approvals": note["approvals"], "actor": "release-bot",
                   "time": _iso(clock), "run_url": "", "policy": policy_ref,
                   "evidence": evidence}
            tags.append(_tag(tag, shas[v], clock, rec))
            total += 1
    note_lines = ["commit refs/notes/mlgate",
                  f"committer Bench <bench@example.com> {clock} +0000", "data 5", "notes"]
    for commit, entries in notes.items():
        body = json.dumps({"format": "mlgate.evidence/v1", "tags": entries}, indent=1,
                          sort_keys=True) + "\n"
        note_lines += [f"N inline {commit}", f"data {len(body.encode())}", body]
    stream = "\n".join(tags) + "\n" + "\n".join(note_lines) + "\n"
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=stream.encode(),
                   check=True)
    subprocess.run(["git", "-C", str(path), "checkout", "--quiet", "main"], check=True)
    return total


def _stages_digest() -> str:
    import yaml

    from mlgate.ledger.record import policy_digest

    return policy_digest(yaml.safe_load(POLICY)["ledger"]["stages"])


def _tag(name: str, commit: str, when: int, record: dict[str, Any]) -> str:
    body = json.dumps({"format": "mlgate.ledger/v1", **record}, indent=2, sort_keys=True)
    msg = f"{name}\n\n{body}\n"
    return (f"tag {name}\nfrom {commit}\ntagger Bench <bench@example.com> {when} +0000\n"
            f"data {len(msg.encode())}\n{msg}")


def timed(cmd: list[str], runs: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
        out = proc.stdout
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke size")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (median)")
    args = parser.parse_args(argv)
    artifacts, per = (10, 40) if args.quick else (100, 100)
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-ledger-") as tmp:
        repo = Path(tmp) / "registry"
        start = time.perf_counter()
        total = build_repo(repo, artifacts, per)
        print(f"built {total} tags for {artifacts} artifacts in "
              f"{time.perf_counter() - start:.1f}s")
        result = Path(tmp) / "status.json"
        status = [str(BIN / "mlgate"), "status", "--repo", str(repo), "--quiet",
                  "--json", str(result)]
        # A clone (and every `git gc`) keeps tags in packed-refs: the normal state to compare.
        subprocess.run(["git", "-C", str(repo), "pack-refs", "--all"], check=True)
        cache = repo / ".git" / "mlgate"
        colds = []
        for _ in range(args.runs):
            shutil.rmtree(cache, ignore_errors=True)
            colds.append(timed(status, 1)[0])
        cold = statistics.median(colds)
        ours, _ = timed(status, args.runs)
        theirs, gto_out = timed([str(BIN / "gto"), "show", "-r", str(repo), "--json"],
                                max(1, args.runs if args.quick else 1))
        doc = json.loads(result.read_text())["gates"][0]
        mine = doc["data"]["artifacts"]
        invalid = sum(len(a.get("invalid", [])) for a in mine.values())
        shown = json.loads(gto_out)
        disagree = [n for n, s in shown.items()
                    if s["stage"] != mine[n]["stages"] or s["version"] != mine[n]["latest"]]
        print(f"mlgate status (validating): {ours:.3f}s warm, {cold:.3f}s cold (no digest "
              f"cache)   gto show: {theirs:.3f}s   ratio: {theirs / ours:.1f}x warm, "
              f"{theirs / cold:.1f}x cold   agree on {len(shown) - len(disagree)}/"
              f"{len(shown)} artifacts   invalid entries: {invalid}")
        if disagree or invalid:
            print(f"disagreement on: {', '.join(disagree[:5])}; invalid: {invalid}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
