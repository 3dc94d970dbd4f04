"""The REST client against the emulator: retries, rate limits, timeouts, errors, no token leaks."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import pytest

from mlgate.errors import InputError
from mlgate.github.client import GitHubClient, GitHubError, scrub
from mlgate.github.permissions import required_permission
from mlgate.report import write_json
from mlgate.result import CheckResult, GateResult, Status
from tests.support.cli import run_mlgate
from tests.support.github_emulator import GitHubEmulator


def fast_client(emulator: GitHubEmulator, **kw: object) -> GitHubClient:
    """A client with short backoff so retry tests stay quick (the logic is the same)."""
    options: dict[str, object] = {"backoff_s": 0.05, "max_backoff_s": 0.2}
    options.update(kw)
    return GitHubClient.from_env(emulator.env(), **options)  # type: ignore[arg-type]


def test_from_env_requires_token() -> None:
    with pytest.raises(InputError) as info:
        GitHubClient.from_env({"GITHUB_REPOSITORY": "o/r"})
    assert info.value.source == "GITHUB_TOKEN"
    assert "GITHUB_TOKEN" in info.value.one_line()


def test_from_env_rejects_malformed_repository() -> None:
    with pytest.raises(InputError, match="owner/name"):
        GitHubClient.from_env({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "just-a-name"})


def test_sends_github_headers(github_emulator: GitHubEmulator) -> None:
    client = GitHubClient.from_env()
    assert client.api_url == github_emulator.url
    client.get("/repos/{owner}/{repo}")
    logged = github_emulator.requests("GET", "/repos/octo-org/churn")[0]
    assert logged.headers["Accept"] == "application/vnd.github+json"
    assert logged.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert logged.headers["User-Agent"].startswith("mlgate/")
    assert "authorization" not in {k.lower() for k in logged.headers}  # the emulator drops it


def test_bad_token_is_401_with_hint(github_emulator: GitHubEmulator) -> None:
    client = GitHubClient("not-the-token", github_emulator.url, github_emulator.repository)
    with pytest.raises(GitHubError) as info:
        client.get(client.repo_path())
    assert info.value.status == 401
    assert "Bad credentials" in info.value.one_line()
    assert "GITHUB_TOKEN" in info.value.one_line()


def test_500_then_success_is_retried(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(7)
    github_emulator.inject("GET", "/repos/*/pulls/7", 500, times=2)
    pull = fast_client(github_emulator).get("/repos/{owner}/{repo}/pulls/7")
    assert pull["number"] == 7
    statuses = [r.status for r in github_emulator.requests("GET", "/repos/*/pulls/7")]
    assert statuses == [500, 500, 200]


def test_500_forever_gives_up_after_max_attempts(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(7)
    github_emulator.inject("GET", "/repos/*/pulls/7", 502, times=10)
    with pytest.raises(GitHubError) as info:
        fast_client(github_emulator, max_attempts=3).get("/repos/{owner}/{repo}/pulls/7")
    assert info.value.status == 502
    assert info.value.call == "GET /repos/octo-org/churn/pulls/7"
    assert len(github_emulator.requests("GET", "/repos/*/pulls/7")) == 3


def test_rate_limit_is_waited_out_not_hammered(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(3)
    github_emulator.inject("GET", "/repos/*/pulls/3", "403-ratelimit", reset_in=1.5)
    client = fast_client(github_emulator)
    started = time.monotonic()
    pull = client.get("/repos/{owner}/{repo}/pulls/3")
    elapsed = time.monotonic() - started
    assert pull["number"] == 3
    calls = github_emulator.requests("GET", "/repos/*/pulls/3")
    assert [c.status for c in calls] == [403, 200]  # exactly one retry
    assert github_emulator.rate_limited_hits == 0  # nothing sent before the reset
    reset = github_emulator.rate_limited_until
    assert calls[1].time >= reset
    assert elapsed >= 1.0


def test_retry_after_is_honoured(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(4)
    github_emulator.inject("GET", "/repos/*/pulls/4", 403, retry_after=1)
    started = time.monotonic()
    fast_client(github_emulator).get("/repos/{owner}/{repo}/pulls/4")
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in github_emulator.requests("GET", "/repos/*/pulls/4")] == [403, 200]


def test_rate_limit_longer_than_max_wait_fails_clearly(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(5)
    github_emulator.inject("GET", "/repos/*/pulls/5", "403-ratelimit", reset_in=30)
    client = fast_client(github_emulator, max_rate_limit_wait_s=2)
    with pytest.raises(GitHubError) as info:
        client.get("/repos/{owner}/{repo}/pulls/5")
    assert "rate limit" in info.value.one_line()
    assert len(github_emulator.requests("GET", "/repos/*/pulls/5")) == 1
    github_emulator.rate_limited_until = 0  # let the fixture's teardown talk to it


def test_slow_reply_times_out(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(6)
    github_emulator.inject("GET", "/repos/*/pulls/6", None, delay=1.0, times=5)
    client = fast_client(github_emulator, timeout=0.3, max_attempts=2)
    started = time.monotonic()
    with pytest.raises(GitHubError) as info:
        client.get("/repos/{owner}/{repo}/pulls/6")
    assert "did not answer within 0.3s" in info.value.one_line()
    assert time.monotonic() - started < 3
    # The server logs a request when its thread reads it, which on a loaded machine can be
    # after the client gave up waiting: wait for the log to catch up, then count.
    assert _logged_eventually(github_emulator, "GET", "/repos/*/pulls/6", 2) == 2


def _logged_eventually(emulator: GitHubEmulator, method: str, path: str, want: int) -> int:
    """How many matching requests the emulator logged, once ``want`` arrived or 3 s passed."""
    deadline = time.monotonic() + 3
    while len(emulator.requests(method, path)) < want and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # a third, unwanted attempt would show up here
    return len(emulator.requests(method, path))


def test_slow_post_is_not_resent(github_emulator: GitHubEmulator) -> None:
    """A POST that timed out may have been applied: resending could duplicate a comment."""
    github_emulator.add_pull(8)
    github_emulator.inject("POST", "/repos/*/issues/8/comments", None, delay=0.8)
    client = fast_client(github_emulator, timeout=0.3)
    with pytest.raises(GitHubError):
        client.post("/repos/{owner}/{repo}/issues/8/comments", json={"body": "x"})
    assert _logged_eventually(github_emulator, "POST", "/repos/*/issues/8/comments", 1) == 1


def test_github_down_names_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    client = GitHubClient("tok-secret-123", url, "o/r", backoff_s=0.01, max_attempts=3)
    with pytest.raises(GitHubError) as info:
        client.get("/repos/o/r")
    line = info.value.one_line()
    assert url in line and "after 3 attempt(s)" in line
    assert "tok-secret-123" not in line


def test_404_names_the_missing_object(github_emulator: GitHubEmulator) -> None:
    client = GitHubClient.from_env()
    with pytest.raises(GitHubError) as info:
        client.get("/repos/{owner}/{repo}/pulls/99", what="pull request #99")
    assert info.value.status == 404
    assert "pull request #99 does not exist in octo-org/churn" in info.value.one_line()


@pytest.mark.parametrize(
    ("method", "path", "body", "scope", "entry"),
    [
        ("POST", "/repos/{owner}/{repo}/check-runs",
         {"name": "x", "head_sha": "a" * 40}, "checks", "checks: write"),
        ("POST", "/repos/{owner}/{repo}/statuses/" + "a" * 40,
         {"state": "success"}, "statuses", "statuses: write"),
        ("POST", "/repos/{owner}/{repo}/deployments",
         {"ref": "main", "required_contexts": []}, "deployments", "deployments: write"),
        ("POST", "/repos/{owner}/{repo}/issues/1/comments",
         {"body": "x"}, "pull_requests", "pull-requests: write"),
        ("GET", "/repos/{owner}/{repo}/actions/runs/1/approvals", None, "actions", "actions: read"),
    ],
)
def test_403_names_missing_permission(
    github_emulator: GitHubEmulator, method: str, path: str, body: object, scope: str, entry: str
) -> None:
    github_emulator.add_pull(1)
    github_emulator.add_run(1)
    token = github_emulator.restricted_token(**{scope: "none"})
    if scope == "pull_requests":
        github_emulator.tokens[token]["issues"] = "none"
    client = GitHubClient(token, github_emulator.url, github_emulator.repository)
    with pytest.raises(GitHubError) as info:
        client.request(method, path, json=body)
    line = info.value.one_line()
    assert info.value.status == 403
    assert "Resource not accessible by integration" in line
    assert f"add `{entry}" in line and "permissions:" in line
    assert token not in line


def test_token_never_in_errors_or_logs(
    github_emulator: GitHubEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    github_emulator.inject("GET", "/repos/*/pulls/2", 500, times=1)
    client = fast_client(github_emulator)
    messages = []
    for path in ("/repos/{owner}/{repo}/pulls/2", "/repos/{owner}/{repo}/pulls/404"):
        try:
            client.get(path)
        except GitHubError as exc:
            messages.append(str(exc))
    bad = GitHubClient("ghs_other_secret", github_emulator.url, github_emulator.repository)
    try:
        bad.get("/repos/{owner}/{repo}")
    except GitHubError as exc:
        messages.append(str(exc))
    assert len(messages) == 3
    everything = "\n".join(messages) + caplog.text
    assert github_emulator.token not in everything
    assert "ghs_other_secret" not in everything
    assert "GET /repos/octo-org/churn/pulls/2 -> 500" in caplog.text


@pytest.mark.parametrize(("text", "scrubbed"), [
    # a short token inside a longer word is not the token: the word stays whole
    ("abcdef cabc xabcx abc_d abcabc", "abcdef cabc xabcx abc_d abcabc"),
    # every place the token itself stands is removed
    ("token abc", "token ***"),
    ("Authorization: Bearer abc\r\n", "Authorization: Bearer ***\r\n"),
    ("https://x-access-token:abc@github.com/o/r.git?access_token=abc&x=1",
     "https://x-access-token:***@github.com/o/r.git?access_token=***&x=1"),
    ('{"token": "abc", "t":abc}', '{"token": "***", "t":***}'),
    ("(abc), [abc]; abc. abc", "(***), [***]; ***. ***"),
    # glued to an escape's letters, it is still the token
    ("x-access-token%3Aabc%40github.com", "x-access-token%3A***%40github.com"),
    ("'line\\nabc\\x41abc\\u2028abc'", "'line\\n***\\x41***\\u2028***'"),
])
def test_short_token_scrubbed_only_where_it_is_the_token(text: str, scrubbed: str) -> None:
    assert scrub(text, "abc") == scrubbed


def test_long_token_scrubbed_everywhere_even_glued() -> None:
    token = "ghs_" + "Ab1" * 12  # as long as a real installation token
    text = f"x{token}y %3A{token} \\n{token}:{token.upper()}"
    assert scrub(text, token) == f"x***y %3A*** \\n***:{token.upper()}"


def test_token_scrubbed_from_github_messages_end_to_end(
    tmp_path: Path, github_emulator: GitHubEmulator
) -> None:
    short = github_emulator.add_token("abc", pull_requests="read")
    github_emulator.inject("GET", "/repos/*/pulls/3", 404, message=(
        "abcdef cabc: token abc, Authorization: Bearer abc, "
        "https://x-access-token:abc@github.com/o/r.git?access_token=abc, {\"token\": \"abc\"}"))
    report = tmp_path / "r.json"
    write_json(report, [GateResult("model", [CheckResult("auc", Status.PASS)])], "gate-model")
    argv = ["report", "--results", str(report), "--pr-comment", "--pr", "3"]
    out = run_mlgate(argv, env={"GITHUB_TOKEN": short})
    assert out.code == 2
    assert ("'abcdef cabc: token ***, Authorization: Bearer ***, https://x-access-token:***@"
            "github.com/o/r.git?access_token=***, {\"token\": \"***\"}'") in out.error_line
    long_token = github_emulator.token
    github_emulator.inject("GET", "/repos/*/pulls/3", 404, times=1,
                           message=f"token{long_token}, %3A{long_token}")
    out = run_mlgate(argv)
    assert out.code == 2 and "'token***, %3A***'" in out.error_line
    assert long_token not in out.stdout + out.stderr


def test_paginate_follows_link_headers(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(9)
    for i in range(7):
        github_emulator.add_comment(9, "octocat", f"comment {i}")
    client = GitHubClient.from_env()
    bodies = [c["body"] for c in client.paginate("/repos/{owner}/{repo}/issues/9/comments",
                                                 {"per_page": 3})]
    assert bodies == [f"comment {i}" for i in range(7)]
    assert len(github_emulator.requests("GET", "/repos/*/issues/9/comments")) == 3


def test_paginate_unwraps_wrapped_lists(github_emulator: GitHubEmulator) -> None:
    client = GitHubClient.from_env()
    client.post("/repos/{owner}/{repo}/check-runs", json={"name": "a", "head_sha": "b" * 40})
    runs = list(client.paginate("/repos/{owner}/{repo}/commits/" + "b" * 40 + "/check-runs"))
    assert [r["name"] for r in runs] == ["a"]


def test_permission_table() -> None:
    assert required_permission("PATCH", "/repos/o/r/check-runs/5") == "checks: write"
    assert required_permission("GET", "/repos/o/r/pulls/5") == "pull-requests: read"
    assert required_permission("POST", "/repos/o/r/deployments/3/statuses") == "deployments: write"
    assert required_permission("GET", "/rate_limit") is None
    assert required_permission("GET", "/repos/o/r/actions/permissions") == "administration: read"
    assert required_permission("GET", "/repos/o/r/actions/permissions/workflow") == (
        "administration: read")
    assert required_permission("GET", "/repos/o/r/actions/runs/1") == "actions: read"
    assert required_permission("GET", "/repos/o/r/branches/main/protection") == (
        "administration: read")
    assert required_permission("POST", "/repos/o/r/rulesets") == "administration: write"
    assert required_permission("GET", "/repos/o/r/rulesets/7") == "metadata: read"
    assert required_permission("GET", "/repos/o/r/rules/branches/main") == "metadata: read"
    assert required_permission("GET", "/repos/o/r/environments/production/deployment-branch-"
                               "policies") == "actions: read"


def test_403_on_a_settings_endpoint_says_workflow_tokens_cannot_have_it(
    github_emulator: GitHubEmulator,
) -> None:
    token = github_emulator.restricted_token(administration="none")
    client = GitHubClient(token, github_emulator.url, github_emulator.repository)
    with pytest.raises(GitHubError) as info:
        client.get("/repos/{owner}/{repo}/actions/permissions")
    line = info.value.one_line()
    assert "the token needs `administration: read`" in line
    assert "GITHUB_TOKEN cannot have it" in line and "permissions:`" not in line
