"""Open Inference Protocol (KServe v2) gRPC messages, encoded by hand.

The load generator sends one message type, ``inference.ModelInferRequest``, pre-built before
the clock starts, and only needs the status of the answer. Encoding its few fields with the
protobuf wire format directly keeps the ``grpc`` extra to ``grpcio`` alone (no generated code,
no protobuf runtime to match). Field numbers are those of the protocol's ``grpc_predict_v2.proto``
(https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol):

- ``ModelInferRequest``: ``model_name`` 1, ``model_version`` 2, ``id`` 3, ``inputs`` 5
- ``InferInputTensor``: ``name`` 1, ``datatype`` 2, ``shape`` 3 (packed int64), ``contents`` 5
- ``InferTensorContents``: ``bool_contents`` 1, ``int_contents`` 2, ``int64_contents`` 3,
  ``uint_contents`` 4, ``uint64_contents`` 5, ``fp32_contents`` 6, ``fp64_contents`` 7,
  ``bytes_contents`` 8 (numbers packed, proto3's default)

tests/load/test_oip_grpc.py checks every datatype against a server built from the protocol's
generated code.
"""

from __future__ import annotations

import struct
from typing import Any

SERVICE = "inference.GRPCInferenceService"
MODEL_INFER = f"/{SERVICE}/ModelInfer"

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# datatype -> (InferTensorContents field, how one value is packed)
_CONTENTS: dict[str, tuple[int, str]] = {
    "BOOL": (1, "varint"),
    "INT8": (2, "varint"), "INT16": (2, "varint"), "INT32": (2, "varint"),
    "INT64": (3, "varint"),
    "UINT8": (4, "varint"), "UINT16": (4, "varint"), "UINT32": (4, "varint"),
    "UINT64": (5, "varint"),
    "FP32": (6, "<f"),
    "FP64": (7, "<d"),
    "BYTES": (8, "bytes"),
}


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # two's complement over ten bytes, as protobuf sends negative ints
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _key(field, _LEN) + _varint(len(payload)) + payload


def _string(field: int, text: str) -> bytes:
    return _length_delimited(field, text.encode("utf-8")) if text else b""


def _contents(datatype: str, values: list[Any]) -> bytes:
    field, packing = _CONTENTS[datatype]
    if packing == "bytes":
        return b"".join(_length_delimited(field, v if isinstance(v, bytes)
                                          else str(v).encode("utf-8")) for v in values)
    if packing == "varint":
        packed = b"".join(_varint(int(v)) for v in values)
    else:
        packed = struct.pack(f"<{len(values)}{packing[1]}", *(float(v) for v in values))
    return _length_delimited(field, packed) if values else b""


def _tensor(tensor: dict[str, Any]) -> bytes:
    datatype = str(tensor["datatype"])
    if datatype not in _CONTENTS:
        raise ValueError(f"datatype {datatype} has no typed contents field")
    shape = b"".join(_varint(int(d)) for d in tensor["shape"])
    return (_string(1, str(tensor["name"])) + _string(2, datatype)
            + _length_delimited(3, shape)
            + _length_delimited(5, _contents(datatype, list(tensor["data"]))))


def model_infer_request(document: dict[str, Any], model_name: str,
                        model_version: str = "") -> bytes:
    """The ModelInferRequest of a REST inference request ``{"inputs": [tensor, ...]}``."""
    out = _string(1, model_name) + _string(2, model_version)
    if document.get("id"):
        out += _string(3, str(document["id"]))
    for tensor in document["inputs"]:
        out += _length_delimited(5, _tensor(tensor))
    return out
