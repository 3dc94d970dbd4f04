"""A small GitHub REST client on ``requests``: retries, rate limits, pagination, clear errors.

Why not a full SDK: we call about twenty endpoints, and every failure must become one line
that says which call failed, what GitHub answered and what to change (usually the workflow's
``permissions:`` block). The token is only ever placed in the ``Authorization`` header; it is
scrubbed from every message and never logged.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from mlgate import __version__
from mlgate.errors import InputError
from mlgate.github.permissions import required_permission

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
NOT_ACCESSIBLE = "Resource not accessible by integration"

# Optional tuning from the environment (seconds): variable -> constructor option.
_TUNING = {
    "MLGATE_GITHUB_TIMEOUT_S": "timeout",
    "MLGATE_GITHUB_BACKOFF_S": "backoff_s",
    "MLGATE_GITHUB_MAX_WAIT_S": "max_rate_limit_wait_s",
}

log = logging.getLogger("mlgate.github")


class GitHubError(InputError):
    """A GitHub API call failed: names the call, the HTTP status and GitHub's message.

    It is an :class:`InputError` (exit 2) because every cause is something the user fixes:
    a token, a permission, a wrong number, or GitHub being unreachable.
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        github_message: str,
        hint: str = "",
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.status = status
        self.github_message = github_message
        self.hint = hint
        answer = f"GitHub answered {status} {github_message!r}" if status else github_message
        message = f"{answer}; {hint}" if hint else answer
        super().__init__(message, f"GitHub API {self.method} {path}")

    @property
    def call(self) -> str:
        return f"{self.method} {self.path}"


