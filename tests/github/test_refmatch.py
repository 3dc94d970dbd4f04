"""Ruleset ref patterns match as GitHub's ``File.fnmatch(..., File::FNM_PATHNAME)`` does.

The expectations are Ruby's documented ``File.fnmatch`` behaviour with ``FNM_PATHNAME`` (the
flag GitHub's ruleset documentation names); the emulator's matcher, written independently
(segment by segment), must agree with mlgate's on every case.
"""

from __future__ import annotations

import pytest

from mlgate.github.refmatch import ref_matches, targets
from tests.support.github_emulator import GitHubEmulator

CASES = [
    # pattern, ref, matches
    ("refs/tags/*@v*", "refs/tags/churn@v1.2.3", True),
    ("refs/tags/*@v*", "refs/tags/churn@v1.2.3!", True),
    ("refs/tags/*@v*", "refs/tags/team/churn@v1.2.3", False),  # "*" stops at "/"
    ("refs/tags/**/*@v*", "refs/tags/churn@v1.2.3", True),  # "**/" spans zero directories
    ("refs/tags/**/*@v*", "refs/tags/team/churn@v1.2.3", True),
    ("refs/tags/**/*@v*", "refs/tags/a/b/churn@v1.2.3", True),
    ("refs/tags/*#*#*", "refs/tags/churn#production#3", True),
    ("refs/tags/*#*#*", "refs/tags/churn#production!#4", True),
    ("refs/tags/*#*#*", "refs/tags/churn@v1.2.3", False),
    ("refs/tags/**", "refs/tags/a", True),
    ("refs/tags/**", "refs/tags/a/b", False),  # a final "**" is one segment, like "*"
    ("refs/tags/v?", "refs/tags/v1", True),
    ("refs/tags/v?", "refs/tags/v12", False),
    ("refs/heads/c?t", "refs/heads/c/t", False),  # "?" never matches "/"
    ("refs/tags/[a-c]at", "refs/tags/bat", True),
    ("refs/tags/[!a-c]at", "refs/tags/dat", True),
    ("refs/tags/[!a-c]at", "refs/tags/bat", False),
    ("refs/tags/v1.*", "refs/tags/v1x2", False),  # "." is literal
    ("refs/tags/a+b", "refs/tags/a+b", True),
    ("refs/tags/a+b", "refs/tags/aab", False),
    ("refs/tags/[", "refs/tags/[", True),  # an unterminated set is literal
    ("refs/tags/*", "refs/tags/churn", True),
    ("refs/tags/*", "refs/heads/churn", False),
    ("*@v*", "refs/tags/churn@v1.2.3", False),  # patterns match the full ref name
    ("refs/tags/Churn@v*", "refs/tags/churn@v1", False),  # case-sensitive
]


@pytest.mark.parametrize(("pattern", "ref", "expected"), CASES)
def test_fnmatch_pathname_semantics(pattern: str, ref: str, expected: bool) -> None:
    assert ref_matches(pattern, ref) is expected


@pytest.mark.parametrize(("pattern", "ref", "expected"), CASES)
def test_emulator_matcher_agrees(pattern: str, ref: str, expected: bool) -> None:
    emulator = GitHubEmulator()  # not started: only its matcher is used
    assert emulator._ref_matches(pattern, ref) is expected


def test_special_includes() -> None:
    assert ref_matches("~ALL", "refs/tags/anything/at/all")
    assert ref_matches("~DEFAULT_BRANCH", "refs/heads/main", "main")
    assert not ref_matches("~DEFAULT_BRANCH", "refs/heads/dev", "main")
    assert not ref_matches("~DEFAULT_BRANCH", "refs/heads/main")  # unknown default branch


def test_exclude_wins_over_include() -> None:
    include = ["refs/tags/*#*#*"]
    assert targets(include, [], "refs/tags/churn#production!#8")
    assert not targets(include, ["refs/tags/*!#*"], "refs/tags/churn#production!#8")
    assert targets(include, ["refs/tags/*!#*"], "refs/tags/churn#production#7")
    assert not targets([], [], "refs/tags/churn#production#7")
