"""``mlgate serve`` over the Open Inference Protocol (KServe v2) REST API.

https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol: an
inference request ``{"id"?, "inputs": [{"name", "shape", "datatype", "data"}], "outputs"?}``
is decoded one tensor per column (shape ``[n]`` or ``[n, 1]``; data flat or nested row-major)
into a DataFrame in the model's column order; the answer is
``{"model_name", "id", "outputs": [{"name": "predict", ...}, {"name": "predict_proba", ...}]}``.
Anything malformed is a :class:`BadRequest` answered 400 with ``{"error": "..."}``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlgate.load.server import ModelServer

INTS = {"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}
FLOATS = {"FP16", "FP32", "FP64"}
DATATYPES = INTS | FLOATS | {"BOOL", "BYTES"}


class BadRequest(Exception):
    pass


def _flat(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    out: list[Any] = []
    for item in data:
        out.extend(_flat(item) if isinstance(item, list) else [item])
    return out


def _fits(value: Any, datatype: str) -> bool:
    if datatype == "BOOL":
        return isinstance(value, bool)
    if datatype in INTS:
        return isinstance(value, int) and not isinstance(value, bool) and (
            value >= 0 or not datatype.startswith("U"))
    if datatype in FLOATS:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)  # BYTES in JSON: a string


def decode(document: Any, columns: list[str] | None) -> tuple[dict[str, list[Any]], int]:
    """The request's tensors as column -> values (in the model's order), and the row count."""
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), list) \
            or not document["inputs"]:
        raise BadRequest('expected {"inputs": [{"name", "shape", "datatype", "data"}, ...]}')
    found: dict[str, list[Any]] = {}
    rows: int | None = None
    for i, tensor in enumerate(document["inputs"]):
        if not isinstance(tensor, dict):
            raise BadRequest(f"inputs[{i}] is not an object")
        name = tensor.get("name")
        if not isinstance(name, str) or not name:
            raise BadRequest(f"inputs[{i}] has no name")
        for key in ("shape", "datatype", "data"):
            if key not in tensor:
                raise BadRequest(f"input {name!r} has no {key}")
        shape, datatype = tensor["shape"], tensor["datatype"]
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise BadRequest(f"input {name!r}: shape must be a list of non-negative integers")
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
            raise BadRequest(f"input {name!r} has shape {shape}; mlgate serve takes one tensor "
                             "per column, shape [n] or [n, 1]")
        if datatype not in DATATYPES:
            raise BadRequest(f"input {name!r}: unknown datatype {datatype!r}")
        data = _flat(tensor["data"])
        if len(data) != shape[0]:
            raise BadRequest(f"input {name!r}: shape {shape} holds {shape[0]} values, data "
                             f"has {len(data)}")
        bad = next((v for v in data if not _fits(v, datatype)), _OK)
        if bad is not _OK:
            raise BadRequest(f"input {name!r}: {bad!r} is not {datatype}")
        if name in found:
            raise BadRequest(f"input {name!r} is given twice")
        if rows is not None and shape[0] != rows:
            raise BadRequest(f"input {name!r} has {shape[0]} rows, the inputs before it {rows}")
        rows = shape[0]
        found[name] = data
    assert rows is not None
    if rows == 0:
        raise BadRequest("the inputs hold no rows")
    if columns is not None:
        unknown = [n for n in found if n not in columns]
        if unknown:
            raise BadRequest(f"unknown inputs: {', '.join(unknown)} (the model takes "
                             f"{', '.join(columns)})")
        missing = [c for c in columns if c not in found]
        if missing:
            raise BadRequest(f"missing inputs: {', '.join(missing)}")
        found = {c: found[c] for c in columns}
    return found, rows


_OK = object()


def _datatype(values: Any) -> str:
    kind = getattr(getattr(values, "dtype", None), "kind", "O")
    return {"b": "BOOL", "i": "INT64", "u": "UINT64", "f": "FP64"}.get(kind, "BYTES")


def infer(server: ModelServer, document: Any) -> dict[str, Any]:
    import pandas as pd

    columns, rows = decode(document, server.columns)
    wanted = None
    if isinstance(document, dict) and document.get("outputs") is not None:
        requested = document["outputs"]
        if not isinstance(requested, list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) for o in requested
        ):
            raise BadRequest('outputs must be a list of {"name": ...}')
        wanted = [o["name"] for o in requested]
        known = ["predict", *(["predict_proba"] if server.has_proba else [])]
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise BadRequest(f"unknown outputs: {', '.join(unknown)} (known: {', '.join(known)})")
    frame = pd.DataFrame(columns)
    outputs = []
    try:
        if wanted is None or "predict" in wanted:
            predictions = server.model.predict(frame)
            data = predictions.tolist()
            datatype = _datatype(predictions)
            if datatype == "BYTES":
                data = [str(v) for v in data]
            outputs.append({"name": "predict", "shape": [rows], "datatype": datatype,
                            "data": data})
        if server.has_proba and (wanted is None or "predict_proba" in wanted):
            proba = server.model.predict_proba(frame)
            outputs.append({"name": "predict_proba", "shape": list(proba.shape),
                            "datatype": "FP64", "data": proba.ravel().tolist()})
    except (ValueError, TypeError, KeyError) as exc:
        raise BadRequest(f"the model rejected the inputs: {exc}") from exc
    request_id = document.get("id") if isinstance(document, dict) else None
    return {"model_name": server.model_name,
            "id": request_id if isinstance(request_id, str) else str(uuid.uuid4()),
            "outputs": outputs}


def metadata(server: ModelServer) -> dict[str, Any]:
    """Model metadata. A scikit-learn model records its columns but not their types, so the
    inputs (optional in the protocol) are left out rather than guessed."""
    classes = getattr(server.model, "classes_", None)
    predicted = _datatype(classes) if classes is not None else "FP64"  # else: a regressor
    outputs = [{"name": "predict", "datatype": predicted, "shape": [-1]}]
    if server.has_proba:
        outputs.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, -1]})
    return {"name": server.model_name, "versions": [], "platform": "sklearn",
            "outputs": outputs}
