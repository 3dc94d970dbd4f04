"""Untrusted text is rendered as text, in every report format.

Markdown is rendered with cmark-gfm, the renderer GitHub itself uses, with its GFM extensions
(table, autolink, strikethrough, tagfilter, tasklist) and raw HTML let through
(``CMARK_OPT_UNSAFE``): GitHub passes raw HTML on to a sanitizer that keeps comments,
``<img>`` and ``<details>``, so escaping has to be what stops them here. Mentions, issue
references and emoji are GitHub filters that run on the rendered text, so they are checked
with regular expressions that approximate them. Terminal output is read the way GitHub's runner
reads a log (ported from actions/runner ``ActionCommand.TryParseV2`` and ``TryParse``).
"""

from __future__ import annotations

import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import numpy as np
import pandas as pd
import pytest
import yaml
from cmarkgfm.cmark import Options

from mlgate.github.reporting import TRIMMED, check_annotations, marker, status_description, trim
from mlgate.report import read_json, render_junit, render_markdown, render_terminal
from mlgate.report.github_files import emit_annotations
from mlgate.report.text import (
    code_block,
    code_span,
    link_destination,
    log_text,
    markdown_label,
    markdown_text,
    plain_text,
    xml_text,
)
from mlgate.result import Chart, CheckResult, GateResult, Status, Table
from tests.support.cli import CliResult, run_mlgate
from tests.support.github_emulator import GitHubEmulator
from tests.support.github_emulator.fixtures import PR_HEAD

HOSTILE = [
    "<!-- hide -->",
    "<img src=x onerror=alert(1)>",
    "@octo-org/admins please",
    "@alice",
    "[click](https://evil.example)",
    "![x](https://evil.example/p.png)",
    "https://evil.example/path",
    "www.evil.example",
    "a@b.example",
    "#123",
    "GH-123 and octo-org/churn#7",
    "`code` and ``more``",
    "a | b",
    "*bold* _em_ __strong__ ~~strike~~",
    "line1\nline2\r\nline3\rline4",
    "\x1b[31mred\x1b[0m",
    "<script>alert(1)</script>",
    "<details open><summary>open me</summary>",
    ":white_check_mark: pass",
    "$\\Huge{x}$ and $$y$$",
    "- item",
    "+ item",
    "1. first",
    "# heading #",
    "> [!NOTE] quote",
    "    indented code",
    "---",
    "===",
    "[x]: https://evil.example",
    "[ ] task",
    "&#64;alice &lt;b&gt; &amp;",
    "mailto:a@b.example xmpp:c@d.example",
    "<https://evil.example>",
    "HTTPS://EVIL.EXAMPLE WWW.EVIL.EXAMPLE",
    "\\*not bold\\* and a trailing backslash \\",
    "::add-mask::secret",
    "##[error]fake annotation",
    "\u202eevil\u202c",
]

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# GitHub links @user and @org/team in rendered text outside code (approximation).
MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9_.-]+)?")
ISSUE_REF = re.compile(r"#\d|(?i:\bGH-\d)")
EMOJI = re.compile(r":[a-z0-9_+-]+:")
AUTOLINK = re.compile(r"(?i)[a-z]+://|www\.|[\w.+-]@[\w-]+\.[a-z]")


def github_html(markdown: str) -> str:
    """HTML as GitHub's renderer makes it, before its sanitizer (which keeps comments, img)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class Page(HTMLParser):
    """What a browser shows of some HTML: its tags, comments, links and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.comments: list[str] = []
        self.hrefs: list[str] = []
        self.chunks: list[str] = []
        self.code: list[str] = []
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")
        if tag == "code":
            self._in_code += 1
            self.code.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code -= 1

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
        if self._in_code:
            self.code[-1] += data

    @property
    def raw_text(self) -> str:
        """The text with our zero-width characters kept (what GitHub's filters look at)."""
        return " ".join(" ".join(self.chunks).split())

    @property
    def text(self) -> str:
        """The text a reader sees: zero-width characters gone, whitespace collapsed."""
        return ZERO_WIDTH.sub("", self.raw_text)

    @property
    def prose(self) -> str:
        """Text outside code spans and blocks, where GitHub links mentions and references."""
        text = self.raw_text
        for snippet in self.code:
            text = text.replace(" ".join(snippet.split()), " ")
        return text


