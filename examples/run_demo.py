"""`make demo`: run the whole mlgate pipeline on a throw-away copy of examples/churn.

The copy is made a real git repository with a bare repository as its ``origin``, exactly what
a team's repository looks like in CI, so the ledger's tags and notes are pushed for real.
Nothing in the source tree is modified. Prints a summary and where the reports are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE / "churn"


def sh(*cmd: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None) -> int:
    print(f"$ {' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, cwd=cwd, env=env, check=False)
    if check and proc.returncode != 0:
        raise SystemExit(f"demo: `{' '.join(cmd)}` exited {proc.returncode}")
    return proc.returncode


def make_repo(workdir: Path) -> Path:
    """Copy the example into ``workdir/churn`` as a git repo whose origin is a bare repo."""
    origin = workdir / "origin.git"
    repo = workdir / "churn"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".mlgate", "candidate.skops"))
    sh("git", "init", "--quiet", "--bare", "--initial-branch=main", str(origin), cwd=workdir)
    sh("git", "init", "--quiet", "--initial-branch=main", cwd=repo)
    for key, value in (("user.name", "mlgate demo"), ("user.email", "demo@example.com")):
        sh("git", "config", key, value, cwd=repo)
    sh("git", "remote", "add", "origin", str(origin), cwd=repo)
    use_local_approvals(repo / "mlgate.yaml")
    sign_with_a_demo_key(repo, workdir / "keys")
    return repo


SIGNING = """  signing:                         # demo: every ledger tag is SSH-signed
    method: ssh
    key: env:MLGATE_SIGNING_KEY      # in CI: a secret only the release workflow can read
    allowed_signers: keys/allowed_signers
    required_for: [staging, production]
"""


def sign_with_a_demo_key(repo: Path, keys: Path) -> None:
    """Sign the ledger as a release workflow would: a key pair made for the demo, its public
    half in the repository's allowed-signers file, the private half in MLGATE_SIGNING_KEY."""
    keys.mkdir(parents=True, exist_ok=True)
    key = keys / "release-bot"
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release-bot", "-f", str(key),
       cwd=keys)
    (repo / "keys").mkdir(exist_ok=True)
    public = key.with_suffix(".pub").read_text(encoding="utf-8").strip()
    (repo / "keys" / "allowed_signers").write_text(f'release-bot namespaces="git" {public}\n',
                                                   encoding="utf-8")
    config = repo / "mlgate.yaml"
    text = config.read_text(encoding="utf-8")
    if "\n  stages:\n" not in text:
        raise SystemExit("demo: examples/churn/mlgate.yaml has no ledger.stages to sign")
    config.write_text(text.replace("\n  stages:\n", "\n" + SIGNING + "  stages:\n", 1),
                      encoding="utf-8")
    os.environ["MLGATE_SIGNING_KEY"] = key.read_text(encoding="utf-8")
    print(f"demo: ledger tags are signed with {key} (allowed signer: keys/allowed_signers)")


def use_local_approvals(config: Path) -> None:
    """The example's policy takes production approvals from GitHub environment reviews; with
    no GitHub here, the demo's copy takes them from `--approved-by` (the same approvers)."""
    text = config.read_text(encoding="utf-8")
    github = "source: github                 # the run's environment reviews only"
    if github not in text:
        raise SystemExit("demo: examples/churn/mlgate.yaml no longer has the expected approvals")
    config.write_text(text.replace(github, "source: local                  # demo: --approved-by"),
                      encoding="utf-8")
    print("demo: production approvals come from --approved-by here (GitHub reviews in CI)")


def print_summary(results_dir: Path) -> None:
    """One table of every gate the demo ran, read back from the JSON reports."""
    from mlgate.report import read_json

    rows = [("event", "gate", "status", "checks", "failed")]
    for event in ("pr", "release"):
        report = results_dir / event / "report.json"
        if report.exists():
            rows += [(event, g.gate, g.status.value, str(len(g.checks)), str(len(g.failures)))
                     for g in read_json(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print()


def print_charts(pr_results: Path) -> None:
    """Where the pictures are: the PR comment's Mermaid charts and report.html's SVG charts."""
    comment, html = pr_results / "comment.md", pr_results / "report.html"
    if comment.exists():
        charts = comment.read_text(encoding="utf-8").count("```mermaid")
        print(f"PR comment:      {comment} ({charts} Mermaid charts, "
              f"{len(comment.read_bytes()):,} bytes of GitHub's 65,536)")
    if html.exists():
        charts = html.read_text(encoding="utf-8").count('data-figure="')
        print(f"HTML report:     {html} ({charts} charts; open it in a browser)")


def main() -> int:
    keep = os.environ.get("MLGATE_DEMO_DIR")
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="mlgate-demo-"))
    if keep and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    repo = make_repo(workdir)
    python = sys.executable
    sh(python, "train.py", "--out", "models/candidate.skops", cwd=repo)
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "--quiet", "-m", "Train churn candidate", cwd=repo)
    sh("git", "push", "--quiet", "origin", "main", cwd=repo)
    mlgate = [python, "-m", "mlgate"]
    status = sh(*mlgate, "run", "--stage", "pr", cwd=repo, check=False)
    pr_results = repo / ".mlgate" / "results" / "pr"
    # the pull-request comment as `mlgate report --pr-comment` would post it (no GitHub here)
    sh(*mlgate, "report", "--results", str(pr_results), "--no-html",
       "--comment-file", str(pr_results / "comment.md"), cwd=repo, check=False)
    if status == 0:
        # release: gates again, register the version, promote it to staging (ledger.release_to)
        status = sh(*mlgate, "run", "--stage", "release", cwd=repo, check=False)
    if status == 0:
        # a person approves production; outside GitHub the approval is recorded locally
        status = sh(*mlgate, "promote", "--version", "v0.1.0", "--to", "production",
                    "--approvals", "local", "--approved-by", "alice",
                    "--approval-comment", "demo: reviewed the PR report", cwd=repo, check=False)
    if status == 0:
        status = sh(*mlgate, "status", cwd=repo, check=False)
        # the production entry must verify: signed by the release key, every rule re-checked
        status = status or sh(*mlgate, "verify", "churn#production", cwd=repo, check=False)
        gto = Path(sys.executable).with_name("gto")
        if gto.exists():  # GTO (a dev dependency) reads the same tags
            sh(str(gto), "show", "-r", ".", cwd=repo, check=False)
    print_summary(repo / ".mlgate" / "results")
    print(f"demo repository: {repo} (origin: {workdir / 'origin.git'})")
    print(f"reports:         {repo / '.mlgate' / 'results'}/{{pr,release}}/report.md, .html, "
          ".json, .xml")
    print_charts(pr_results)
    print("demo: PASSED" if status == 0 else f"demo: FAILED (exit {status})")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