class GitHubClient:
    """Calls the GitHub REST API of one repository.

    ``path`` arguments are relative to the API URL (``/repos/{owner}/{repo}/pulls/1``); the
    literal placeholders ``{owner}`` and ``{repo}`` are replaced with :attr:`repository`.
    """

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        repository: str = "",
        *,
        timeout: float | tuple[float, float] = (10.0, 30.0),
        max_attempts: int = 4,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        max_rate_limit_wait_s: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        if not token:
            raise InputError("no GitHub token; set GITHUB_TOKEN", "GITHUB_TOKEN")
        self._token = token
        self.api_url = check_api_url(api_url or DEFAULT_API_URL).rstrip("/")
        self.repository = repository
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_rate_limit_wait_s = max_rate_limit_wait_s
        self._sleep = sleep
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"mlgate/{__version__}",
            }
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> GitHubClient:
        """Build a client from ``GITHUB_TOKEN``, ``GITHUB_API_URL`` and ``GITHUB_REPOSITORY``."""
        source = env if env is not None else os.environ
        token = source.get("GITHUB_TOKEN", "").strip()
        if not token:
            raise InputError(
                "no GitHub token; set GITHUB_TOKEN (in a workflow: "
                "`env: GITHUB_TOKEN: ${{ github.token }}`)",
                "GITHUB_TOKEN",
            )
        repository = source.get("GITHUB_REPOSITORY", "").strip()
        if repository and not re.fullmatch(r"[^/\s]+/[^/\s]+", repository):
            raise InputError(f"expected 'owner/name', got {repository!r}", "GITHUB_REPOSITORY")
        api_url = source.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
        for variable, option in _TUNING.items():
            text = source.get(variable, "").strip()
            if text and option not in kwargs:
                try:
                    kwargs[option] = float(text)
                except ValueError:
                    raise InputError(f"expected a number of seconds, got {text!r}",
                                     variable) from None
        return cls(token, api_url, repository, **kwargs)

    # -- convenience ------------------------------------------------------------------------

    @property
    def owner(self) -> str:
        return self.repository.partition("/")[0]

    @property
    def repo(self) -> str:
        return self.repository.partition("/")[2]

    def repo_path(self, suffix: str = "") -> str:
        """``/repos/OWNER/NAME`` + suffix; fails clearly when no repository is known."""
        if not self.repository:
            raise InputError("no repository; set GITHUB_REPOSITORY=owner/name", "GITHUB_REPOSITORY")
        return f"/repos/{self.repository}{suffix}"

    def get(self, path: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return _json(self.request("GET", path, params=params, **kw))

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return _json(self.request("POST", path, json=json, **kw))

    def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
        return _json(self.request("PATCH", path, json=json, **kw))

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return _json(self.request("PUT", path, json=json, **kw))

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, max_pages: int = 100, **kw: Any
    ) -> Iterator[Any]:
        """Yield every item of a list endpoint, following ``Link: <...>; rel="next"``.

        Endpoints that wrap the list (``{"total_count": n, "check_runs": [...]}``) yield the
        items of the wrapped list.
        """
        query = {"per_page": 100, **(params or {})}
        url: str | None = path
        pages = 0
        while url and pages < max_pages:
            response = self.request("GET", url, params=query if pages == 0 else None, **kw)
            pages += 1
            body = _json(response)
            if isinstance(body, dict):
                body = next((v for v in body.values() if isinstance(v, list)), [])
            yield from body or []
            url = response.links.get("next", {}).get("url")

    # -- the one place that talks HTTP --------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        what: str = "",
        timeout: float | tuple[float, float] | None = None,
        permission: str | None = None,
    ) -> requests.Response:
        """Send one API call with retries; return the response or raise :class:`GitHubError`.

        ``what`` names the object for a 404 (``pull request #12``) so the error says what is
        missing rather than only which URL. ``permission`` is the ``permissions:`` entry the
        feature this call serves needs, named on a 403 instead of the one the endpoint alone
        needs (reading the comments before writing one: ``pull-requests: write``).
        """
        method = method.upper()
        url = self._url(path)
        shown = self._shown_path(url)
        attempt = 0
        waited_for_limit = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, params=params, json=json, timeout=timeout or self.timeout
                )
            except requests.ConnectionError as exc:
                # Nothing reached GitHub (refused, DNS, connect timeout): safe to resend.
                log.debug("%s %s -> connection error (attempt %d)", method, shown, attempt)
                if attempt < self.max_attempts:
                    self._backoff(attempt)
                    continue
                raise GitHubError(
                    method,
                    shown,
                    None,
                    f"cannot reach GitHub at {self.api_url} after {attempt} attempt(s): "
                    f"{self._scrub(_reason(exc))}",
                    "check GITHUB_API_URL and that GitHub is up (https://www.githubstatus.com)",
                ) from None
            except requests.Timeout:
                log.debug("%s %s -> timeout (attempt %d)", method, shown, attempt)
                if method in IDEMPOTENT and attempt < self.max_attempts:
                    self._backoff(attempt)
                    continue
                raise GitHubError(
                    method,
                    shown,
                    None,
                    f"GitHub at {self.api_url} did not answer within "
                    f"{_seconds(timeout or self.timeout)} ({attempt} attempt(s))",
                ) from None
            log.debug(
                "%s %s -> %d (%.2fs, attempt %d)",
                method, shown, response.status_code, time.monotonic() - started, attempt,
            )
            if response.status_code < 400:
                return response
            wait = self._rate_limit_wait(response)
            if wait is not None:
                if wait > self.max_rate_limit_wait_s or waited_for_limit >= self.max_attempts:
                    raise self._error(method, shown, response, what, permission,
                                      rate_limit_wait=wait)
                log.info("rate limited on %s %s; waiting %.1fs", method, shown, wait)
                waited_for_limit += 1
                attempt -= 1  # a rate-limit wait is not a failed attempt
                self._sleep(wait)
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_attempts:
                self._backoff(attempt)
                continue
            raise self._error(method, shown, response, what, permission)

    # -- helpers -------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if self.repository:
            path = path.replace("{owner}", self.owner).replace("{repo}", self.repo)
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.api_url + "/", path.lstrip("/"))

    def _shown_path(self, url: str) -> str:
        base_path = urlsplit(self.api_url).path.rstrip("/")
        path = urlsplit(url).path
        return path[len(base_path):] if base_path and path.startswith(base_path) else path

    def _backoff(self, attempt: int) -> None:
        delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        self._sleep(delay * (0.5 + random.random() / 2))  # full jitter would allow 0

    def _rate_limit_wait(self, response: requests.Response) -> float | None:
        """Seconds to wait when a 403/429 is a rate limit, else None."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("Retry-After")
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return 60.0
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
            try:
                reset = float(headers["x-ratelimit-reset"])
            except ValueError:
                return 60.0
            return max(0.0, reset - time.time()) + 0.25
        if "rate limit" in _message(response).lower():
            return 60.0  # secondary rate limit without headers: GitHub asks for a minute
        return None

    def _error(
        self,
        method: str,
        path: str,
        response: requests.Response,
        what: str,
        permission: str | None = None,
        rate_limit_wait: float | None = None,
    ) -> GitHubError:
        status = response.status_code
        message = self._scrub(_message(response))
        hint = ""
        if rate_limit_wait is not None:
            hint = (
                f"rate limited; the limit resets in {rate_limit_wait:.0f}s, more than the "
                f"{self.max_rate_limit_wait_s:.0f}s mlgate waits"
            )
        elif status == 401:
            hint = "the token in GITHUB_TOKEN is invalid or expired"
        elif status == 403 and NOT_ACCESSIBLE.lower() in message.lower():
            permission = permission or required_permission(method, path)
            if not permission:
                hint = "the token lacks a permission for this endpoint"
            elif permission.startswith("administration"):
                hint = (f"the token needs `{permission}` (a fine-grained token or GitHub App "
                        "permission; a workflow's GITHUB_TOKEN cannot have it)")
            else:
                hint = f"add `{permission}` to the workflow's `permissions:`"
        elif status == 404:
            subject = what or "the resource"
            where = f" in {self.repository}" if self.repository else ""
            hint = (
                f"{subject} does not exist{where} (deleted, wrong number, or the token "
                "cannot see it)"
            )
        return GitHubError(method, path, status, message, hint)

    def _scrub(self, text: str) -> str:
        return scrub(text, self._token)


#: A token at least this long is removed wherever it appears. Every GitHub token is longer
#: (``ghs_``/``ghp_`` 40 characters, ``github_pat_`` 93).
SCRUB_ANYWHERE = 16
_WORD = "A-Za-z0-9_"
# What may stand right before a short token that counts as the token: no word character, or
# a word character that ends an escape (``%3A`` in a URL-encoded value; ``\n``, ``\0``,
# ``\x41`` or ``\u2028`` in a repr), since the escape, not the token, owns it.
_TOKEN_START = (rf"(?:(?<![{_WORD}])|(?<=%[0-9A-Fa-f]{{2}})|(?<=\\[A-Za-z0-9])"
                r"|(?<=\\x[0-9A-Fa-f]{2})|(?<=\\u[0-9A-Fa-f]{4})|(?<=\\U[0-9A-Fa-f]{8}))")
_TOKEN_END = rf"(?![{_WORD}])"


def scrub(text: str, token: str) -> str:
    """``text`` with every occurrence of the secret ``token`` replaced by ``***``.

    A long token (:data:`SCRUB_ANYWHERE`) goes wherever it is, even glued to letters: chance
    does not put sixteen characters of a secret inside a word, and a glued occurrence is still
    the secret (``%3A`` before it in an encoded URL, ``\\n`` before it in a repr). Removing a
    short token (a test's, a misconfigured one) everywhere would cut ``abc`` out of
    ``abcdef`` and garble the message, so it goes wherever it stands as a token of its own:
    in a URL, a header, JSON, after ``token `` or ``Bearer ``, between punctuation, after an
    escape; never from inside a longer word, where it is not the token.
    """
    if not token:
        return text
    if len(token) >= SCRUB_ANYWHERE:
        return text.replace(token, "***")
    start = _TOKEN_START if re.match(f"[{_WORD}]", token[0]) else ""
    end = _TOKEN_END if re.match(f"[{_WORD}]", token[-1]) else ""
    return re.sub(start + re.escape(token) + end, "***", text)


def check_api_url(url: str, source: str = "GITHUB_API_URL") -> str:
    """``url`` when it can be GitHub's REST API: http(s), with a host, nothing requests would
    refuse. Checked before any call, so a typo is bad input (exit 2) naming the variable, not an
    internal error from deep inside ``requests``."""
    wanted = f"expected an http(s) URL with a host, like {DEFAULT_API_URL}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check (``host:abc`` raises)
    except ValueError:
        raise InputError(f"{wanted}, got {url!r}", source) from None
    if parts.username is not None or parts.password is not None:
        # Not echoed: whatever sits before the @ is likely a secret.
        raise InputError("must not contain credentials (user:password@); the token goes in "
                         "GITHUB_TOKEN", source)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InputError(f"{wanted}, got {url!r}", source)
    try:
        requests.Request("GET", url + "/").prepare()
    except (requests.RequestException, ValueError):
        raise InputError(f"{wanted}, got {url!r}", source) from None
    return url


def _json(response: requests.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _message(response: requests.Response) -> str:
    """GitHub's ``message`` plus validation ``errors`` details, or the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        text = str(body["message"])
        details = []
        for err in body.get("errors") or []:
            if isinstance(err, dict):
                details.append(
                    str(err.get("message") or f"{err.get('field')} {err.get('code')}".strip())
                )
            else:
                details.append(str(err))
        return f"{text} ({'; '.join(details)})" if details else text
    return response.reason or f"HTTP {response.status_code}"


def _reason(exc: Exception) -> str:
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^')\]]+)", text)
    return match.group(1) if match else type(exc).__name__


def _seconds(timeout: float | tuple[float, float]) -> str:
    value = timeout[1] if isinstance(timeout, tuple) else timeout
    return f"{value:g}s"
