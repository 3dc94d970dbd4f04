"""Untrusted text, made safe for each place a report puts it.

Column names, category values, model and config fields, event payloads and exception
messages all reach the reports. Whoever controls a CSV must not be able to hide the rest of a
pull-request comment (``<!--``), ping a team (``@org/admins``), plant a link or an image, fake
a green row, rewrite a terminal (ESC sequences) or start a workflow command (``::add-mask::``)
on a fresh log line. So every string that did not come from mlgate's own code passes through
one of these functions on its way out:

* :func:`plain_text`: one line, no control characters (API fields: titles, descriptions);
* :func:`log_text`: the same, and never a workflow command (terminal, CI log lines);
* :func:`markdown_text`: the same, then rendered by GitHub as exactly that text (job summary,
  PR comment, check-run summary);
* :func:`code_span` / :func:`code_block`: literal text inside markdown code;
* :func:`xml_text`: what XML 1.0 can hold (JUnit).

The markdown rules were checked with cmark-gfm (GitHub's renderer) in
``tests/foundation/test_untrusted_text.py``.
"""

from __future__ import annotations

import re
from typing import Any

#: Inserted where GitHub would otherwise see a mention, an issue reference, an autolink or an
#: emoji shortcode. Renovate breaks mentions on GitHub the same way (``@&#8203;``): GitHub keeps
#: the character and links nothing across it. It is invisible (a copy of the text carries it).
ZERO_WIDTH = "\u200b"

ELLIPSIS = "…"

# Every way a line can end (Python's and the runner's): a value never starts a new line.
_NEWLINES = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")

# Bidirectional embeddings, overrides and isolates can make the rest of a line read backwards.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _control_map() -> dict[int, str]:
    """C0 controls become their visible Control Pictures (ESC shows as ␛); C1 controls, bidi
    controls and lone surrogates become U+FFFD: what the data held stays visible, none of it
    acts, and the text always encodes as UTF-8."""
    table = {c: chr(0x2400 + c) for c in range(0x20)}
    table[0x09] = " "
    table[0x7F] = "\u2421"
    table.update({c: "\ufffd" for c in range(0x80, 0xA0)})
    table.update({ord(c): "\ufffd" for c in _BIDI})
    table.update({c: "\ufffd" for c in range(0xD800, 0xE000)})  # lone surrogates: no UTF-8
    return table


_CONTROLS = _control_map()

# Markdown: characters that are always backslash-escaped (each renders as itself), and the
# three that become entities so no raw HTML (tags, <!-- comments -->, <autolinks>) can start.
_ESCAPED = frozenset("\\`*[]()!#|~$")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

# Where GitHub links or rewrites plain text after rendering, or cmark-gfm's autolink
# extension fires: break each with a zero-width character right after the trigger.
_BREAKS = re.compile(
    r"(?<=@)"  # @user, @org/team mentions, a@b.example e-mail autolinks, user@sha refs
    r"|(?<=:)(?=//)"  # http:// https:// ftp:// and any scheme:// autolink
    r"|(?<=:)(?=:)"  # "::" (a workflow command, should the markdown be printed to a log)
    r"|(?<=:)(?=[\w+-]+:)"  # :emoji: shortcodes (a fake :white_check_mark:)
    r"|(?i:(?<=www))(?=\.)"  # www. autolinks
    r"|(?<=#)(?=\d)"  # #123 issue and pull-request references (also owner/repo#123)
    r"|(?i:(?<=\bgh-))(?=\d)"  # GH-123 references
)
_EMOJI_TAIL = re.compile(r":[\w+-]+$")
_LOG_BREAKS = re.compile(r"(?<=:)(?=:)|(?<=##)(?=\[)")

# What would open a block at the start of a line: a bullet (``- x``), a thematic break or setext
# underline (``---``, ``===``), an ordered-list marker (``1. x``). Only these are escaped, so
# ``-0.5`` or ``0.76`` stay as they are. (``#``, ``*``, ``>``, ``|``, backticks and ``~`` are
# escaped everywhere.)
_LINE_START = re.compile(r"^(|\d{1,9}(?=[.)]))([-+=](?=\s|$|[-+=])|[.)](?=\s|$))")