def page(html: str) -> Page:
    p = Page()
    p.feed(html)
    p.close()
    return p


def shown(value: str) -> str:
    """What a reader should see of ``value``: its text, line breaks as spaces, ESC as ␛."""
    text = re.sub("\r\n|[\r\n]", " ", value).replace("\x1b", "\u241b")
    text = re.sub("[\u202a-\u202e]", "\ufffd", text)
    return " ".join(text.split())


def assert_inert(html: str, allowed: set[str]) -> Page:
    """No tag beyond ``allowed``, no comment, link, image, mention, reference or autolink."""
    p = page(html)
    assert "<a" not in html and "<img" not in html and "<!--" not in html, html
    assert set(p.tags) <= allowed, (set(p.tags) - allowed, html)
    assert p.comments == [] and p.hrefs == []
    assert not MENTION.search(p.prose), p.prose
    assert not ISSUE_REF.search(p.prose), p.prose
    assert not EMOJI.search(p.prose), p.prose
    assert not AUTOLINK.search(p.prose), p.prose
    return p


# -- the checks themselves can fail -------------------------------------------------------


def test_renderer_links_hides_and_mentions_unescaped_text() -> None:
    """Unescaped input does what the escaping must prevent, so the assertions below bite."""
    assert "<!--" in github_html("a <!-- hide --> b")
    assert "<img" in github_html("![x](https://evil.example/p.png)")
    for raw in ("[click](https://evil.example)", "https://evil.example", "www.evil.example",
                "a@b.example", "<https://evil.example>"):
        assert '<a href="' in github_html(raw), raw
    assert "<strong>" in github_html("**bold**")
    assert "<td>a</td>" in github_html("| h |\n|---|\n| a | b |")  # a pipe adds a cell
    assert MENTION.search(page(github_html("hi @octo-org/admins")).prose)
    with pytest.raises(AssertionError):
        assert_inert(github_html("<img src=x onerror=alert(1)>"), {"p"})
    with pytest.raises(AssertionError):
        assert_inert(github_html("@alice"), {"p"})


# -- markdown_text ------------------------------------------------------------------------

CONTEXTS = {
    "paragraph": ("{}", {"p"}),
    "table cell": ("| h |\n|---|\n| {} |", {"table", "thead", "tbody", "tr", "th", "td"}),
    "heading": ("### {}", {"h3"}),
    "bold": ("**{}**", {"p", "strong"}),
    "list item": ("- {}", {"ul", "li"}),
}


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_text_renders_as_the_text_itself(value: str, context: str) -> None:
    template, allowed = CONTEXTS[context]
    html = github_html(template.format(markdown_text(value)))
    p = assert_inert(html, allowed)
    header = "h " if context == "table cell" else ""
    assert p.text == header + shown(value), html


def test_markdown_text_keeps_normal_text_readable() -> None:
    assert markdown_text("churn") == "churn"
    assert markdown_text("monthly_charges") == "monthly_charges"
    assert markdown_text("p95 < 250ms") == "p95 &lt; 250ms"
    assert markdown_text("-0.5") == "-0.5" and markdown_text("0.76") == "0.76"
    assert markdown_text("drift: monthly_charges psi") == "drift: monthly_charges psi"
    for value in ("churn", "p95 < 250ms", "roc_auc >= 0.75 (champion)", "50% of 1,000 rows"):
        assert page(github_html(markdown_text(value))).raw_text == value
    digest = "sha256:" + "ab12" * 16
    assert markdown_text(digest) == digest  # copied from a comment, a digest still verifies


def test_a_title_cannot_close_an_emoji_with_our_colon() -> None:
    heading = page(github_html(f"## {markdown_label('churn :+1')}: pass"))
    assert heading.text == "churn :+1: pass" and not EMOJI.search(heading.prose)
    assert markdown_label("mlgate: churn") == "mlgate: churn"


