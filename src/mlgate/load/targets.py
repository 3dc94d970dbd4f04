"""What a load test is pointed at, and the guarantee that whatever we start is stopped.

Four kinds: ``url`` (an endpoint that is already running), ``command`` (a process we start,
wait for, and stop), ``serve`` (``mlgate serve`` on a model file, a special command) and
``image`` (a container, see :mod:`mlgate.load.docker_target`). Each is a context manager: the
process group is terminated (SIGTERM, then SIGKILL) and the container removed in ``finally``,
which also runs on a failed health check, a Ctrl-C, or a SIGTERM from the CI runner (turned
into KeyboardInterrupt while a target is up).
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from mlgate.errors import InputError

URL_LINE = re.compile(r"(https?://[^\s]+)")


@dataclass
class TargetSpec:
    """Where requests go. ``source`` is how error messages name the setting."""

    kind: str  # url | command | serve | image
    url: str | None = None
    command: str | None = None
    health: str | None = None
    image: str | None = None
    container_port: int = 8080
    container_command: str | list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    model: Path | None = None
    allow_pickle: bool = False
    config: Path | None = None  # serve: the mlgate.yaml whose model: rules `mlgate serve` uses
    model_name: str | None = None  # serve: the name it answers to over the Open Inference Protocol
    startup_timeout: float = 30.0
    path: str | None = None  # endpoint path on a started target (default depends on kind)
    ca_file: str | None = None  # https/grpcs: PEM certificates to trust instead of the defaults
    insecure: bool = False  # https: skip certificate verification
    insecure_source: str = "--insecure"
    grpc: bool = False  # the payload protocol speaks gRPC: grpc(s):// URLs are accepted
    source: str = "--url"
    cwd: Path | None = None


@dataclass
class RunningTarget:
    """A reachable target: the URL to load, and what we learned about it."""

    url: str
    description: str
    pid: int | None = None
    container_id: str | None = None
    image_id: str | None = None  # the local image's id (sha256:...), for an image target
    resources: dict[str, Any] = field(default_factory=dict)
    log_tail: list[str] = field(default_factory=list)


def join_url(base: str, path: str | None) -> str:
    if not path:
        return base
    return urljoin(base if base.endswith("/") else base + "/", path.lstrip("/"))


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def open_target(spec: TargetSpec) -> Iterator[RunningTarget]:
    """Start (if needed) and yield the target; always stop what was started."""
    with sigterm_as_interrupt():
        if spec.kind == "url":
            assert spec.url
            _check_url(spec.url, spec.source, spec.grpc)
            yield RunningTarget(join_url(spec.url, spec.path), f"URL {spec.url}")
        elif spec.kind in ("command", "serve"):
            with _process_target(spec) as target:
                yield target
        elif spec.kind == "image":
            from mlgate.load.docker_target import docker_target

            with docker_target(spec) as target:
                yield target
        else:
            raise InputError(f"unknown target kind {spec.kind!r}", spec.source)


def _check_url(url: str, source: str, grpc: bool = False) -> None:
    parts = urlsplit(url)
    if grpc:
        from mlgate.load.grpc_client import grpc_target

        try:
            grpc_target(url)
        except ValueError as exc:
            raise InputError(str(exc), source) from None
        return
    if parts.scheme not in ("http", "https") or not parts.netloc:
        hint = " (grpc:// targets need load.payload.protocol: oip-grpc)" \
            if parts.scheme in ("grpc", "grpcs") else ""
        raise InputError(f"expected an http(s) URL, got {url!r}{hint}", source)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While a target runs, SIGTERM (a cancelled CI job) unwinds like Ctrl-C, so cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class OutputTail:
    """Drains a child's stdout (so it never blocks on a full pipe) and keeps the last lines."""

    def __init__(self, stream: Any, keep: int = 40) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self.url: str | None = None
        self.url_seen = threading.Event()
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: Any) -> None:
        for line in iter(stream.readline, ""):
            text = line.rstrip()
            self.lines.append(text)
            if self.url is None:
                match = URL_LINE.search(text)
                if match:
                    self.url = match.group(1).rstrip("/")
                    self.url_seen.set()
        stream.close()

    def last(self, n: int = 3) -> str:
        return " | ".join(line for line in list(self.lines)[-n:] if line.strip())


