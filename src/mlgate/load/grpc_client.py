"""The load generator over gRPC: Open Inference Protocol ``ModelInfer`` calls on a schedule.

KServe, Triton and MLServer answer the Open Inference Protocol over gRPC on their own port as
well as over REST. Here each due request (:class:`mlgate.load.pacing.Paced`) becomes one unary
``ModelInfer`` call on a single ``grpc.aio`` channel per process (HTTP/2 multiplexes the calls;
at most ``Plan.connections_per_process()`` are in flight, the rest wait for one to finish, like
HTTP requests waiting for a free connection). The messages are pre-built bytes
(:mod:`mlgate.load.oip_wire`) and the answer is not decoded: its status is what counts.

Outcomes, in the HTTP generator's words where they mean the same: an OK status is a success;
``DEADLINE_EXCEEDED`` (``Plan.timeout``) is ``timeout``, timed; ``UNAVAILABLE`` is a
``connection error`` (untimed: nothing answered); any other status is an error named after it
(``gRPC INVALID_ARGUMENT``), timed, since the server answered.

URLs: ``grpc://host:port`` (plaintext) and ``grpcs://host:port`` (TLS, verified against the
system store and certifi's, or ``Plan.ca_file``; ``Plan.insecure`` is refused: gRPC has no
switch to skip verification); ``http://`` and ``https://`` mean the same, so that a started
target's URL can be used. Needs the ``grpc`` extra (``grpcio``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from mlgate.errors import InputError
from mlgate.load.oip_wire import MODEL_INFER
from mlgate.load.pacing import Paced
from mlgate.load.stats import Recorder

SCHEMES = {"grpc": False, "http": False, "grpcs": True, "https": True}  # scheme -> TLS


def require_grpc(source: str = "load.payload.protocol") -> Any:
    """The grpc module, or the one-line error saying how to get it."""
    try:
        import grpc
        import grpc.aio  # the asyncio API is a separate module
    except ImportError:
        raise InputError("the Open Inference Protocol over gRPC needs grpcio: "
                         "pip install 'mlgate[grpc]'", source) from None
    return grpc


def grpc_target(url: str) -> tuple[str, bool]:
    """``host:port`` to dial and whether to use TLS; ValueError for what is no gRPC URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise ValueError(f"expected a grpc://, grpcs://, http:// or https:// URL, got {url!r}")
    if parts.path not in ("", "/"):
        raise ValueError(f"a gRPC target is host:port, without a path: got {url!r}")
    tls = SCHEMES[scheme]
    port = parts.port or (443 if tls else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}", tls


def root_certificates(ca_file: str | None) -> bytes:
    """The PEM bundle a grpcs:// target is verified against (gRPC takes one bundle)."""
    if ca_file:
        with open(ca_file, "rb") as f:
            return f.read()
    import ssl

    paths = ssl.get_default_verify_paths()
    chunks = []
    candidates = [paths.cafile, paths.openssl_cafile]
    try:
        import certifi

        candidates.append(certifi.where())
    except ImportError:
        pass
    for path in candidates:
        if path:
            try:
                with open(path, "rb") as f:
                    chunks.append(f.read())
            except OSError:
                continue
    return b"\n".join(chunks)


def metadata(headers: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Request headers as gRPC metadata (lower-case keys; HTTP/1 framing headers dropped)."""
    skip = {"content-type", "content-length", "host", "connection", "user-agent", "accept"}
    return tuple((k.lower(), v) for k, v in headers.items() if k.lower() not in skip)


def open_channel(plan: Any, aio: bool) -> Any:
    """A channel to the plan's target (``grpc.aio`` for the run, blocking for the preflight)."""
    grpc = require_grpc()
    target, tls = grpc_target(plan.url)
    if plan.insecure:
        raise InputError("gRPC cannot skip certificate verification: trust the server's CA "
                         "with load.target.ca_file instead", "load.target.insecure")
    module = grpc.aio if aio else grpc
    options = [("grpc.enable_retries", 0), ("grpc.max_receive_message_length", 64 << 20)]
    if tls:
        credentials = grpc.ssl_channel_credentials(root_certificates(plan.ca_file))
        return module.secure_channel(target, credentials, options=options)
    return module.insecure_channel(target, options=options)


def outcome(grpc: Any, code: Any) -> tuple[str | None, bool]:
    """(error reason or None, whether its latency is timed) of a finished call."""
    if code == grpc.StatusCode.OK:
        return None, True
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return "timeout", True
    if code == grpc.StatusCode.UNAVAILABLE:
        return "connection error", False
    return f"gRPC {code.name}", True


class GrpcClient(Paced):
    """This process's share of the schedule as ModelInfer calls on one channel."""

    def __init__(self, plan: Any, t0: float, first: int, step: int, recorder: Recorder,
                 tick: Callable[[Recorder], None] | None) -> None:
        super().__init__(plan, t0, first, step, recorder, tick)
        self.grpc = require_grpc()
        self.channel = open_channel(plan, aio=True)
        self.infer = self.channel.unary_unary(MODEL_INFER)  # bytes in, bytes out
        self.bodies: list[bytes] = plan.bodies or [b""]
        self.metadata = metadata(plan.headers)
        self.running = 0
        self.tasks: set[Any] = set()

    def in_flight(self) -> bool:
        return self.running > 0

    def dispatch(self, slot: int, intended: float, retried: bool) -> None:
        if self.running >= self.limit:
            self.waiting.append((slot, intended, retried))
            return
        self.running += 1
        task = self.loop.create_task(self._call(slot, intended))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _call(self, slot: int, intended: float) -> None:
        sent = time.monotonic()
        try:
            await self.infer(self.bodies[slot % len(self.bodies)], timeout=self.timeout,
                             metadata=self.metadata)
            error, timed = None, True
        except self.grpc.aio.AioRpcError as exc:
            error, timed = outcome(self.grpc, exc.code())
        self.recorder.record(intended, sent, time.monotonic(), error, timed)
        self.running -= 1
        if self.waiting:
            self.dispatch(*self.waiting.popleft())
        self.check_done()

    async def shutdown(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.channel.close()