def test_a_whole_report_of_hostile_text_is_inert() -> None:
    """Every field of a result, hostile at once, through render_markdown."""
    first, *rest = HOSTILE
    gate = GateResult(
        gate="data @octo-org/admins <!--",
        summary="summary " + " ".join(HOSTILE),
        checks=[CheckResult(v, Status.FAIL, message=v, value=v, threshold=[v, 1]) for v in HOSTILE],
        tables=[Table(first, rest[:3], [rest[3:6], rest[6:9]])],
        charts=[Chart("chart " + first, [*HOSTILE[:4], "```", "~~~"], [1.0] * 6, unit=" ##[x]")],
        evidence=["ev `x` @bob ##[error]/data.json", "<!-- a --> ``b``"],
    )
    md = render_markdown([gate], "title @alice <!-- hide")
    html = github_html(md)
    p = assert_inert(html, {"h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td",
                            "strong", "pre", "code"})
    for value in HOSTILE:
        assert shown(value) in p.text, value
    # the checks table keeps one row per check and five cells per row: no "|" broke it
    assert html.count("<tr>") == 2 + 1 + len(HOSTILE) + 1 + 2
    assert html.count("<td>") == 4 + 5 * len(HOSTILE) + 3 * 2
    # the chart stays one code block; its labels are shown literally
    (block,) = [c for c in p.code if "█" in c]
    assert "```" in block and "~~~" in block and "<!-- hide -->" in block
    assert sum(1 for c in p.code if c.startswith("ev `x`")) == 1


# -- plain text, the log, code and XML ----------------------------------------------------


@pytest.mark.parametrize("value", [*HOSTILE, "\x00\x07\x08\x7f\x85\u2028\u2029\ud800end"])
def test_plain_and_log_text_hold_no_controls_or_commands(value: str) -> None:
    for text in (plain_text(value), log_text(value)):
        assert len(text.splitlines()) <= 1
        assert [c for c in text if unicodedata.category(c) in ("Cc", "Cs")] == []
        assert not re.search("[\u202a-\u202e\u2066-\u2069]", text)
        text.encode("utf-8")  # no lone surrogate left
    assert "::" not in log_text(value) and "##[" not in log_text(value)
    assert ZERO_WIDTH.sub("", log_text(value)) == plain_text(value)


def test_plain_text_shows_controls_and_respects_limits() -> None:
    assert plain_text("\x1b[31mred\x1b[0m") == "\u241b[31mred\u241b[0m"
    assert plain_text("a\r\nb\nc\x00") == "a b c\u2400"
    assert plain_text("x" * 300, 140) == "x" * 139 + "…"
    assert plain_text("short", 140) == "short"
    assert plain_text(None) == ""


@pytest.mark.parametrize("value", ["a `tick` b", "``", "`start", "end`", "<!-- x --> @a #1"])
def test_code_is_shown_literally(value: str) -> None:
    span = page(github_html("x " + code_span(value)))
    assert span.tags == ["p", "code"] and span.code == [value]
    block = page(github_html("\n".join(code_block([value, "```", "````"]))))
    assert block.tags == ["pre", "code"] and block.code == [f"{value}\n```\n````\n"]


def test_junit_parses_whatever_the_data_holds() -> None:
    nasty = "".join(chr(c) for c in range(0x20)) + "\x7f\ud800\ufffe <&> \"'"
    gate = GateResult(nasty, [CheckResult(nasty, Status.FAIL, nasty, nasty, nasty),
                              CheckResult(nasty, Status.ERROR, nasty),
                              CheckResult(nasty, Status.WARN, nasty)])
    root = ET.fromstring(render_junit([gate]).encode("utf-8"))
    case = root.find("testsuite/testcase")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    message = failure.get("message") or ""
    assert "\u2400" in message and "\u241b" in message and "<&>" in message  # shown, not lost
    assert xml_text("tab\tnewline\nok") == "tab\tnewline\nok"  # what XML allows stays


# -- the terminal and the runner ----------------------------------------------------------

RUNNER_COMMANDS = {"set-env", "set-output", "save-state", "add-mask", "add-path", "add-matcher",
                   "remove-matcher", "debug", "warning", "error", "notice", "group",
                   "endgroup", "echo", "stop-commands"}


