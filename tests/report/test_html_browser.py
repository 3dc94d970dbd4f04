"""The HTML report in a real browser: Debian's chromium driven by Playwright.

Static checks (test_html.py) say what the page contains; this says what a person sees: the
page loads with no console error and no request at all (it is self-contained), every figure is
drawn with a size, and the profile and evidence sections are there. A full-page screenshot goes
to .pytest-artifacts/screenshots/ (gitignored) for a person to look at.

Playwright cannot download its own browsers here, so it launches the system chromium
(``scripts/system-deps.sh`` installs it); without one the test skips and says so.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mlgate.report import read_json
from mlgate.report.html import render_html
from tests.support.cli import run_mlgate
from tests.support.report_samples import sample_result

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".pytest-artifacts" / "screenshots"


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found:
        pytest.skip("chromium is not installed (scripts/system-deps.sh installs it)")
    return found


@pytest.mark.slow
def test_report_of_real_gates_renders_in_chromium(churn_repo: Path, tmp_path: Path,
                                                  clean_github_env: None) -> None:
    executable = _chromium()
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    sync_api = pytest.importorskip("playwright.sync_api")

    run = run_mlgate(["run", "--stage", "pr"], cwd=churn_repo)
    assert run.code in (0, 1), run.stdout + run.stderr
    results_dir = churn_repo / ".mlgate" / "results" / "pr"
    assert (results_dir / "report.html").is_file()  # mlgate run writes it beside report.md
    results = [*read_json(results_dir / "report.json"), sample_result()]
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(results, "mlgate: churn"), encoding="utf-8")
    expected = [f.id for r in results for f in r.figures]
    assert expected  # the hand-built result has one figure of each kind

    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True,
                                    args=["--no-sandbox"] if os.geteuid() == 0 else [])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url)
                    if not r.url.startswith(("file:", "data:")) else None)
            page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")

            for figure_id in expected:
                container = page.locator(f'[data-figure="{figure_id}"]')
                assert container.count() == 1, figure_id
                assert container.get_attribute("id") == f"figure-{figure_id}"
                container.scroll_into_view_if_needed()
                assert container.is_visible(), figure_id
                box = container.locator("svg").bounding_box()
                assert box and box["width"] > 100 and box["height"] > 50, (figure_id, box)
                drawn = container.locator("svg path, svg text, svg rect, svg use").count()
                assert drawn > 5, (figure_id, drawn)
            assert page.locator("section.profile").count() >= 1
            assert page.locator("section.profile").first.is_visible()
            # the example's categorical column `plan`: its values and shares, reference and now
            profile = page.locator("section.profile").first.inner_text()
            for value in ("basic", "standard", "premium"):
                assert value in profile, value
            assert page.locator("#evidence").is_visible()
            assert "sha256:" in page.locator("#evidence").inner_text()
            assert page.evaluate("document.querySelectorAll('script').length") == 0

            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            shutil.copyfile(shot, SCREENSHOTS / "report.png")
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert not errors, errors
    assert not requests, requests
