"""A local Open Inference Protocol gRPC server, built from the protocol's generated code.

KServe, Triton and MLServer cannot be installed here; tritonclient (PyPI) ships the generated
messages and service of the protocol's ``grpc_service.proto`` (package ``inference``), so this
server parses what mlgate sends with code generated from the protocol definition, not with
mlgate's own encoder. It checks each ``ModelInfer`` request as a strict server would (the model
it serves, one 1-D tensor per column, contents matching the datatype and the shape) and records
the rows it received.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc

with warnings.catch_warnings():  # generated for protobuf 6; the runtime here may be newer
    warnings.simplefilter("ignore")
    from tritonclient.grpc import service_pb2, service_pb2_grpc

CONTENTS = {
    "BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents",
    "INT32": "int_contents", "INT64": "int64_contents", "UINT8": "uint_contents",
    "UINT16": "uint_contents", "UINT32": "uint_contents", "UINT64": "uint64_contents",
    "FP32": "fp32_contents", "FP64": "fp64_contents", "BYTES": "bytes_contents",
}


@dataclass
class Behaviour:
    model: str = "churn"
    delay: float = 0.0  # seconds before answering
    status: grpc.StatusCode | None = None  # answer every call with this error


@dataclass
class Received:
    rows: list[dict[str, Any]] = field(default_factory=list)
    datatypes: dict[str, str] = field(default_factory=dict)
    metadata: list[dict[str, str]] = field(default_factory=list)
    calls: int = 0
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Inference(service_pb2_grpc.GRPCInferenceServiceServicer):
    def __init__(self, behaviour: Behaviour, received: Received) -> None:
        self.behaviour = behaviour
        self.received = received

    def ModelInfer(self, request: Any, context: Any) -> Any:  # the RPC's name
        with self.received.lock:
            self.received.calls += 1
            self.received.metadata.append(dict(context.invocation_metadata()))
        if self.behaviour.delay:
            time.sleep(self.behaviour.delay)
        if self.behaviour.status is not None:
            context.abort(self.behaviour.status, "told to fail")
        if request.model_name != self.behaviour.model:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown model {request.model_name!r}")
        columns: dict[str, list[Any]] = {}
        rows = None
        for tensor in request.inputs:
            problem = self._check(tensor)
            if problem:
                with self.received.lock:
                    self.received.problems.append(problem)
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
            values = list(getattr(tensor.contents, CONTENTS[tensor.datatype]))
            if tensor.datatype == "BYTES":
                values = [v.decode("utf-8") for v in values]
            columns[tensor.name] = values
            rows = tensor.shape[0]
            with self.received.lock:
                self.received.datatypes[tensor.name] = tensor.datatype
        assert rows is not None
        with self.received.lock:
            self.received.rows += [{c: v[i] for c, v in columns.items()} for i in range(rows)]
        output = service_pb2.ModelInferResponse.InferOutputTensor(
            name="predict", datatype="INT64", shape=[rows])
        output.contents.int64_contents.extend([0] * rows)
        return service_pb2.ModelInferResponse(model_name=request.model_name, id=request.id,
                                              outputs=[output])

    @staticmethod
    def _check(tensor: Any) -> str | None:
        if tensor.datatype not in CONTENTS:
            return f"{tensor.name}: unknown datatype {tensor.datatype}"
        if len(tensor.shape) != 1:
            return f"{tensor.name}: expected a 1-D tensor, got shape {list(tensor.shape)}"
        given = [f.name for f, _ in tensor.contents.ListFields()]
        if given != [CONTENTS[tensor.datatype]]:
            return f"{tensor.name}: {tensor.datatype} data in {given}"
        if len(getattr(tensor.contents, given[0])) != tensor.shape[0]:
            return f"{tensor.name}: shape {tensor.shape[0]} but other count of values"
        return None


@contextmanager
def oip_grpc_server(behaviour: Behaviour | None = None,
                    tls: tuple[bytes, bytes] | None = None) -> Iterator[tuple[str, Received]]:
    """A running server on 127.0.0.1; yields ``host:port`` and what it received. ``tls`` is
    (certificate PEM, key PEM) for a grpcs:// server."""
    received = Received()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(
        Inference(behaviour or Behaviour(), received), server)
    if tls:
        credentials = grpc.ssl_server_credentials([(tls[1], tls[0])])
        port = server.add_secure_port("127.0.0.1:0", credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", received
    finally:
        server.stop(grace=None)