def runner_command(line: str) -> tuple[str, str] | None:
    """The workflow command GitHub's runner reads from one log line, as (name, data).

    A port of actions/runner ``ActionCommand.TryParseV2`` (``::name props::data`` after leading
    blanks) falling back to ``TryParse`` (legacy ``##[name props]data`` anywhere in the line).
    """
    trimmed = line.lstrip()
    if trimmed.startswith("::"):
        end = trimmed.find("::", 2)
        name = trimmed[2:end].split(" ", 1)[0].lower() if end >= 0 else ""
        if name in RUNNER_COMMANDS:
            data = trimmed[end + 2:]
            return name, data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
    start = line.find("##[")
    end = line.find("]", start) if start >= 0 else -1
    if end >= 0:
        name = line[start + 3:end].split(" ", 1)[0].lower()
        if name in RUNNER_COMMANDS:
            return name, line[end + 1:]
    return None


def log_lines(text: str) -> list[str]:
    return re.split("\r\n|\r|\n", text.rstrip("\n"))


def hostile_results() -> list[GateResult]:
    checks = [CheckResult(v, Status.FAIL, v, v, v) for v in HOSTILE]
    checks.append(CheckResult("fine", Status.PASS, "ok"))
    table = Table("\n::stop-commands::tok", ["::add-mask::x", "##[error]y"],
                  [[v, v] for v in HOSTILE] + [["", "::error::z"]])
    return [GateResult("data\n::add-mask::gate", checks, tables=[table])]


def test_terminal_shows_no_escape_and_no_line_from_data() -> None:
    results = hostile_results()
    lines = log_lines(render_terminal(results))
    assert "\x1b" not in "".join(lines)
    # one gate line, one per failed check, the table's title, header and rows: nothing else
    assert len(lines) == 1 + len(HOSTILE) + 1 + 1 + len(HOSTILE) + 1
    assert [ln for ln in lines if runner_command(ln)] == []
    # the gate name with its newline as a space; "::" split by an invisible zero-width space
    assert ZERO_WIDTH.sub("", lines[0]) == "data ::add-mask::gate: FAIL (39 checks, 38 failed)"
    assert lines[1].startswith("  FAIL  <!-- hide -->")


def test_annotations_are_the_only_commands_and_carry_the_message() -> None:
    results = hostile_results()
    stream = io.StringIO()
    emit_annotations(results, stream, {"GITHUB_ACTIONS": "true"})
    lines = log_lines(stream.getvalue())
    commands = [runner_command(ln) for ln in lines]
    assert len(lines) == len(HOSTILE)
    assert [c[0] if c else None for c in commands] == ["error"] * len(HOSTILE)
    # the message arrives whole; a multi-line message keeps its lines, controls are shown
    by_data = [c[1] for c in commands if c]
    assert by_data[HOSTILE.index("\x1b[31mred\x1b[0m")] == "\u241b[31mred\u241b[0m"
    assert by_data[HOSTILE.index("line1\nline2\r\nline3\rline4")] == "line1\nline2\nline3\nline4"
    assert by_data[HOSTILE.index("::add-mask::secret")] == "::add-mask::secret"


