"""``mlgate serve``: a small HTTP server for a scikit-learn model, so a PR can load-test it.

``POST /predict`` takes ``{"rows": [{column: value, ...}, ...]}`` (or a bare list of row
objects) and answers ``{"predictions": [...], "probabilities": [...]}`` (the latter when the
model has ``predict_proba``). ``GET /health`` answers ``{"status": "ok", "model": ...}``. Bad
JSON, wrong columns or values the model rejects get a 400 with a JSON error; nothing a client
sends can stop the server. It also speaks the Open Inference Protocol (KServe v2) REST API
(:mod:`mlgate.load.oip`): ``POST /v2/models/NAME/infer``, ``GET /v2/models/NAME[/ready]``,
``GET /v2/health/live``, ``GET /v2/health/ready`` and ``GET /v2``. The standard library's
threading server keeps it dependency-free and good for a few hundred requests per second,
which is what a gate needs to compare models.
"""

from __future__ import annotations

import json
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.bounded import loads_json
from mlgate.errors import InputError
from mlgate.load.oip import BadRequest

if TYPE_CHECKING:
    from mlgate.model.loading import LoadRules

MAX_BODY = 16 * 2**20


class ModelServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], model: Any, label: str,
                 model_name: str = "model") -> None:
        super().__init__(address, PredictHandler)
        self.model = model
        self.label = label
        self.model_name = model_name  # what the Open Inference Protocol calls it
        self.columns: list[str] | None = (
            [str(c) for c in model.feature_names_in_]
            if getattr(model, "feature_names_in_", None) is not None
            else None
        )
        self.has_proba = callable(getattr(model, "predict_proba", None))

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


__all__ = ["BadRequest", "ModelServer", "serve_model"]


class PredictHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: load generators reuse connections
    server: ModelServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown the load test's own output

    def do_GET(self) -> None:
        from mlgate import __version__
        from mlgate.load.oip import metadata

        path = self.path.split("?")[0].rstrip("/")
        model = f"/v2/models/{self.server.model_name}"
        if path == "/health":
            self._send(HTTPStatus.OK, {"status": "ok", "model": self.server.label})
        elif path == "/v2/health/live":
            self._send(HTTPStatus.OK, {"live": True})
        elif path == "/v2/health/ready":
            self._send(HTTPStatus.OK, {"ready": True})
        elif path == "/v2":
            self._send(HTTPStatus.OK, {"name": "mlgate", "version": __version__,
                                       "extensions": []})
        elif path == model:
            self._send(HTTPStatus.OK, metadata(self.server))
        elif path == model + "/ready":
            self._send(HTTPStatus.OK, {"name": self.server.model_name, "ready": True})
        elif path.startswith("/v2/models/"):
            self._send(HTTPStatus.NOT_FOUND, self._unknown_model())
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such path {self.path}; try /health"})

    def _unknown_model(self) -> dict[str, str]:
        return {"error": f"no such model or path {self.path}; this server serves "
                f"{self.server.model_name!r} (POST /v2/models/{self.server.model_name}/infer)"}

    def do_POST(self) -> None:
        body = self._read_body()
        if body is None:
            return
        path = self.path.split("?")[0]
        oip = path == f"/v2/models/{self.server.model_name}/infer"
        if not oip and path.startswith("/v2/"):
            self._send(HTTPStatus.NOT_FOUND, self._unknown_model())
            return
        if not oip and path != "/predict":
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such path {self.path}; try /predict"})
            return
        try:
            if oip:
                from mlgate.load.oip import infer

                self._send(HTTPStatus.OK, infer(self.server, parse_json(body)))
                return
            rows = parse_rows(body)
            self._send(HTTPStatus.OK, predict(self.server, rows))
        except BadRequest as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception as exc:  # a model that raises on odd input must not kill the server
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"}
            )

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            status = HTTPStatus.BAD_REQUEST if length < 0 else HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            self._send(status, {"error": "missing, bad or too large Content-Length"})
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def parse_json(body: bytes) -> Any:
    try:
        return loads_json(body or b"null", "request body")
    except InputError as exc:  # malformed, or nested too deep to parse safely
        raise BadRequest(f"body is not valid JSON: {exc.message}") from exc


def parse_rows(body: bytes) -> list[dict[str, Any]]:
    document = parse_json(body)
    rows = document.get("rows") if isinstance(document, dict) else document
    if not isinstance(rows, list) or not rows:
        raise BadRequest('expected {"rows": [{column: value, ...}, ...]} or a list of rows')
    if not all(isinstance(r, dict) for r in rows):
        raise BadRequest("every row must be a JSON object of column: value")
    return rows


def predict(server: ModelServer, rows: list[dict[str, Any]]) -> dict[str, Any]:
    import pandas as pd

    frame = pd.DataFrame.from_records(rows)
    if server.columns is not None:
        missing = [c for c in server.columns if c not in frame.columns]
        if missing:
            raise BadRequest(f"missing columns: {', '.join(missing)}")
        frame = frame[server.columns]
    try:
        out: dict[str, Any] = {"predictions": server.model.predict(frame).tolist()}
        if server.has_proba:
            out["probabilities"] = server.model.predict_proba(frame).tolist()
    except (ValueError, TypeError, KeyError) as exc:
        raise BadRequest(f"the model rejected the rows: {exc}") from exc
    return out


def serve_model(
    model_path: Path,
    host: str,
    port: int,
    rules: LoadRules | None = None,
    ready: threading.Event | None = None,
    label: str | None = None,
    from_ledger: bool = False,
    model_name: str | None = None,
) -> ModelServer:
    """Load the model under ``rules`` (the model gate's: mlgate.yaml's ``model:`` section and
    flags) and bind; the caller runs ``serve_forever``. ``label`` names what is served (default:
    the file name; a ledger version when it came from git, then ``from_ledger``);
    ``model_name`` is its name over the Open Inference Protocol (default: the file's stem)."""
    from mlgate.model.loading import load_model

    model = load_model(model_path, rules, from_ledger=from_ledger)
    if not callable(getattr(model, "predict", None)):
        raise InputError("the loaded object has no predict() method", model_path)
    name = label or model_path.name
    try:
        server = ModelServer((host, port), model, name, model_name or model_path.stem)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}", "--port") from exc
    print(f"mlgate serve: {name} on {server.url} (POST /predict, GET /health; Open Inference "
          f"Protocol: POST /v2/models/{server.model_name}/infer)",
          file=sys.stdout, flush=True)
    if ready is not None:
        ready.set()
    return server