def plain_text(value: Any, limit: int | None = None) -> str:
    """One line of text with no control characters, at most ``limit`` characters.

    For targets that show text as text (check-run and annotation titles, commit-status and
    deployment descriptions) and the base of :func:`log_text`: line breaks become spaces, so
    no value can start a log line of its own; ESC and other C0 controls become visible Control
    Pictures, so data cannot recolour or rewrite a terminal.
    """
    text = "" if value is None else str(value)
    text = _NEWLINES.sub(" ", text).translate(_CONTROLS)
    return shorten(text, limit) if limit is not None else text


def log_text(value: Any) -> str:
    """:func:`plain_text` for a terminal or a CI log: the runner never reads a command in it.

    GitHub's runner takes a line as a workflow command when it starts with ``::`` after
    leading blanks (a table row whose first cell is data), or when it holds the legacy
    ``##[command]`` anywhere (actions/runner ``ActionCommand.TryParse``), and ``add-mask``,
    ``stop-commands``, ``set-output`` or ``error`` are among them. A zero-width space splits
    each ``::`` and ``##[`` so neither form can appear.
    """
    return _LOG_BREAKS.sub(ZERO_WIDTH, plain_text(value))


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS


def shorten_bytes(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` bytes of UTF-8 (some GitHub limits count bytes), with ``…``."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    return data[: max(room, 0)].decode("utf-8", "ignore") + ELLIPSIS


def markdown_text(value: Any) -> str:
    """Markdown that GitHub renders as ``plain_text(value)``, stripped, and nothing else.

    Context-free: the result is safe in a table cell, a heading, inside ``**bold**`` or at the
    start of a line. No raw HTML (``& < >`` are entities), no emphasis, links, images, code,
    tables, strikethrough or math (their punctuation is backslash-escaped), no line-start
    blocks (lists, headings, quotes, indented code), no autolinks, mentions, issue references
    or emoji (an invisible zero-width space after the trigger). Escapes do not show once
    rendered, so ``p95 < 250ms`` or ``churn`` read the same; an underscore inside a word
    (``monthly_charges``) is left as it is, since it cannot start emphasis there.
    """
    text = _BREAKS.sub(ZERO_WIDTH, plain_text(value).strip())
    out: list[str] = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch in _ESCAPED:
            out.append("\\" + ch)
        elif ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch == "_" and not (0 < i < last and text[i - 1].isalnum() and text[i + 1].isalnum()):
            out.append("\\_")  # an underscore between letters or digits never emphasises
        else:
            out.append(ch)
    return _LINE_START.sub(r"\1\\\2", "".join(out), count=1)


def markdown_label(value: Any) -> str:
    """:func:`markdown_text` for text our own ``:`` follows (a heading's ``TITLE: status``).

    A title ending in ``:+1`` would otherwise become the emoji ``:+1:`` with our colon. Only
    then is a zero-width space added, so digests like ``sha256:…`` elsewhere copy cleanly.
    """
    text = markdown_text(value)
    return text + ZERO_WIDTH if _EMOJI_TAIL.search(text) else text


def code_span(value: Any) -> str:
    """Inline code showing ``log_text(value)`` literally (no escapes apply inside code)."""
    text = log_text(value)
    if not text.strip():
        return markdown_text(text)
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(lines: list[str]) -> list[str]:
    """A fenced code block of ``lines``, each shown literally: no line from data can close it."""
    body = [log_text(line) for line in lines]
    fence = "`" * max(3, max((_longest_backtick_run(line) for line in body), default=0) + 1)
    return [fence, *body, fence]


def link_destination(url: str) -> str:
    """An http(s) URL as a markdown link destination, or '' when it is not one.

    Characters that could end the destination (``<``, ``>``, spaces, newlines) are
    percent-encoded inside ``<...>`` so the link can never swallow the text after it.
    """
    if not re.match(r"(?i)^https?://", url):
        return ""
    encoded = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in "<> \\`" else _percent(ch)
        for ch in url
    )
    return f"<{encoded}>"


def xml_text(value: Any) -> str:
    """Text XML 1.0 can hold: forbidden characters become Control Pictures or U+FFFD.

    ElementTree writes any character it is given, including NUL, ESC and lone surrogates, and
    no XML parser (JUnit viewers included) reads such a file back.
    """
    text = "" if value is None else str(value)
    return _XML_FORBIDDEN.sub(_xml_replacement, text)


_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_replacement(match: re.Match[str]) -> str:
    ch = match.group()
    return chr(0x2400 + ord(ch)) if ord(ch) < 0x20 else "\ufffd"


def _percent(ch: str) -> str:
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)