def test_error_lines_cannot_carry_commands(tmp_path: Path) -> None:
    """An InputError quoting a path from the command line: one line, no command in it."""
    bad = "x\n::add-mask::leak ##[stop-commands]tok \x1b[2J"
    res = run_mlgate(["report", "--results", str(tmp_path / bad)],
                     env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": None})
    assert res.code == 2
    assert len(log_lines(res.stderr)) == 1 and "\x1b" not in res.stderr
    assert runner_command(res.stderr) is None
    (line,) = log_lines(res.stdout)
    command = runner_command(line)
    assert command is not None and command[0] == "error"  # the one annotation, ours
    assert "\x1b" not in res.stdout


# -- end to end: a hostile CSV through the data gate, then `mlgate report` ---------------

COLUMNS = {
    "plan": "plan",
    "hide": "<!-- hide",
    "team": "@octo-org/admins please",
    "link": "[click](https://evil.example)",
    "cmd": "\n::stop-commands::tok \x1b[31mred",
}
VALUES = ["<img src=x onerror=alert(1)>", "@alice", "![x](https://evil.example/p.png)",
          "##[error]fake", "x\n::add-mask::leak", "www.evil.example", "a@b.example", "#123",
          "`tick` | pipe", "*bold*", "\x1b[31mred", "<!-- hide -->"]
HEAD = PR_HEAD  # the pull request of the pr_event fixture
EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"


@dataclass
class HostileRun:
    repo: Path
    report: Path
    summary: str
    cli: CliResult


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    """`mlgate validate-data --json` on a CSV whose column names and values are hostile."""
    repo = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    n = 400
    reference = pd.DataFrame({
        COLUMNS["plan"]: rng.choice(["basic", "standard"], n),
        COLUMNS["hide"]: rng.normal(size=n),
        COLUMNS["team"]: rng.choice(["x", "y"], n),
        COLUMNS["link"]: rng.integers(0, 5, n),
        COLUMNS["cmd"]: rng.choice(["u", "v"], n),
    })
    current = reference.copy()
    hostile = len(VALUES) * 10
    current.loc[: hostile - 1, COLUMNS["plan"]] = VALUES * 10
    current.loc[: hostile - 1, COLUMNS["team"]] = VALUES * 10
    current[COLUMNS["hide"]] += 3.0
    (repo / "data").mkdir()
    reference.to_csv(repo / "data" / "reference.csv", index=False)
    current.to_csv(repo / "data" / "current.csv", index=False)
    config = {"version": 1, "project": "hostile", "data": {
        "path": "data/current.csv", "reference": "data/reference.csv",
        "contract": {"columns": [
            {"name": COLUMNS["plan"], "dtype": "category", "allowed": ["basic", "standard"]},
            {"name": COLUMNS["team"], "dtype": "category", "allowed": ["x", "y"]},
            {"name": COLUMNS["hide"], "dtype": "float", "min": -5, "max": 5},
            {"name": COLUMNS["cmd"], "dtype": "category", "allowed": ["u"]},
        ]},
    }}
    (repo / "mlgate.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    summary = repo / "summary.md"
    env: dict[str, str | None] = {
        name: None for name in ("GITHUB_OUTPUT", "GITHUB_TOKEN", "GITHUB_EVENT_PATH",
                                "GITHUB_API_URL", "GITHUB_ENV")
    }
    env.update(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    cli = run_mlgate(["validate-data", "--json", "out.json", "--evidence-dir",
                      "ev ##[x] @bob `e`"], cwd=repo, env=env)
    assert cli.code == 1, cli.stdout + cli.stderr
    return HostileRun(repo, repo / "out.json", summary.read_text(encoding="utf-8"), cli)


def shown_names() -> list[str]:
    return [shown(c) for c in COLUMNS.values()]


def test_job_summary_of_hostile_data_is_inert(hostile_run: HostileRun) -> None:
    html = github_html(hostile_run.summary)
    # em and br are ours: a chart's note in italics, its legend's line break
    p = assert_inert(html, {"h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td",
                            "strong", "pre", "code", "em", "br"})
    charts = hostile_run.summary.split("```mermaid")[1:]
    assert charts  # the drift chart of the hostile columns
    for chart in charts:  # our one init directive per chart, nothing from data
        assert chart.split("```")[0].count("%%") == 2
    for name in shown_names():
        assert name in p.text, name
    for value in ("<img src=x onerror=alert(1)>", "@alice", "![x](https://evil.example/p.png)",
                  "##[error]fake"):
        assert value in p.text, value
    # the summary is the report as every door renders it
    assert hostile_run.summary == render_markdown(read_json(hostile_run.report),
                                                  "mlgate validate-data")


def test_log_of_hostile_data_holds_only_our_commands(hostile_run: HostileRun) -> None:
    (gate,) = read_json(hostile_run.report)
    out = hostile_run.cli.stdout
    assert "\x1b" not in out + hostile_run.cli.stderr
    lines = log_lines(out)
    problems = [c for c in gate.checks if c.status is not Status.PASS]
    table_lines = sum(2 + len(t.rows) for t in gate.tables)
    # annotations, then the gate line, one line per problem and the tables: no line from data
    assert len(lines) == len(problems) + 1 + len(problems) + table_lines
    commands = [runner_command(ln) for ln in lines]
    assert [c[0] for c in commands if c] == [
        "warning" if c.status is Status.WARN else "error" for c in problems
    ]
    assert all(c is None for c in commands[len(problems):])
    assert any(shown(COLUMNS["cmd"]) in ZERO_WIDTH.sub("", ln) for ln in lines)


def test_junit_of_hostile_data_parses(hostile_run: HostileRun) -> None:
    root = ET.fromstring(render_junit(read_json(hostile_run.report)).encode("utf-8"))
    names = [case.get("name") or "" for case in root.iter("testcase")]
    assert any(n.startswith("drift: ") and "\u241b[31mred" in n for n in names)


def test_published_comment_and_check_run_are_inert(
    hostile_run: HostileRun, github_emulator: GitHubEmulator, pr_event: int
) -> None:
    artifact = "churn @octo-org/admins <!-- x\n::add-mask::y"
    out = run_mlgate(["report", "--results", hostile_run.report, "--pr-comment", "--check-run",
                      "--commit-status", "--artifact", artifact])
    assert out.code == 1, out.stderr
    allowed = {"h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td", "strong", "pre",
               "code", "em", "br"}  # em, br: a chart's note and legend line break (ours)

    (comment,) = github_emulator.comments_on(pr_event)
    mark = marker("ml-pr-gate", artifact)
    assert comment["body"].startswith(mark + "\n")  # our own hidden marker, as it always was
    body = comment["body"].removeprefix(mark + "\n")
    run_link = "\n[workflow run](<https://github.com/octo-org/churn/actions/runs/555>)\n"
    assert body.endswith(run_link)  # the one link in the comment is ours
    p = assert_inert(github_html(body.removesuffix(run_link)), allowed)
    assert "mlgate: churn @octo-org/admins <!-- x ::add-mask::y: fail" in p.text
    for name in shown_names():
        assert name in p.text, name

    (run,) = github_emulator.check_runs.values()
    p = assert_inert(github_html(run["output"]["summary"]), allowed)
    assert "<img src=x onerror=alert(1)>" in p.text
    for text in (run["name"], run["output"]["title"],
                 *(f"{n['title']} {n['message']}" for n in github_emulator.annotations(run["id"]))):
        assert [c for c in text if unicodedata.category(c) == "Cc"] == [], text
    assert run["name"] == "mlgate / churn @octo-org/admins <!-- x ::add-mask::y"
    (status,) = github_emulator.statuses_for(HEAD)
    assert [c for c in status["context"] + status["description"]
            if unicodedata.category(c) == "Cc"] == []
    assert len(status["description"]) <= 140


def test_check_annotations_are_plain_text() -> None:
    located = {"file": "data/x.csv", "line": 2}
    gate = GateResult("data\x1b[2J", [CheckResult("a\nb", Status.FAIL, "m\x00\nn" * 40000,
                                                  location=located)])
    (note,) = check_annotations([gate])
    assert note["title"] == "data\u241b[2J: a b"
    assert "\n" not in note["message"] and "\x00" not in note["message"]
    assert len(note["message"].encode("utf-8")) <= 65535


def test_api_texts_fit_github_limits_in_bytes_and_characters() -> None:
    # GitHub rejects a check-run summary over 65 535 *bytes* ("summary exceeds a maximum
    # bytesize of 65535"): a report of emoji fits in characters but not in bytes.
    text = "| ✅ pass | @alice |\n" * 3000
    assert len(text) < 65535 < len(text.encode("utf-8"))
    cut = trim(text, 65535)
    assert len(cut.encode("utf-8")) <= 65535 and cut.endswith(TRIMMED)
    assert cut.removesuffix(TRIMMED).endswith("| ✅ pass | @alice |")  # cut at a line
    many = [GateResult(f"gate\n{i} <b>", [CheckResult("c", Status.FAIL)]) for i in range(30)]
    description = status_description(many)
    assert len(description) <= 140 and description.endswith("…")
    assert "\n" not in description and description.startswith("failed: gate 0 <b>: 1 failed")


def test_run_link_destination_is_contained() -> None:
    assert link_destination("https://github.com/o/r/actions/runs/5") == (
        "<https://github.com/o/r/actions/runs/5>")
    assert link_destination("javascript:alert(1)") == ""
    hostile = link_destination("https://x.example/a b>)\n[c](d)")
    html = github_html(f"[workflow run]({hostile}) after")
    assert html.count("<a ") == 1 and "after</p>" in html and "\n" not in hostile