def start_process(argv: list[str], env: dict[str, str], cwd: Path | None) -> subprocess.Popen[str]:
    """Start in a new session (own process group) so that stopping it stops its children too."""
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        start_new_session=True,
    )


def stop_process(proc: subprocess.Popen[str], grace: float = 5.0) -> None:
    """SIGTERM the whole process group, SIGKILL what is left after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # Children that ignored SIGTERM after the leader exited still share its group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def wait_healthy(
    health_url: str,
    timeout: float,
    dead: Callable[[], str | None],
    source: str | None = None,
) -> None:
    """Poll ``health_url`` until it answers 2xx; ``dead()`` explains an early exit, or None."""
    import requests

    deadline = time.monotonic() + timeout
    last = "no answer"
    pause = 0.05
    while True:
        reason = dead()
        if reason:
            raise InputError(reason, source or health_url)
        try:
            wait = max(0.2, min(2.0, deadline - time.monotonic()))
            answer = requests.get(health_url, timeout=wait)
            if 200 <= answer.status_code < 300:
                return
            last = f"HTTP {answer.status_code}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        if time.monotonic() >= deadline:
            raise InputError(
                f"health check did not pass within {timeout:g}s (last answer: {last})",
                health_url,
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


@contextlib.contextmanager
def _process_target(spec: TargetSpec) -> Iterator[RunningTarget]:
    if spec.kind == "serve":
        assert spec.model is not None
        argv = [sys.executable, "-m", "mlgate", "serve", "--model", str(spec.model),
                "--host", "127.0.0.1", "--port", "0"]
        if spec.config is not None:  # the model gate's loading rules (model: section)
            argv += ["--config", str(spec.config.absolute())]
        if spec.allow_pickle:
            argv.append("--allow-pickle")
        if spec.model_name:
            argv += ["--model-name", spec.model_name]
        label = f"mlgate serve {spec.model}"
    else:
        assert spec.command
        port = free_port() if "{port}" in spec.command or "{port}" in (spec.health or "") else 0
        command = spec.command.replace("{port}", str(port))
        argv = ["/bin/sh", "-c", command]
        label = f"command {shlex.quote(command)}"
    try:
        proc = start_process(argv, spec.env, spec.cwd)
    except OSError as exc:
        raise InputError(f"cannot start: {exc}", spec.source) from exc
    assert proc.stdout is not None
    tail = OutputTail(proc.stdout)
    target: RunningTarget | None = None
    try:
        if spec.kind == "serve":
            base = _wait_for_url(proc, tail, spec)
            health = base + "/health"
            url = join_url(base, spec.path or "/predict")
        else:
            assert spec.health
            health = spec.health.replace("{port}", str(port))
            _check_url(health, spec.source)
            if spec.url:
                _check_url(spec.url.replace("{port}", str(port)), spec.source, spec.grpc)
            url = (
                join_url(spec.url.replace("{port}", str(port)), spec.path)
                if spec.url
                else join_url(origin(health), spec.path or "/")
            )

        def dead() -> str | None:
            code = proc.poll()
            if code is None:
                return None
            return f"{label} exited with code {code} before {health} answered: {tail.last()}"

        wait_healthy(health, spec.startup_timeout, dead)
        target = RunningTarget(url, label, pid=proc.pid)
        yield target
    finally:
        stop_process(proc)
        if target is not None:
            target.log_tail = list(tail.lines)


def _wait_for_url(proc: subprocess.Popen[str], tail: OutputTail, spec: TargetSpec) -> str:
    """``mlgate serve --port 0`` prints its URL; wait for that line (or for it to fail)."""
    deadline = time.monotonic() + spec.startup_timeout
    while not tail.url_seen.wait(0.1):
        if proc.poll() is not None:
            time.sleep(0.1)  # let the drain thread read the last words
            message = tail.last(1) or f"exited with code {proc.returncode}"
            message = message.removeprefix("mlgate: error: ").removeprefix(f"{spec.model}: ")
            raise InputError(f"mlgate serve failed: {message}", spec.model)
        if time.monotonic() > deadline:
            raise InputError(
                f"mlgate serve did not start within {spec.startup_timeout:g}s", spec.model
            )
    assert tail.url
    return tail.url
