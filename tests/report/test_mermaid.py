"""Figures as Mermaid xychart: what each kind draws, labels from data that cannot break out, and
Mermaid's own parser accepting every chart the reports write (and rejecting a broken one)."""

from __future__ import annotations

import math
import re

import pytest

from mlgate.figures import Figure, Series, Threshold
from mlgate.report import render_markdown
from mlgate.report.mermaid import LABEL_MAX, TITLE_MAX, label, number, render
from mlgate.result import CheckResult, GateResult, Status
from tests.report.mermaid_check import check, needs_mermaid

HOSTILE = [
    'a"b',
    "```\n## injected\n```mermaid",
    "%%{init: {'theme': 'dark'}}%%",
    "x]\n  bar [1, 2]\n  title [",
    "line; bar [9]",
    "#quot; #35; &lt;b&gt;",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "`backtick` ``` ~~~",
    "{a} [b] (c) \\ | : ,",
    "\r\nx-axis [\"z\"]\u2028%%\u0085%%{",
    "\x1b[31mred\x1b[0m \u202eevil",
    "",
    "   ",
    "@org/admins #123 https://evil.example :+1:",
    "é" * 500,
    "%" * 9 + "{{",
    "accTitle: pwned",
]


def roc() -> Figure:
    return Figure("model.roc", "ROC", "line", [i / 10 for i in range(11)],
                  [Series("candidate", [min(1.0, (i / 10) ** 0.4) for i in range(11)]),
                   Series("champion", [(i / 10) ** 0.6 for i in range(11)],
                          [max(0.0, (i / 10) ** 0.6 - 0.05) for i in range(11)],
                          [min(1.0, (i / 10) ** 0.6 + 0.05) for i in range(11)])],
                  x_label="false positive rate", y_label="true positive rate",
                  thresholds=[Threshold("chance", 0.5)], priority=10, y_range=(0.0, 1.0),
                  note="higher is better")


def drift() -> Figure:
    return Figure("data.drift", "Drift per column", "bar", ["age", "income", "tenure"],
                  [Series("psi", [0.05, None, 0.31])], y_label="PSI",
                  thresholds=[Threshold("max drift", 0.2)], priority=20)


def gallery() -> list[Figure]:
    """Every shape a gate may hand over, hostile labels included."""
    out = [roc(), drift()]
    out.append(Figure("bar.ci", "Metrics with intervals", "bar", ["auc", "f1"],
                      [Series("candidate", [0.8, 0.7], [0.75, 0.65], [0.85, 0.75]),
                       Series("champion", [0.78, None], [0.7, None], [0.82, None])]))
    out.append(Figure("line.gaps", "Latency with gaps", "line", [1, 2, 3, 4, 5],
                      [Series("p95", [None, 120.0, None, None, 180.0]),
                       Series("empty", [None] * 5)], thresholds=[Threshold("SLO", 250)]))
    out.append(Figure("bar.one", "One bar", "bar", ["only"], [Series("s", [3.0])]))
    out.append(Figure("line.one", "One point", "line", [0.5], [Series("s", [0.25])]))
    out.append(Figure("line.200", "200 points", "line", list(range(200)),
                      [Series("a", [math.sin(i / 10) for i in range(200)]),
                       Series("b", [math.cos(i / 10) * 1e-7 for i in range(200)])]))
    out.append(Figure("line.uneven", "Uneven x", "line", [0.001, 0.01, 0.1, 1, 10, 1e4],
                      [Series("loss", [2.0, 1.5, 1.1, 0.9, 0.85, 0.84])]))
    out.append(Figure("bar.200", "200 bars", "bar", [f"c{i}" for i in range(200)],
                      [Series("n", [float(i * 1e6) for i in range(200)])]))
    out.append(Figure("bar.negative", "Negative", "bar", ["a", "b"],
                      [Series("delta", [-0.25, 0.5])], thresholds=[Threshold("zero", 0)]))
    out.append(Figure("bar.range", "Clipped by y_range", "bar", ["a", "b"],
                      [Series("v", [5.0, None])], y_range=(1.0, 3.0)))
    out.append(Figure("many.series", "Ten series", "line", [0, 1, 2],
                      [Series(f"s{i}", [i, i + 1, i + 2]) for i in range(10)]))
    for i, text in enumerate(HOSTILE):
        out.append(Figure(f"hostile.{i}", text, "bar", [text, "ok", text + "2"],
                          [Series(text, [1.0, 2.0, 3.0], [0.5, 1.5, 2.5], [1.5, 2.5, 3.5])],
                          x_label=text, y_label=text, thresholds=[Threshold(text, 2.0)],
                          note=text))
        out.append(Figure(f"hostile.line.{i}", text, "line", [0, 1], [Series(text, [1.0, 2.0])],
                          x_label=text, thresholds=[Threshold(text, 1.5)]))
    return out


@pytest.mark.parametrize("text", HOSTILE)
def test_a_label_cannot_leave_its_string_or_the_fence(text: str) -> None:
    out = label(text)
    assert out and out.strip() == out
    assert len(out) <= LABEL_MAX
    assert not set(out) & set('"`[]{}<>;#\\\n\r')
    assert "%%" not in out
    assert len(label(text, TITLE_MAX)) <= TITLE_MAX


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_figure_keeps_the_chart_structure(text: str) -> None:
    figure = Figure("h", text, "bar", [text, "b"], [Series(text, [1.0, 2.0])],
                    x_label=text, y_label=text, thresholds=[Threshold(text, 1.0)])
    source = render(figure).source
    lines = source.split("\n")
    assert [line.split()[0] for line in lines] == [
        lines[0].split()[0], "xychart-beta", "title", "x-axis", "y-axis", "bar", "line"]
    assert source.count("%%") == 2 and lines[0].startswith("%%{init:")  # the one directive
    assert "`" not in source
    # every quote pairs up: each label opens and closes its own string
    for line in lines[2:]:
        assert line.count('"') % 2 == 0
    md = render_markdown([GateResult("g", figures=[figure])])
    assert md.count("```mermaid") == 1 and md.count("```") == 2


