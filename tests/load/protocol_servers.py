"""Small local servers that speak one model-serving protocol each and check requests strictly.

Each validates the request body against its protocol's documented shape (the same pages
:mod:`mlgate.load.protocols` cites), answers as the real server would (``{"predictions": ...}``
or ``{"error": ...}`` with 400), and records every request as valid or not (with the reason),
so a test can assert that a load test sent nothing but well-formed requests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Validator = Callable[[str, Any], int]  # (path, document) -> rows predicted; raises Invalid


class Invalid(Exception):
    pass


def _scalar(value: Any, where: str, nullable: bool) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str | int | float | bool) or value is None:
        raise Invalid(f"{where}: {value!r} is not a scalar")


def _record(row: Any, columns: list[str], where: str, nullable: bool) -> None:
    if not isinstance(row, dict):
        raise Invalid(f"{where} is not an object")
    if list(row) != columns:
        raise Invalid(f"{where} has keys {list(row)}, expected {columns}")
    for key, value in row.items():
        _scalar(value, f"{where}.{key}", nullable)


def tfserving(model: str, columns: list[str]) -> tuple[str, Validator]:
    """Predict API, row format with named inputs: ``{"instances": [{input: value}, ...]}``;
    tensors hold no null. https://www.tensorflow.org/tfx/serving/api_rest"""

    def check(path: str, doc: Any) -> int:
        if path != f"/v1/models/{model}:predict":
            raise Invalid(f"path {path}")
        if not isinstance(doc, dict) or set(doc) - {"instances", "signature_name"} \
                or "instances" not in doc:
            raise Invalid("body must be {\"instances\": [...]} (optional signature_name)")
        instances = doc["instances"]
        if not isinstance(instances, list) or not instances:
            raise Invalid("instances must be a non-empty list")
        for i, row in enumerate(instances):
            _record(row, columns, f"instances[{i}]", nullable=False)
        return len(instances)

    return "/v1/models/" + model, check


def mlflow(columns: list[str]) -> tuple[str, Validator]:
    """Scoring server: exactly one of dataframe_split / dataframe_records / instances /
    inputs; dataframe_split has columns and rows of that width; null allowed."""

    def check(path: str, doc: Any) -> int:
        if path != "/invocations":
            raise Invalid(f"path {path}")
        keys = {"dataframe_split", "dataframe_records", "instances", "inputs"}
        if not isinstance(doc, dict) or len(set(doc) & keys) != 1 or set(doc) - keys - {"params"}:
            raise Invalid(f"body must have exactly one of {sorted(keys)}")
        split = doc.get("dataframe_split")
        if not isinstance(split, dict) or set(split) - {"columns", "data", "index"}:
            raise Invalid("dataframe_split must be {columns, data}")
        if split.get("columns") != columns:
            raise Invalid(f"columns {split.get('columns')}, expected {columns}")
        data = split.get("data")
        if not isinstance(data, list) or not data:
            raise Invalid("data must be a non-empty list of rows")
        for i, row in enumerate(data):
            if not isinstance(row, list) or len(row) != len(columns):
                raise Invalid(f"data[{i}] is not a row of {len(columns)} values")
            for j, value in enumerate(row):
                _scalar(value, f"data[{i}][{j}]", nullable=True)
        return len(data)

    return "/ping", check


def torchserve(model: str, columns: list[str]) -> tuple[str, Validator]:
    """Predictions API: the JSON body goes to the handler; this one takes a row object or an
    array of them. https://pytorch.org/serve/inference_api.html"""

    def check(path: str, doc: Any) -> int:
        if path != f"/predictions/{model}":
            raise Invalid(f"path {path}")
        rows = doc if isinstance(doc, list) else [doc]
        if isinstance(doc, list) and len(doc) < 2:
            raise Invalid("an array body carries a batch (one row is sent as an object)")
        for i, row in enumerate(rows):
            _record(row, columns, f"row {i}", nullable=True)
        return len(rows)

    return "/ping", check


def bentoml(api: str, param: str, columns: list[str]) -> tuple[str, Validator]:
    """A BentoML 1.2+ API: ``POST /{api}`` with ``{param: value}`` for the method's
    parameters; here ``param: list[dict]`` (records)."""

    def check(path: str, doc: Any) -> int:
        if path != f"/{api}":
            raise Invalid(f"path {path}")
        if not isinstance(doc, dict) or list(doc) != [param]:
            raise Invalid(f"body must be {{{param!r}: [...]}}")
        rows = doc[param]
        if not isinstance(rows, list) or not rows:
            raise Invalid(f"{param} must be a non-empty list of records")
        for i, row in enumerate(rows):
            _record(row, columns, f"{param}[{i}]", nullable=True)
        return len(rows)

    return "/readyz", check


class ProtocolServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, health: str, check: Validator) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.health = health
        self.check = check
        self.valid = 0
        self.invalid: list[str] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ProtocolServer

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, document: Any) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == self.server.health:
            self._send(200, {"status": "Healthy"})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if self.headers.get("Content-Type") != "application/json":
                raise Invalid(f"Content-Type {self.headers.get('Content-Type')!r}")
            try:
                doc = json.loads(body, parse_constant=_no_constant)
            except ValueError as exc:
                raise Invalid(f"not JSON: {exc}") from None
            rows = self.server.check(self.path, doc)
        except Invalid as exc:
            with self.server.lock:
                self.server.invalid.append(str(exc))
            self._send(400, {"error": str(exc)})
            return
        with self.server.lock:
            self.server.valid += 1
        self._send(200, {"predictions": [0] * rows})


def _no_constant(name: str) -> Any:
    raise Invalid(f"{name} is not JSON")


def start(health: str, check: Validator) -> ProtocolServer:
    server = ProtocolServer(health, check)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
