"""Payload presets: the request bodies and paths that model servers speak, built from data rows.

``load.payload.protocol`` picks one; each preset decides the body (from ``rows_per_request`` rows
sampled from the data file), the endpoint path under the target's base URL (given the model
name) and the content type. The formats, as their servers document them:

- ``mlgate``: ``{"rows": [{column: value}, ...]}`` to ``/predict`` (``mlgate serve``; the
  template applies).
- ``oip`` / ``kserve-v2``: the Open Inference Protocol (KServe v2) REST inference request,
  ``POST /v2/models/{name}/infer`` with ``{"inputs": [{"name", "shape", "datatype", "data"}]}``,
  one 1-D tensor per column (shape ``[n]``), datatypes ``BOOL``, ``INT64``/``UINT64``,
  ``FP32``/``FP64`` and ``BYTES`` (strings). Tensor data has no null, so a missing value is
  bad input. https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol
- ``oip-grpc`` / ``kserve-v2-grpc``: the same tensors as a ``ModelInferRequest`` of the
  protocol's gRPC service (``inference.GRPCInferenceService/ModelInfer``), to a
  ``grpc://host:port`` (or ``grpcs://``) target; needs the ``grpc`` extra
  (:mod:`mlgate.load.grpc_client`).
- ``tfserving``: TensorFlow Serving's Predict API, row format,
  ``POST /v1/models/{name}:predict`` with ``{"instances": [{column: value}, ...]}`` (named
  inputs). Tensors have no null either. https://www.tensorflow.org/tfx/serving/api_rest
- ``mlflow``: the MLflow scoring server, ``POST /invocations`` with
  ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}``; null reads back as NaN.
  https://mlflow.org/docs/latest/genai/serving (and "Deploy MLflow Model as a Local Inference
  Server", https://mlflow.org/docs/2.11.1/deployment/deploy-model-locally.html)
- ``torchserve``: TorchServe's Predictions API, ``POST /predictions/{name}``; the body goes to
  the model's handler as is: one row object per request, or an array of row objects when
  ``rows_per_request`` > 1 (TorchServe batches requests itself).
  https://pytorch.org/serve/inference_api.html
- ``bentoml``: a BentoML (1.2+) service API, ``POST /{api}`` with a JSON object whose keys are
  the API method's parameters: ``{"{param}": [{column: value}, ...]}`` (a ``pd.DataFrame`` or
  ``list[dict]`` parameter). https://docs.bentoml.com/en/latest/build-with-bentoml/clients.html
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Protocol:
    name: str
    path: str | None  # under the target's base URL; {model} and {api} are filled in
    needs_model: bool = False  # the path names the model: load.payload.model_name is required
    tensors: bool = False  # typed tensors: every column needs a datatype and no value is null
    content_type: str = "application/json"
    grpc: bool = False  # sent as gRPC calls, not HTTP requests


PROTOCOLS: dict[str, Protocol] = {
    "mlgate": Protocol("mlgate", None),
    "oip": Protocol("oip", "/v2/models/{model}/infer", needs_model=True, tensors=True),
    "oip-grpc": Protocol("oip-grpc", None, needs_model=True, tensors=True,
                         content_type="application/grpc", grpc=True),
    "tfserving": Protocol("tfserving", "/v1/models/{model}:predict", needs_model=True,
                          tensors=True),
    "mlflow": Protocol("mlflow", "/invocations"),
    "torchserve": Protocol("torchserve", "/predictions/{model}", needs_model=True),
    "bentoml": Protocol("bentoml", "/{api}"),
}
ALIASES = {"kserve-v2": "oip", "kserve_v2": "oip", "v2": "oip", "kserve-v2-grpc": "oip-grpc",
           "v2-grpc": "oip-grpc"}
NAMES = [*PROTOCOLS, *ALIASES]


def find_protocol(name: Any, source: str) -> Protocol:
    key = ALIASES.get(str(name), str(name))
    if key not in PROTOCOLS:
        raise InputError(f"unknown protocol {name!r} (one of: {', '.join(NAMES)})", source)
    return PROTOCOLS[key]


def endpoint_path(protocol: Protocol, model_name: str | None, api: str) -> str | None:
    if protocol.path is None:
        return None
    return protocol.path.replace("{model}", model_name or "").replace("{api}", api.strip("/"))


def tensor_datatype(series: pd.Series, column: str, source: Any) -> str:
    """The Open Inference Protocol datatype of a column, or InputError naming it."""
    from pandas.api import types

    dtype = series.dtype
    if types.is_bool_dtype(dtype):
        return "BOOL"
    if types.is_unsigned_integer_dtype(dtype):
        return "UINT64"
    if types.is_integer_dtype(dtype):
        return "INT64"
    if types.is_float_dtype(dtype):
        return "FP32" if str(dtype) == "float32" else "FP64"
    values = series.dropna()
    textual = types.is_string_dtype(dtype) or types.is_object_dtype(dtype) or str(dtype) == \
        "category"
    if textual and all(
        isinstance(v, str) for v in values
    ):
        return "BYTES"
    kinds = sorted({type(v).__name__ for v in values})
    raise InputError(
        f"column {column!r} ({dtype}{': ' + ', '.join(kinds) if kinds else ''}) fits no tensor "
        "datatype (BOOL, INT64, UINT64, FP32, FP64, BYTES); drop it or convert it", source)


def datatypes(frame: pd.DataFrame, source: Any) -> dict[str, str]:
    return {str(c): tensor_datatype(frame[c], str(c), source) for c in frame.columns}


def refuse_missing(frame: pd.DataFrame, protocol: Protocol, source: Any) -> None:
    missing = [str(c) for c in frame.columns if frame[c].isna().any()]
    if missing:
        raise InputError(
            f"column {missing[0]!r} has missing values, which {protocol.name} tensors cannot "
            "hold (JSON null is not tensor data); drop the column or fill the data", source)


def encoder(protocol: Protocol, columns: list[str], types: dict[str, str],
            api_param: str) -> Callable[[Rows], Any]:
    """A function from a chunk of row objects to the JSON document the protocol sends."""
    name = protocol.name
    if name in ("oip", "oip-grpc"):
        def oip(rows: Rows) -> Any:
            return {"inputs": [
                {"name": c, "shape": [len(rows)], "datatype": types[c],
                 "data": [r[c] for r in rows]}
                for c in columns
            ]}
        return oip
    if name == "tfserving":
        return lambda rows: {"instances": rows}
    if name == "mlflow":
        return lambda rows: {"dataframe_split": {
            "columns": columns, "data": [[r[c] for c in columns] for r in rows]}}
    if name == "torchserve":
        return lambda rows: rows[0] if len(rows) == 1 else rows
    if name == "bentoml":
        return lambda rows: {api_param: rows}
    raise AssertionError(name)


def encode(document: Any, protocol: Protocol | None = None, model_name: str | None = None
           ) -> bytes:
    """The bytes sent: compact JSON, or a gRPC ModelInferRequest for ``oip-grpc``."""
    if protocol is not None and protocol.grpc:
        from mlgate.load.oip_wire import model_infer_request

        return model_infer_request(document, model_name or "")
    return json.dumps(document, separators=(",", ":")).encode("utf-8")
