"""Match ref names against the patterns of GitHub rulesets, the way GitHub does.

GitHub matches ruleset ref-name conditions with Ruby's ``File.fnmatch`` and the
``File::FNM_PATHNAME`` flag (its documentation, "Creating rulesets for a repository", "Using
fnmatch syntax"). So ``*`` and ``?`` never match ``/``, ``**/`` matches any number of whole
directories (none included), and ``[...]`` is a character set (``[!...]`` its complement;
GitHub does not support ``\\`` escapes). ``refs/tags/*@v*`` therefore covers ``churn@v1.2.0``
but not ``team/churn@v1.2.0``: the doctor has to know this to say whether the ledger's tags are
really covered. ``~ALL`` and ``~DEFAULT_BRANCH`` are GitHub's special include values.
"""

from __future__ import annotations

import re
from functools import lru_cache

ALL = "~ALL"
DEFAULT_BRANCH = "~DEFAULT_BRANCH"


def ref_matches(pattern: str, ref: str, default_branch: str = "") -> bool:
    """Whether the full ref name ``ref`` (``refs/tags/churn@v1.2.0``) matches ``pattern``."""
    if pattern == ALL:
        return True
    if pattern == DEFAULT_BRANCH:
        return bool(default_branch) and ref == f"refs/heads/{default_branch}"
    return _compile(pattern).fullmatch(ref) is not None


def targets(include: list[str], exclude: list[str], ref: str, default_branch: str = "") -> bool:
    """A ref-name condition: some include pattern matches and no exclude pattern does."""
    return any(ref_matches(p, ref, default_branch) for p in include) and not any(
        ref_matches(p, ref, default_branch) for p in exclude
    )


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    at_segment_start = True
    while i < len(pattern):
        if at_segment_start and pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")  # zero or more whole directories
            i += 3
            continue
        char = pattern[i]
        at_segment_start = char == "/"
        if char == "*":
            while i + 1 < len(pattern) and pattern[i + 1] == "*":
                i += 1  # "**" not followed by "/" is a plain "*"
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1: i + 2] in ("!", "^") else i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1: end]
                negate = body[:1] in ("!", "^")
                body = body[1:] if negate else body
                escaped = body.replace("\\", "\\\\").replace("[", "\\[")
                out.append(f"[{'^/' if negate else ''}{escaped}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))
