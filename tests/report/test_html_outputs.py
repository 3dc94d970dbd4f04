"""Where report.html is written: `mlgate report --html`, beside published markdown, and the
attachments that travel with it (inside the repository only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.report import write_json
from tests.support.cli import run_mlgate
from tests.support.report_samples import sample_result

CONFIG = "version: 1\nproject: churn\nreport:\n  attachments:\n{items}"


def _repo(tmp_path: Path, *patterns: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "plots" / "deep").mkdir(parents=True)
    (repo / "plots" / "roc.png").write_bytes(b"\x89PNG roc")
    (repo / "plots" / "deep" / "pr.svg").write_text("<svg/>", encoding="utf-8")
    items = "".join(f"    - {p!r}\n" for p in patterns)
    (repo / "mlgate.yaml").write_text(CONFIG.format(items=items), encoding="utf-8")
    write_json(repo / "results" / "report.json", [sample_result()], "test")
    return repo


def test_html_flag_writes_report_and_attachments(tmp_path: Path,
                                                 clean_github_env: None) -> None:
    repo = _repo(tmp_path, "plots/**/*.png", "plots/deep/*", "plots/missing.png")
    out = tmp_path / "out" / "report.html"
    res = run_mlgate(["report", "--results", "results", "--html", out], cwd=repo)
    assert res.code == 1, res.stderr  # the sample's data gate failed
    page = out.read_text(encoding="utf-8")
    assert "plots/roc.png" in page and "plots/deep/pr.svg" in page
    assert (out.parent / "attachments" / "plots" / "roc.png").read_bytes() == b"\x89PNG roc"
    assert (out.parent / "attachments" / "plots" / "deep" / "pr.svg").is_file()


@pytest.mark.parametrize("pattern", ["../secrets.txt", "/etc/passwd", "plots/../../x",
                                     "C:\\\\x"])
def test_attachments_outside_the_repository_are_refused(
        tmp_path: Path, pattern: str, clean_github_env: None) -> None:
    repo = _repo(tmp_path, pattern)
    res = run_mlgate(["report", "--results", "results", "--html", tmp_path / "r.html"], cwd=repo)
    assert res.code == 2
    assert "report.attachments[0]" in res.error_line
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists()


def test_attachment_symlink_leading_outside_is_refused(tmp_path: Path,
                                                       clean_github_env: None) -> None:
    repo = _repo(tmp_path, "plots/*.txt")
    (tmp_path / "secret.txt").write_text("token", encoding="utf-8")
    (repo / "plots" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    res = run_mlgate(["report", "--results", "results", "--html", tmp_path / "r.html"], cwd=repo)
    assert res.code == 2 and "report.attachments[0]" in res.error_line


def test_summary_writes_html_beside_results_and_links_the_url(
        tmp_path: Path, clean_github_env: None) -> None:
    repo = _repo(tmp_path)
    summary = tmp_path / "summary.md"
    url = "https://github.com/o/r/actions/runs/1/artifacts/2"
    res = run_mlgate(["report", "--results", "results", "--summary", "--html-url", url],
                     cwd=repo, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert res.code == 1, res.stderr
    assert (repo / "results" / "report.html").is_file()
    assert f"Full report: [report.html](<{url}>)" in summary.read_text(encoding="utf-8")


def test_no_link_for_a_url_that_is_not_http(tmp_path: Path, clean_github_env: None) -> None:
    repo = _repo(tmp_path)
    res = run_mlgate(["report", "--results", "results", "--summary",
                      "--html-url", "javascript:alert(1)"], cwd=repo)
    assert "Full report" not in res.stdout and "javascript" not in res.stdout
