"""Which workflow ``permissions:`` entry each REST endpoint we call needs.

When GitHub answers 403 "Resource not accessible by integration", the token works but lacks a
scope. The fix is always one line in the workflow's ``permissions:`` block, so the error names
that line instead of leaving the user to search the REST docs. The line is derived from the
method and path; a call made on the way to a write passes the feature's own entry
(``permission=`` of :meth:`~mlgate.github.client.GitHubClient.request`).
"""

from __future__ import annotations

import re

# (methods, path pattern after /repos/{owner}/{repo}, permissions entry). First match wins.
_RULES: tuple[tuple[frozenset[str], str, str], ...] = (
    (frozenset({"POST", "PATCH", "DELETE"}), r"/issues/(\d+/)?comments(/\d+)?",
     "pull-requests: write (or issues: write on an issue)"),
    (frozenset({"GET"}), r"/issues/(\d+/)?comments(/\d+)?",
     "pull-requests: read (or issues: read on an issue)"),
    (frozenset({"GET"}), r"/issues/\d+", "issues: read"),
    (frozenset({"POST", "PATCH"}), r"/issues(/\d+)?", "issues: write"),
    (frozenset({"POST", "PATCH"}), r"/check-runs(/\d+)?", "checks: write"),
    (frozenset({"GET"}), r"/(check-runs(/\d+)?|commits/[^/]+/check-runs)", "checks: read"),
    (frozenset({"POST"}), r"/statuses/[^/]+", "statuses: write"),
    (frozenset({"GET"}), r"/commits/[^/]+/status(es)?", "statuses: read"),
    (frozenset({"POST", "DELETE"}), r"/deployments(/\d+(/statuses)?)?", "deployments: write"),
    (frozenset({"GET"}), r"/deployments(/\d+(/statuses(/\d+)?)?)?", "deployments: read"),
    (frozenset({"POST"}), r"/actions/runs/\d+/pending_deployments", "deployments: write"),
    # Repository settings (mlgate doctor). "administration" is a fine-grained token or GitHub
    # App permission: a workflow's GITHUB_TOKEN cannot have it.
    (frozenset({"GET"}), r"/actions/permissions(/.*)?", "administration: read"),
    (frozenset({"PUT"}), r"/actions/permissions(/.*)?", "administration: write"),
    (frozenset({"GET"}), r"/branches/[^/]+/protection(/.*)?", "administration: read"),
    (frozenset({"POST", "PUT", "DELETE"}), r"/rulesets(/\d+)?", "administration: write"),
    (frozenset({"GET"}), r"/(rulesets(/\d+)?|rules/branches/.+)", "metadata: read"),
    (frozenset({"PUT", "DELETE"}), r"/environments/[^/]+", "administration: write"),
    (frozenset({"GET"}), r"/actions/.*", "actions: read"),
    (frozenset({"GET"}), r"/environments(/[^/]+)?(/deployment-branch-policies)?",
     "actions: read"),
    (frozenset({"GET"}), r"/pulls(/\d+)?", "pull-requests: read"),
    (frozenset({"POST", "PATCH"}), r"/pulls(/\d+)?", "pull-requests: write"),
    (frozenset({"POST", "PATCH", "DELETE"}), r"/releases(/.*)?", "contents: write"),
    (frozenset({"GET"}), r"/releases(/.*)?", "contents: read"),
    (frozenset({"GET"}), r"/collaborators/[^/]+/permission", "metadata: read"),
    (frozenset({"GET"}), r"", "metadata: read"),
)
_REPO_PREFIX = re.compile(r"^/repos/[^/]+/[^/]+")

# What a feature needs, for the reads it makes on the way to its write: a pull-request comment
# first reads the pull request and its comments, a deployment status first reads the
# deployments. A 403 on such a read names the write, so one edit of `permissions:` fixes the
# step instead of `read` now and `write` on the next run.
PR_COMMENT = "pull-requests: write"
DEPLOYMENT = "deployments: write"


def required_permission(method: str, path: str) -> str | None:
    """The ``permissions:`` entry a workflow token needs for ``METHOD path`` (None: unknown)."""
    bare = path.split("?", 1)[0].rstrip("/")
    match = _REPO_PREFIX.match(bare)
    if not match:
        return None
    rest = bare[match.end():]
    for methods, pattern, permission in _RULES:
        if method.upper() in methods and re.fullmatch(pattern, rest):
            return permission
    return None
