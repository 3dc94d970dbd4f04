"""A stateful GitHub REST API emulator: a real HTTP server on 127.0.0.1 for the tests.

Every request is matched to an operation of ``tests/fixtures/github/openapi-subset.json``
(extracted from GitHub's own OpenAPI description) and validated; every response is built from
the spec's example for that operation, filled with the emulator's state, and validated too.
Anything that does not match lands in :attr:`GitHubEmulator.validation_errors`, which the
``github_emulator`` fixture asserts is empty after each test.

Behaviour copied from GitHub: ``Authorization: Bearer|token`` checks (401 "Bad credentials"),
per-token permissions (403 "Resource not accessible by integration"), 404 for unknown
objects, pagination with ``Link`` headers, ``since`` on issue comments, check-run annotations
that accumulate across updates, deployments refused (409) while required status contexts
are not green, and primary rate limits (403 with ``x-ratelimit-remaining: 0`` until reset).
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import itertools
import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.github_emulator.replies import Reply
from tests.support.github_emulator.settings import SETTINGS_PERMISSIONS, RepositorySettings
from tests.support.github_emulator.spec import Operation, Spec

LEVELS = {"none": 0, "read": 1, "write": 2}
SCOPES = (
    "actions", "administration", "checks", "contents", "deployments", "issues", "metadata",
    "pull_requests", "statuses",
)
# operationId -> permissions of which the token needs at least one ("scope:level").
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "issues/list-comments": ("issues:read", "pull_requests:read"),
    "issues/get-comment": ("issues:read", "pull_requests:read"),
    "issues/create-comment": ("issues:write", "pull_requests:write"),
    "issues/update-comment": ("issues:write", "pull_requests:write"),
    "issues/get": ("issues:read",),
    "issues/create": ("issues:write",),
    "issues/list-for-repo": ("issues:read",),
    "issues/update": ("issues:write",),
    "checks/create": ("checks:write",),
    "checks/update": ("checks:write",),
    "checks/get": ("checks:read",),
    "checks/list-for-ref": ("checks:read",),
    "repos/create-commit-status": ("statuses:write",),
    "repos/list-commit-statuses-for-ref": ("statuses:read",),
    "repos/get-combined-status-for-ref": ("statuses:read",),
    "repos/create-deployment": ("deployments:write",),
    "repos/create-deployment-status": ("deployments:write",),
    "repos/list-deployments": ("deployments:read",),
    "repos/get-deployment": ("deployments:read",),
    "repos/list-deployment-statuses": ("deployments:read",),
    "repos/get-environment": ("actions:read",),
    "actions/get-workflow-run": ("actions:read",),
    "actions/get-reviews-for-run": ("actions:read",),
    "actions/get-pending-deployments-for-run": ("actions:read",),
    "actions/review-pending-deployments-for-run": ("deployments:write",),
    "repos/get-collaborator-permission-level": ("metadata:read",),
    "pulls/get": ("pull_requests:read",),
    "repos/get": ("metadata:read",),
    "repos/create-release": ("contents:write",),
    "repos/get-release-by-tag": ("contents:read",),
    "repos/list-releases": ("contents:read",),
    "rate-limit/get": (),
    **SETTINGS_PERMISSIONS,
}


@dataclass
class Fault:
    """An injected failure: ``times`` matching requests get ``status`` after ``delay`` s."""

    method: str
    path_pattern: str
    status: int | str | None
    times: int
    delay: float
    reset_in: float
    retry_after: float | None
    message: str | None = None
    used: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.used < self.times
            and self.method in ("*", method)
            and fnmatch.fnmatchcase(path, self.path_pattern)
        )


@dataclass
class LoggedRequest:
    """One request as the emulator saw it (the Authorization header is never kept)."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    operation_id: str | None
    time: float
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class GitHubEmulator(RepositorySettings):
    """The emulator: start it, point ``GITHUB_API_URL`` at :attr:`url`, inspect its state.

    One repository (``owner/name``) is served; others answer 404 like private repositories.
    Repository settings (rulesets, branch protection, environment protection, Actions
    permissions) come from :class:`RepositorySettings`.
    """

    def __init__(self, repository: str = "octo-org/churn", token: str = "ghs_emulatortoken0001",
                 bot_login: str = "github-actions[bot]") -> None:
        self.spec = Spec()
        self.repository = repository
        self.owner, self.repo = repository.split("/")
        self.token = token
        self.bot_login = bot_login
        self.tokens: dict[str, dict[str, str]] = {token: dict.fromkeys(SCOPES, "write")}
        self.token_logins: dict[str, str] = {token: bot_login}
        self.lock = threading.RLock()
        self.log: list[LoggedRequest] = []
        self.validation_errors: list[str] = []
        self.faults: list[Fault] = []
        self.rate_limited_until = 0.0
        self.rate_limited_hits = 0
        self._ids = itertools.count(1001)
        # state
        self.issues: dict[int, dict[str, Any]] = {}
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self.comment_issue: dict[int, int] = {}
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.check_annotations: dict[int, list[dict[str, Any]]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.status_sha: dict[int, str] = {}
        self.deployments: dict[int, dict[str, Any]] = {}
        self.deployment_statuses: dict[int, list[dict[str, Any]]] = {}
        self.environments: dict[str, dict[str, Any]] = {}
        self.runs: dict[int, dict[str, Any]] = {}
        self.run_approvals: dict[int, list[dict[str, Any]]] = {}
        self.pending_deployments: dict[int, list[dict[str, Any]]] = {}
        self.collaborators: dict[str, str] = {}
        self.releases: dict[int, dict[str, Any]] = {}
        self.branches: dict[str, str] = {"main": _sha("main")}
        self.default_branch = "main"
        self.users: dict[int, str] = {}  # id -> login of every user the emulator has shown
        self._init_settings()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> GitHubEmulator:
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, name="github-emulator",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GitHubEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self, **extra: str) -> dict[str, str]:
        """Environment variables that point mlgate at this emulator."""
        return {"GITHUB_API_URL": self.url, "GITHUB_TOKEN": self.token,
                "GITHUB_REPOSITORY": self.repository, **extra}

    # -- tokens and faults -------------------------------------------------------------------

    def add_token(self, token: str, login: str = "github-actions[bot]", **permissions: str) -> str:
        """A token with only the given permissions (``checks="read"``; unnamed: none)."""
        perms = dict.fromkeys(SCOPES, "none")
        perms["metadata"] = "read"
        for scope, level in permissions.items():
            perms[scope.replace("-", "_")] = level
        self.tokens[token] = perms
        self.token_logins[token] = login
        return token

    def restricted_token(self, **permissions: str) -> str:
        """A token with every permission (write) except the ones given (``checks="read"``)."""
        token = f"ghs_restricted{len(self.tokens):04d}"
        self.tokens[token] = dict.fromkeys(SCOPES, "write")
        for scope, level in permissions.items():
            self.tokens[token][scope.replace("-", "_")] = level
        self.token_logins[token] = self.bot_login
        return token

    def inject(self, method: str, path_pattern: str, status: int | str | None = 500, *,
               times: int = 1, delay: float = 0.0, reset_in: float = 2.0,
               retry_after: float | None = None, message: str | None = None) -> Fault:
        """Make the next ``times`` matching requests fail.

        ``path_pattern`` is a shell glob on the path (``/repos/*/pulls/*``). ``status`` is an
        HTTP status, ``"403-ratelimit"`` (primary rate limit: every request is refused until
        ``reset_in`` seconds have passed), or None with ``delay`` for a slow reply. ``message``
        replaces the reason phrase as GitHub's ``message``.
        """
        fault = Fault(method.upper(), path_pattern, status, times, delay, reset_in, retry_after,
                      message)
        with self.lock:
            self.faults.append(fault)
        return fault

    # -- seeding -----------------------------------------------------------------------------

    def add_collaborator(self, login: str, permission: str = "write") -> None:
        self.collaborators[login] = permission

    def add_issue(self, number: int | None = None, title: str = "An issue", user: str = "octocat",
                  state: str = "open", body: str = "") -> dict[str, Any]:
        with self.lock:
            number = number or (max([*self.issues, 0]) + 1)
            issue = self.spec.example("issues/get", "200")
            iid = next(self._ids)
            issue.update(id=iid, node_id=f"I_{iid}", number=number, title=title, state=state,
                         body=body,
                         user=self._user(user), comments=0, labels=[], assignee=None,
                         assignees=[], milestone=None, locked=False, closed_at=None,
                         created_at=_now(), updated_at=_now(), closed_by=None,
                         author_association="MEMBER", active_lock_reason=None)
            issue.pop("pull_request", None)
            for key in ("url", "repository_url", "labels_url", "comments_url", "events_url",
                        "html_url"):
                issue[key] = self._api(f"/issues/{number}")
            issue["html_url"] = self._html(f"/issues/{number}")
            issue["comments_url"] = self._api(f"/issues/{number}/comments")
            issue["repository_url"] = self._api("")
            self.issues[number] = issue
            return issue

    def add_pull(self, number: int, head_sha: str | None = None, *, title: str = "A change",
                 user: str = "octocat", head_ref: str = "feature", base_ref: str = "main",
                 state: str = "open") -> dict[str, Any]:
        """A pull request (and the issue every pull request also is)."""
        head_sha = head_sha or _sha(f"pr{number}")
        with self.lock:
            issue = self.add_issue(number, title, user, state)
            issue["pull_request"] = {"url": self._api(f"/pulls/{number}"),
                                     "html_url": self._html(f"/pull/{number}"),
                                     "diff_url": None, "patch_url": None}
            pull = self.spec.example("pulls/get", "200")
            pull.update(id=next(self._ids), number=number, title=title, state=state,
                        user=self._user(user), url=self._api(f"/pulls/{number}"),
                        html_url=self._html(f"/pull/{number}"), requested_teams=[],
                        created_at=_now(), updated_at=_now())
            pull["head"].update(sha=head_sha, ref=head_ref, label=f"{self.owner}:{head_ref}")
            pull["base"].update(sha=self.branches.get(base_ref, _sha(base_ref)), ref=base_ref,
                                label=f"{self.owner}:{base_ref}")
            self.pulls[number] = pull
            self.branches[head_ref] = head_sha
            return pull

    def add_comment(self, issue_number: int, login: str, body: str,
                    created_at: str | None = None) -> dict[str, Any]:
        """A comment written by someone (e.g. a reviewer's ``/approve``)."""
        with self.lock:
            return self._new_comment(issue_number, login, body, created_at or _now())

    def add_run(self, run_id: int, head_sha: str | None = None, *, event: str = "push",
                name: str = "ml-release", status: str = "waiting") -> dict[str, Any]:
        run = self.spec.example("actions/get-workflow-run", "200")
        run.update(id=run_id, head_sha=head_sha or self.branches["main"], event=event,
                   name=name, status=status, url=self._api(f"/actions/runs/{run_id}"),
                   html_url=self._html(f"/actions/runs/{run_id}"))
        self.runs[run_id] = run
        return run

    def add_run_approval(self, run_id: int, login: str, state: str = "approved",
                         comment: str = "", environments: list[str] | None = None) -> None:
        """A review on a protected environment of a workflow run (the approvals log)."""
        with self.lock:
            if run_id not in self.runs:
                self.add_run(run_id)
            envs = []
            for name in environments or ["production"]:
                env = self.environments.get(name) or self.add_environment(name)
                envs.append({k: env[k] for k in ("id", "node_id", "name", "url", "html_url",
                                                 "created_at", "updated_at")})
            self.run_approvals.setdefault(run_id, []).append(
                {"environments": envs, "state": state, "user": self._user(login),
                 "comment": comment})

    def add_pending_deployment(self, run_id: int, environment: str,
                               reviewers: list[str]) -> None:
        with self.lock:
            if run_id not in self.runs:
                self.add_run(run_id)
            env = self.environments.get(environment) or self.add_environment(environment,
                                                                             reviewers)
            self.pending_deployments.setdefault(run_id, []).append(
                {"environment": {k: env[k] for k in ("id", "node_id", "name", "url",
                                                     "html_url")},
                 "wait_timer": 0, "wait_timer_started_at": None,
                 "current_user_can_approve": True,
                 "reviewers": [{"type": "User", "reviewer": self._user(r)} for r in reviewers]})

    def add_release(self, tag: str, name: str = "", body: str = "") -> dict[str, Any]:
        with self.lock:
            return self._new_release({"tag_name": tag, "name": name or tag, "body": body})

    # -- state accessors for tests -----------------------------------------------------------

    def comments_on(self, issue_number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [c for cid, c in sorted(self.comments.items())
                    if self.comment_issue[cid] == issue_number]

    def annotations(self, check_run_id: int) -> list[dict[str, Any]]:
        return list(self.check_annotations.get(check_run_id, []))

    def statuses_for(self, sha: str) -> list[dict[str, Any]]:
        return [s for s in self.statuses if self.status_sha[s["id"]] == sha]

    def requests(self, method: str | None = None, path_pattern: str = "*") -> list[LoggedRequest]:
        with self.lock:
            return [r for r in self.log if (method is None or r.method == method.upper())
                    and fnmatch.fnmatchcase(r.path, path_pattern)]

    # -- the request pipeline ----------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str],
               raw_body: bytes) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        has_body = bool(raw_body)
        body: Any = None
        errors: list[str] = []
        if has_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                errors.append(f"{method} {path}: body is not JSON")
        matched = self.spec.match(method, path)
        op = matched[0] if matched else None
        entry = LoggedRequest(method, path, query, body, op.operation_id if op else None,
                              time.time(), headers={k: v for k, v in headers.items()
                                                    if k.lower() != "authorization"})
        with self.lock:
            self.log.append(entry)
        status, extra, payload = self._answer(method, path, query, headers, body, has_body,
                                              matched, errors)
        errors += self.spec.validate_response(op, status, payload) if payload is not None else []
        with self.lock:
            self.validation_errors.extend(errors)
            entry.status = status
        out_headers = {"Content-Type": "application/json; charset=utf-8",
                       "X-GitHub-Api-Version-Selected": "2022-11-28",
                       "X-GitHub-Request-Id": f"EMU:{len(self.log):06d}", **extra}
        out_headers.setdefault("x-ratelimit-limit", "5000")
        out_headers.setdefault("x-ratelimit-remaining", "4999")
        out_headers.setdefault("x-ratelimit-reset", str(int(time.time()) + 3600))
        data = b"" if payload is None else json.dumps(payload).encode()
        return status, out_headers, data

    def _answer(self, method: str, path: str, query: dict[str, list[str]],
                headers: dict[str, str], body: Any, has_body: bool,
                matched: tuple[Operation, dict[str, str]] | None,
                errors: list[str]) -> tuple[int, dict[str, str], Any]:
        try:
            self._apply_faults(method, path)
            token = self._token(headers)
            if matched is None:
                errors.append(f"{method} {path}: no operation of the OpenAPI subset matches")
                raise Reply(404, "Not Found")
            op, params = matched
            problems = self.spec.validate_request(op, params, query, body, has_body)
            problems += _unknown_body_keys(op, body)
            if problems:
                errors.extend(problems)
                raise Reply(422, "Invalid request.", errors=[{"message": p} for p in problems])
            self._authorize(op, token)
            if "owner" in params and (params["owner"], params["repo"]) != (self.owner, self.repo):
                raise Reply(404, "Not Found")
            handler = getattr(self, "op_" + op.operation_id.replace("/", "__").replace("-", "_"))
            with self.lock:
                result = handler(params=params, query=query, body=body or {},
                                 login=self.token_logins[token], token=token)
            status, payload, extra = result if len(result) == 3 else (*result, {})
            return status, extra, payload
        except Reply as reply:
            return reply.status, reply.headers, reply.body

    def _apply_faults(self, method: str, path: str) -> None:
        with self.lock:
            fault = next((f for f in self.faults if f.matches(method, path)), None)
            if fault:
                fault.used += 1
        if fault and fault.delay:
            time.sleep(fault.delay)
        with self.lock:
            now = time.time()
            if fault and fault.status == "403-ratelimit":
                self.rate_limited_until = math.ceil(now + fault.reset_in)
            elif self.rate_limited_until > now:
                self.rate_limited_hits += 1
            if self.rate_limited_until > now:
                reply = Reply(403, "API rate limit exceeded for installation ID 1.")
                reply.headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                                 "x-ratelimit-used": "5000",
                                 "x-ratelimit-reset": str(int(self.rate_limited_until))}
                raise reply
        if fault and isinstance(fault.status, int):
            reply = Reply(fault.status, fault.message or _reason(fault.status))
            if fault.retry_after is not None:
                reply.body["message"] = "You have exceeded a secondary rate limit."
                reply.headers = {"Retry-After": f"{fault.retry_after:g}"}
            raise reply

    def _token(self, headers: dict[str, str]) -> str:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("bearer", "token") or token not in self.tokens:
            raise Reply(401, "Bad credentials")
        return token

    def _authorize(self, op: Operation, token: str) -> None:
        needed = PERMISSIONS.get(op.operation_id, ())
        perms = self.tokens[token]
        if needed and not any(LEVELS[perms.get(n.split(":")[0], "none")] >= LEVELS[n.split(":")[1]]
                              for n in needed):
            raise Reply(403, "Resource not accessible by integration")

    # -- helpers -------------------------------------------------------------------------------

    def _api(self, suffix: str) -> str:
        return f"{self.url}/repos/{self.repository}{suffix}"

    def _html(self, suffix: str) -> str:
        return f"https://github.com/{self.repository}{suffix}"

    def _user(self, login: str) -> dict[str, Any]:
        user = self.spec.example("issues/get-comment", "200")["user"]
        uid = int(hashlib.sha256(login.encode()).hexdigest()[:6], 16)
        user.update(login=login, id=uid, node_id=f"U_{uid}", url=f"{self.url}/users/{login}",
                    html_url=f"https://github.com/{login}",
                    type="Bot" if login.endswith("[bot]") else "User")
        self.users[uid] = login
        return user

    def _page(self, items: list[Any], query: dict[str, list[str]], path: str,
              ) -> tuple[int, list[Any], dict[str, str]]:
        per_page = min(100, int(query.get("per_page", ["30"])[0]))
        page = max(1, int(query.get("page", ["1"])[0]))
        last = max(1, math.ceil(len(items) / per_page))
        links = []
        base = {k: v[0] for k, v in query.items() if k != "page"}
        if page < last:
            links.append(f'<{self.url}{path}?{urlencode({**base, "page": page + 1})}>; rel="next"')
            links.append(f'<{self.url}{path}?{urlencode({**base, "page": last})}>; rel="last"')
        if page > 1:
            links.append(f'<{self.url}{path}?{urlencode({**base, "page": page - 1})}>; rel="prev"')
        chunk = items[(page - 1) * per_page: page * per_page]
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    def _issue(self, number: str | int) -> dict[str, Any]:
        issue = self.issues.get(int(number))
        if issue is None:
            raise Reply(404, "Not Found")
        return issue

    def _new_comment(self, issue_number: int, login: str, body: str,
                     created_at: str) -> dict[str, Any]:
        issue = self._issue(issue_number)
        cid = next(self._ids)
        comment = self.spec.example("issues/get-comment", "200")
        comment.update(id=cid, node_id=f"IC_{cid}", body=body, user=self._user(login),
                       created_at=created_at, updated_at=created_at,
                       url=self._api(f"/issues/comments/{cid}"),
                       html_url=issue["html_url"] + f"#issuecomment-{cid}",
                       issue_url=self._api(f"/issues/{issue_number}"),
                       author_association="MEMBER" if login in self.collaborators else "NONE")
        comment.pop("reactions", None)
        self.comments[cid] = comment
        self.comment_issue[cid] = issue_number
        issue["comments"] += 1
        return comment

    def _new_release(self, body: dict[str, Any]) -> dict[str, Any]:
        tag = body["tag_name"]
        if any(r["tag_name"] == tag for r in self.releases.values()):
            raise Reply(422, "Validation Failed",
                        errors=[{"resource": "Release", "code": "already_exists",
                                 "field": "tag_name"}])
        rid = next(self._ids)
        release = self.spec.example("repos/get-release-by-tag", "200")
        release.update(id=rid, tag_name=tag, name=body.get("name") or tag,
                       body=body.get("body", ""), draft=bool(body.get("draft")),
                       prerelease=bool(body.get("prerelease")),
                       target_commitish=body.get("target_commitish", "main"),
                       url=self._api(f"/releases/{rid}"),
                       html_url=self._html(f"/releases/tag/{tag}"),
                       author=self._user(self.bot_login), assets=[], created_at=_now(),
                       published_at=None if body.get("draft") else _now())
        self.releases[rid] = release
        return release

    # -- operations (one method per operationId) ------------------------------------------------

    def op_rate_limit__get(self, **_: Any) -> tuple[int, Any]:
        body = self.spec.example("rate-limit/get", "200")
        return 200, body

    def op_repos__get(self, **_: Any) -> tuple[int, Any]:
        repo = self.spec.example("repos/get", "200")
        repo.update(name=self.repo, full_name=self.repository, url=self._api(""),
                    html_url=self._html(""), language="Python",
                    default_branch=self.default_branch)
        repo["owner"] = self._user(self.owner)
        for key in ("source", "parent", "template_repository", "organization"):
            repo.pop(key, None)
        return 200, repo

    def op_issues__get(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        return 200, self._issue(params["issue_number"])

    def op_issues__create(self, body: dict[str, Any], login: str, **_: Any) -> tuple[int, Any]:
        issue = self.add_issue(title=body["title"], user=login, body=body.get("body") or "")
        return 201, issue

    def op_issues__list_for_repo(self, query: dict[str, list[str]],
                                 **_: Any) -> tuple[int, Any, dict[str, str]]:
        """Open (or ``state``) issues, newest first, optionally by ``creator``; pull requests
        are issues too and are listed (with their ``pull_request`` key), as on GitHub."""
        state = query.get("state", ["open"])[0]
        creator = query.get("creator", [None])[0]
        items = [i for i in sorted(self.issues.values(), key=lambda i: -i["number"])
                 if state in ("all", i["state"])
                 and (creator is None or i["user"]["login"] == creator)]
        return self._page(items, query, f"/repos/{self.repository}/issues")

    def op_issues__update(self, params: dict[str, str], body: dict[str, Any],
                          **_: Any) -> tuple[int, Any]:
        issue = self._issue(params["issue_number"])
        for key in ("title", "body"):
            if key in body:
                issue[key] = body[key]
        if body.get("state") in ("open", "closed"):
            issue["state"] = body["state"]
            issue["closed_at"] = _now() if body["state"] == "closed" else None
        issue["updated_at"] = _now()
        return 200, issue

    def op_pulls__get(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        pull = self.pulls.get(int(params["pull_number"]))
        if pull is None:
            raise Reply(404, "Not Found")
        return 200, pull

    def op_issues__list_comments(self, params: dict[str, str], query: dict[str, list[str]],
                                 **_: Any) -> tuple[int, Any, dict[str, str]]:
        number = int(params["issue_number"])
        self._issue(number)
        items = self.comments_on(number)
        if "since" in query:
            since = _parse(query["since"][0])
            items = [c for c in items if _parse(c["updated_at"]) >= since]
        path = f"/repos/{self.repository}/issues/{number}/comments"
        return self._page(items, query, path)

    def op_issues__create_comment(self, params: dict[str, str], body: dict[str, Any], login: str,
                                  **_: Any) -> tuple[int, Any]:
        return 201, self._new_comment(int(params["issue_number"]), login, body["body"], _now())

    def op_issues__get_comment(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        comment = self.comments.get(int(params["comment_id"]))
        if comment is None:
            raise Reply(404, "Not Found")
        return 200, comment

    def op_issues__update_comment(self, params: dict[str, str], body: dict[str, Any],
                                  **_: Any) -> tuple[int, Any]:
        comment = self.comments.get(int(params["comment_id"]))
        if comment is None:
            raise Reply(404, "Not Found")
        comment.update(body=body["body"], updated_at=_now())
        return 200, comment

    def op_checks__create(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        rid = next(self._ids)
        run = self.spec.example("checks/get", "200")
        run.update(id=rid, node_id=f"CR_{rid}", name=body["name"], head_sha=body["head_sha"],
                   external_id=body.get("external_id", ""), url=self._api(f"/check-runs/{rid}"),
                   html_url=self._html(f"/runs/{rid}"), details_url=body.get("details_url"),
                   status="queued", conclusion=None, started_at=_now(), completed_at=None,
                   pull_requests=[])
        run["output"] = {"title": None, "summary": None, "text": None, "annotations_count": 0,
                         "annotations_url": self._api(f"/check-runs/{rid}/annotations")}
        self.check_runs[rid] = run
        self.check_annotations[rid] = []
        self._update_check(run, body)
        return 201, run

    def op_checks__update(self, params: dict[str, str], body: dict[str, Any],
                          **_: Any) -> tuple[int, Any]:
        run = self.check_runs.get(int(params["check_run_id"]))
        if run is None:
            raise Reply(404, "Not Found")
        self._update_check(run, body)
        return 200, run

    def _update_check(self, run: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("name", "details_url", "external_id", "started_at"):
            if key in body:
                run[key] = body[key]
        status = body.get("status", run["status"])
        if "conclusion" in body:
            status = "completed"
        if status == "completed" and not (body.get("conclusion") or run.get("conclusion")):
            raise Reply(422, "Validation Failed",
                        errors=[{"resource": "CheckRun", "code": "missing_field",
                                 "field": "conclusion"}])
        run["status"] = status
        if body.get("conclusion"):
            run["conclusion"] = body["conclusion"]
            run["completed_at"] = body.get("completed_at") or _now()
        output = body.get("output")
        if output:
            if not output.get("title") or not output.get("summary"):
                raise Reply(422, "Validation Failed",
                            errors=[{"resource": "CheckRun", "code": "missing_field",
                                     "field": "output"}])
            run["output"].update(title=output["title"], summary=output["summary"],
                                 text=output.get("text"))
            self.check_annotations[run["id"]].extend(copy.deepcopy(output.get("annotations", [])))
            run["output"]["annotations_count"] = len(self.check_annotations[run["id"]])

    def op_checks__get(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        run = self.check_runs.get(int(params["check_run_id"]))
        if run is None:
            raise Reply(404, "Not Found")
        return 200, run

    def op_checks__list_for_ref(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        sha = self.branches.get(params["ref"], params["ref"])
        runs = [r for r in self.check_runs.values() if r["head_sha"] == sha]
        return 200, {"total_count": len(runs), "check_runs": runs}

    def op_repos__create_commit_status(self, params: dict[str, str], body: dict[str, Any],
                                       login: str, **_: Any) -> tuple[int, Any]:
        if len(body.get("description") or "") > 140:
            raise Reply(422, "Validation Failed",
                        errors=[{"resource": "Status", "code": "custom", "field": "description",
                                 "message": "description is too long (maximum is 140 "
                                            "characters)"}])
        sid = next(self._ids)
        status = self.spec.example("repos/create-commit-status", "201")
        status.update(id=sid, node_id=f"SC_{sid}", state=body["state"],
                      description=body.get("description"), target_url=body.get("target_url"),
                      context=body.get("context", "default"), created_at=_now(),
                      updated_at=_now(), url=self._api(f"/statuses/{params['sha']}"),
                      creator=self._user(login))
        self.statuses.append(status)
        self.status_sha[sid] = params["sha"]
        return 201, status

    def _latest_statuses(self, sha: str) -> list[dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for s in self.statuses_for(sha):
            latest[s["context"].lower()] = s
        return list(latest.values())

    def op_repos__list_commit_statuses_for_ref(self, params: dict[str, str],
                                               query: dict[str, list[str]],
                                               **_: Any) -> tuple[int, Any, dict[str, str]]:
        sha = self.branches.get(params["ref"], params["ref"])
        items = list(reversed(self.statuses_for(sha)))
        path = f"/repos/{self.repository}/commits/{params['ref']}/statuses"
        return self._page(items, query, path)

    def op_repos__get_combined_status_for_ref(self, params: dict[str, str],
                                              **_: Any) -> tuple[int, Any]:
        sha = self.branches.get(params["ref"], params["ref"])
        latest = self._latest_statuses(sha)
        states = {s["state"] for s in latest}
        state = ("failure" if states & {"failure", "error"} else
                 "pending" if "pending" in states or not latest else "success")
        combined = self.spec.example("repos/get-combined-status-for-ref", "200")
        combined.update(state=state, sha=sha, total_count=len(latest),
                        statuses=[{k: s[k] for k in ("url", "avatar_url", "id", "node_id",
                                                     "state", "description", "target_url",
                                                     "context", "created_at", "updated_at")}
                                  | {"required": False} for s in latest],
                        commit_url=self._api(f"/commits/{sha}"),
                        url=self._api(f"/commits/{sha}/status"))
        combined["repository"] = self.spec.example("repos/get-combined-status-for-ref",
                                                   "200")["repository"]
        return 200, combined

    def op_repos__create_deployment(self, body: dict[str, Any], login: str,
                                    **_: Any) -> tuple[int, Any]:
        ref = body["ref"]
        sha = self.branches.get(ref, ref)
        if "required_contexts" not in body or body["required_contexts"]:
            wanted = body.get("required_contexts")
            latest = self._latest_statuses(sha)
            bad = [s["context"] for s in latest if s["state"] != "success"
                   and (wanted is None or s["context"] in wanted)]
            if bad:
                raise Reply(409, f"Conflict: Commit status checks failed for {ref}.",
                            errors=[{"contexts": [{"context": c, "state": "failure"}
                                                  for c in bad],
                                     "resource": "Deployment", "field": "required_contexts",
                                     "code": "invalid"}])
        did = next(self._ids)
        dep = self.spec.example("repos/get-deployment", "200")
        env = body.get("environment", "production")
        dep.update(id=did, node_id=f"DE_{did}", sha=sha, ref=ref, task=body.get("task", "deploy"),
                   payload=body.get("payload", {}), environment=env,
                   original_environment=env, description=body.get("description", ""),
                   creator=self._user(login), created_at=_now(), updated_at=_now(),
                   url=self._api(f"/deployments/{did}"),
                   statuses_url=self._api(f"/deployments/{did}/statuses"),
                   repository_url=self._api(""),
                   transient_environment=bool(body.get("transient_environment", False)),
                   production_environment=bool(body.get("production_environment",
                                                        env == "production")))
        self.deployments[did] = dep
        self.deployment_statuses[did] = []
        return 201, dep

    def op_repos__list_deployments(self, query: dict[str, list[str]],
                                   **_: Any) -> tuple[int, Any, dict[str, str]]:
        items = list(reversed(self.deployments.values()))
        for key in ("sha", "ref", "task", "environment"):
            if key in query:
                items = [d for d in items if d[key] == query[key][0]]
        return self._page(items, query, f"/repos/{self.repository}/deployments")

    def _deployment(self, did: str) -> dict[str, Any]:
        dep = self.deployments.get(int(did))
        if dep is None:
            raise Reply(404, "Not Found")
        return dep

    def op_repos__get_deployment(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        return 200, self._deployment(params["deployment_id"])

    def op_repos__create_deployment_status(self, params: dict[str, str], body: dict[str, Any],
                                           login: str, **_: Any) -> tuple[int, Any]:
        dep = self._deployment(params["deployment_id"])
        if len(body.get("description") or "") > 140:
            raise Reply(422, "Validation Failed",
                        errors=[{"resource": "DeploymentStatus", "code": "custom",
                                 "field": "description",
                                 "message": "description is too long (maximum is 140 "
                                            "characters)"}])
        env = body.get("environment") or dep["environment"]
        if body["state"] == "success" and body.get("auto_inactive", True):
            for other in self.deployments.values():
                history = self.deployment_statuses[other["id"]]
                if (other["id"] != dep["id"] and other["environment"] == env and history
                        and history[0]["state"] == "success"):
                    history.insert(0, self._status_of(other, "inactive", {}, login, env))
        status = self._status_of(dep, body["state"], body, login, env)
        self.deployment_statuses[dep["id"]].insert(0, status)
        dep["updated_at"] = _now()
        return 201, status

    def _status_of(self, dep: dict[str, Any], state: str, body: dict[str, Any], login: str,
                   env: str) -> dict[str, Any]:
        sid = next(self._ids)
        status = self.spec.example("repos/create-deployment-status", "201")
        log_url = body.get("log_url") or body.get("target_url") or ""
        status.update(id=sid, node_id=f"DES_{sid}", state=state, creator=self._user(login),
                      description=body.get("description", ""), environment=env,
                      target_url=log_url, log_url=log_url,
                      environment_url=body.get("environment_url", ""),
                      created_at=_now(), updated_at=_now(),
                      url=self._api(f"/deployments/{dep['id']}/statuses/{sid}"),
                      deployment_url=dep["url"], repository_url=self._api(""))
        return status

    def op_repos__list_deployment_statuses(self, params: dict[str, str],
                                           query: dict[str, list[str]],
                                           **_: Any) -> tuple[int, Any, dict[str, str]]:
        dep = self._deployment(params["deployment_id"])
        path = f"/repos/{self.repository}/deployments/{dep['id']}/statuses"
        return self._page(self.deployment_statuses[dep["id"]], query, path)

    def _run(self, run_id: str) -> dict[str, Any]:
        run = self.runs.get(int(run_id))
        if run is None:
            raise Reply(404, "Not Found")
        return run

    def op_actions__get_workflow_run(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        return 200, self._run(params["run_id"])

    def op_actions__get_reviews_for_run(self, params: dict[str, str],
                                        **_: Any) -> tuple[int, Any]:
        self._run(params["run_id"])
        return 200, self.run_approvals.get(int(params["run_id"]), [])

    def op_actions__get_pending_deployments_for_run(self, params: dict[str, str],
                                                    **_: Any) -> tuple[int, Any]:
        self._run(params["run_id"])
        return 200, self.pending_deployments.get(int(params["run_id"]), [])

    def op_actions__review_pending_deployments_for_run(self, params: dict[str, str],
                                                       body: dict[str, Any], login: str,
                                                       **_: Any) -> tuple[int, Any]:
        run_id = int(params["run_id"])
        self._run(params["run_id"])
        pending = self.pending_deployments.get(run_id, [])
        chosen = [p for p in pending if p["environment"]["id"] in body["environment_ids"]]
        if not chosen:
            raise Reply(422, "Validation Failed",
                        errors=[{"resource": "Environment", "code": "invalid",
                                 "field": "environment_ids"}])
        self.add_run_approval(run_id, login, body["state"], body["comment"],
                              [p["environment"]["name"] for p in chosen])
        self.pending_deployments[run_id] = [p for p in pending if p not in chosen]
        return 200, []

    def op_repos__get_collaborator_permission_level(self, params: dict[str, str],
                                                    **_: Any) -> tuple[int, Any]:
        login = params["username"]
        if login not in self.collaborators:
            raise Reply(404, "Not Found")
        role = self.collaborators[login]
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        user = self._user(login)
        user["role_name"] = role
        user["permissions"] = {"admin": role == "admin", "maintain": role in ("admin", "maintain"),
                               "push": legacy in ("admin", "write"),
                               "triage": role != "read" and role != "none",
                               "pull": role != "none"}
        return 200, {"permission": legacy, "role_name": role, "user": user}

    def op_repos__create_release(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        return 201, self._new_release(body)

    def op_repos__get_release_by_tag(self, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        release = next((r for r in self.releases.values() if r["tag_name"] == params["tag"]), None)
        if release is None:
            raise Reply(404, "Not Found")
        return 200, release

    def op_repos__list_releases(self, query: dict[str, list[str]],
                                **_: Any) -> tuple[int, Any, dict[str, str]]:
        items = list(reversed(self.releases.values()))
        return self._page(items, query, f"/repos/{self.repository}/releases")


class _Handler(BaseHTTPRequestHandler):
    emulator: GitHubEmulator
    protocol_version = "HTTP/1.1"
    server_version = "GitHubEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, headers, data = self.emulator.handle(self.command, self.path,
                                                     dict(self.headers.items()), raw)
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


def _unknown_body_keys(op: Operation, body: Any) -> list[str]:
    schema = op.request_schema or {}
    props = schema.get("properties")
    if not isinstance(body, dict) or not props:
        return []
    return [f"{op.method} {op.template} ({op.operation_id}): request body has unknown field "
            f"{key!r}" for key in body if key not in props]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