def test_bars_lines_thresholds_and_intervals() -> None:
    chart = render(Figure("f", "t", "bar", ["a", "b"],
                          [Series("cand", [1.0, 2.0], [0.5, 1.5], [1.5, 2.5]),
                           Series("champ", [1.5, 1.0])],
                          thresholds=[Threshold("limit", 1.8)]))
    plots = [line.split('"')[0].strip() + " " + line.split('"')[1]
             for line in chart.source.splitlines() if line.lstrip().startswith(("bar", "line"))]
    assert plots == ["bar cand", "bar champ", "line cand low", "line cand high",
                     "line limit = 1.8"]
    assert "line \"limit = 1.8\" [1.8, 1.8]" in chart.source
    palette = re.search(r'plotColorPalette": "([^"]+)"', chart.source)
    assert palette and len(palette.group(1).split(", ")) == len(plots)
    assert chart.legend[0] == ("🟦 cand · 🟧 champ · light 🟦 cand interval bounds · "
                               "🟥 limit = 1.8 (threshold)")
    line = render(roc()).source
    assert "bar" not in line and 'x-axis "false positive rate" 0 --> 1' in line
    assert "y-axis \"true positive rate\" 0 --> 1" in line


def test_the_y_axis_holds_values_bounds_and_thresholds_with_headroom() -> None:
    chart = render(Figure("f", "t", "line", [0, 1], [Series("s", [2.0, 3.0], [1.0, 2.0],
                                                            [4.0, 5.0])],
                          thresholds=[Threshold("t", 6.0)]))
    lo, hi = map(float, re.search(r"y-axis (\S+) --> (\S+)", chart.source).groups())  # type: ignore[union-attr]
    assert lo <= 1.0 and 6.0 < hi <= 6.5
    bars = render(Figure("f", "t", "bar", ["a"], [Series("s", [5.0])])).source
    assert "y-axis 0 --> " in bars  # a bar's length is its value: from zero


def test_gaps_are_bridged_on_lines_and_empty_on_bars_and_the_legend_says_so() -> None:
    chart = render(Figure("f", "t", "line", [0, 1, 2, 3], [Series("s", [None, 1.0, None, 3.0])]))
    assert 'line "s" [1, 1, 2, 3]' in chart.source
    assert "s: no value at 0, 2 (bridged)" in chart.legend
    bars = render(drift())
    assert 'bar "psi" [0.05, 0, 0.31]' in bars.source
    assert "psi: no value at income (no bar)" in bars.legend
    empty = render(Figure("f", "t", "line", [0, 1], [Series("a", [1.0, 2.0]),
                                                     Series("gone", [None, None])]))
    assert "gone" not in empty.source and "gone: no values, not drawn" in empty.legend


def test_numbers_are_what_the_grammar_reads() -> None:
    assert [number(v) for v in (1e-7, 1.5e12, -0.0, 2.0, 0.1 + 0.2, -3.25, float("nan"))] == [
        "0.0000001", "1500000000000", "0", "2", "0.3", "-3.25", "0"]


def test_uneven_x_become_labelled_categories() -> None:
    source = render(Figure("f", "t", "line", [0.001, 0.1, 10], [Series("s", [1, 2, 3])])).source
    assert 'x-axis ["0.001", "0.1", "10"]' in source


def test_tables_only_mode_has_no_mermaid() -> None:
    result = GateResult("model", checks=[CheckResult("auc", Status.PASS)],
                        figures=[roc(), drift()])
    md = render_markdown([result], figures="table")
    assert "mermaid" not in md
    assert "**Drift per column \\(threshold: max drift = 0.2\\)**" in md
    assert "| age | 0.05 |" in md and "| income |  |" in md
    assert "*higher is better*" in md
    with pytest.raises(ValueError, match="figures"):
        render_markdown([result], figures="svg")


def test_the_text_bar_charts_stay_as_they_were() -> None:
    from mlgate.result import Chart

    md = render_markdown([GateResult("load", charts=[Chart("rps", ["t1", "t2"], [1.0, 2.0])])])
    assert "t2 | ██████████████████████████████ 2" in md and "mermaid" not in md


@needs_mermaid
def test_mermaids_parser_accepts_every_chart_the_report_draws() -> None:
    figures = gallery()
    md = render_markdown([GateResult("gallery", checks=[CheckResult("c", Status.PASS)],
                                     figures=figures)])
    drawn = md.count("```mermaid")
    assert drawn == len(figures)
    checked = check(md)
    assert checked.returncode == 0, checked.output
    assert len(checked.blocks) == drawn and all(ok for _, ok, _ in checked.blocks)


@needs_mermaid
def test_a_broken_chart_fails_the_check_and_is_named() -> None:
    good = render_markdown([GateResult("g", figures=[drift()])])
    broken = good + '\n```mermaid\nxychart-beta\n  title "open\n  bar [1, x]\n```\n'
    checked = check(broken)
    assert checked.returncode == 1
    assert [ok for _, ok, _ in checked.blocks] == [True, False]
    assert "block 2" in checked.output and "Parse error" in checked.output
    assert check("no charts here\n").returncode == 2  # a check that saw nothing fails
