"""The HTML report: self-contained, escaped, and every figure, profile and digest drawn."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from mlgate.figures import Figure, Series, Threshold
from mlgate.report.html import CSP, render_html
from mlgate.report.svg_charts import figure_svg
from mlgate.result import CheckResult, GateResult, Status
from tests.support.report_samples import HOSTILE, sample_result


class _Page(HTMLParser):
    """Tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_page_has_verdict_checks_tables_and_evidence() -> None:
    result = sample_result()
    page = render_html([result], "mlgate: churn")
    text = " ".join(parse(page).text)
    assert "Verdict:" in text and "fail" in text
    for name in ("drift age", "rows", "psi 0.05 within 0.2", "Columns", "Evidence"):
        assert name in text
    assert result.digest() in text
    assert "sha256:" + "a" * 64 in text and "data/current.csv" in text
    assert "0123456789abcdef0123456789abcdef01234567" in text and "0.1.0" in text


def test_data_strings_are_escaped_and_inert() -> None:
    """A column named <script> is text on the page: never an element, never an attribute."""
    page = render_html([sample_result()], f"title {HOSTILE}")
    parsed = parse(page)
    assert not [t for t, _ in parsed.tags if t == "script"]
    assert "<script" not in page.lower()
    assert HOSTILE in " ".join(parsed.text)  # shown as typed
    for _, attrs in parsed.tags:  # no event handler attribute came from data
        assert not [a for a in attrs if a.startswith("on")]


def test_page_is_self_contained() -> None:
    page = render_html([sample_result()], "mlgate")
    parsed = parse(page)
    assert (("meta", {"http-equiv": "Content-Security-Policy", "content": CSP})
            in parsed.tags)
    for tag, attrs in parsed.tags:
        assert tag not in ("script", "link", "iframe", "img", "object", "embed"), tag
        for key in ("src", "href", "xlink:href"):
            value = attrs.get(key) or ""
            assert not value or value.startswith("#"), (tag, key, value)
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", page, re.IGNORECASE)
    assert "@import" not in page and "url(http" not in page
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page


def test_every_figure_is_an_svg_in_its_container() -> None:
    result = sample_result()
    page = render_html([result], "mlgate")
    for figure in result.figures:
        match = re.search(rf'<figure id="figure-{re.escape(figure.id)}" '
                          rf'data-figure="{re.escape(figure.id)}">(.*?)</figure>', page, re.S)
        assert match, figure.id
        assert "<svg" in match.group(1) and "</svg>" in match.group(1)
    # The text chart is drawn too.
    assert 'data-figure="data.chart-0"' in page


def test_svg_ids_are_unique_across_the_page() -> None:
    page = render_html([sample_result(), sample_result()], "mlgate")
    ids = re.findall(r'\bid="([^"]+)"', page)
    dupes = {i for i in ids if ids.count(i) > 1 and not i.startswith("figure-")}
    assert not dupes
    for ref in re.findall(r'url\(#([^)]+)\)', page):
        assert ref in ids


def test_figure_kinds_intervals_thresholds_and_legend() -> None:
    bar = Figure("b", "bars", "bar", ["a", "b"],
                 [Series("cand", [1.0, 2.0], low=[0.5, 1.5], high=[1.5, 2.5])],
                 thresholds=[Threshold("limit", 1.8)])
    line = Figure("l", "lines", "line", [0.0, 1.0, 2.0],
                  [Series("curve", [0.0, 0.5, 1.0], low=[0.0, 0.4, 0.9], high=[0.0, 0.6, 1.0])],
                  thresholds=[Threshold("slo", 0.8)])
    for figure, drawn in ((bar, "<path"), (line, "<path")):
        svg = figure_svg(figure, "t")
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert drawn in svg
        assert "stroke-dasharray" in svg  # the threshold's dashed line
        assert figure.series[0].name in svg  # the legend names the series
        assert figure.thresholds[0].name in svg


def test_mathtext_and_underscore_labels_are_shown_as_typed() -> None:
    figure = Figure("m", "math", "bar", ["$\\frac{1}{0}$", "$x$"],
                    [Series("_hidden", [1.0, 2.0]), Series("$\\alpha$", [1.5, 0.5])])
    svg = figure_svg(figure, "m")
    assert "$\\frac{1}{0}$" in svg and "$x$" in svg and "$\\alpha$" in svg
    assert "_hidden" in svg  # matplotlib would drop a legend label starting with "_"


def test_none_values_and_empty_figures_do_not_crash() -> None:
    gaps = Figure("g", "gaps", "line", [0.0, 1.0], [Series("s", [None, None])])
    empty = Figure("e", "empty", "bar", [], [])
    no_series = Figure("n", "none", "line", [1.0, 2.0], [])
    bad_interval = Figure("i", "interval", "bar", ["a", "b"],
                          [Series("s", [1.0, None], low=[None], high=[2.0, 3.0, 4.0])])
    result = GateResult("model", checks=[CheckResult("c", Status.PASS, value=None)],
                        figures=[gaps, empty, no_series, bad_interval])
    page = render_html([result], "mlgate")
    for figure in result.figures:
        assert f'data-figure="{figure.id}"' in page
    assert page.count("no data") >= 3


def test_profile_renders_reference_and_current() -> None:
    page = render_html([sample_result()], "mlgate")
    section = page[page.index('<section class="profile">'):]
    section = section[: section.index("</section>")]
    text = " ".join(parse(section).text)
    assert "Data profile" in text and "reference 1000" in text and "current 250" in text
    assert "41.2" in text and "48.9" in text  # age mean, reference and current
    assert "enterprise" in text and HOSTILE in text
    assert "<script" not in section


def test_no_profile_and_malformed_profile() -> None:
    plain = GateResult("data", checks=[CheckResult("c", Status.PASS)])
    assert "Data profile" not in render_html([plain], "mlgate")
    broken = GateResult("data", data={"profile": {"columns": [None, {"kind": "numeric"},
                                                               {"kind": "categorical",
                                                                "reference": {"top": [1]}}]}})
    assert "Data profile" in render_html([broken], "mlgate")


def test_no_results_renders() -> None:
    page = render_html([], "mlgate")
    assert "Verdict:" in page and "pass" in page


def test_matplotlib_is_not_imported_without_figures() -> None:
    """Every command imports mlgate.report; matplotlib must only load to draw."""
    import subprocess
    import sys

    code = ("import sys; from mlgate.report.html import render_html; "
            "from mlgate.result import GateResult; render_html([GateResult('g')], 't'); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
