"""Request bodies: rows sampled from a data file, put into the JSON the endpoint expects.

The template is JSON text with placeholders: ``{{rows}}`` becomes a JSON array of row objects
(``rows_per_request`` of them) and ``{{row}}`` one row object. Bodies are built once, before the
clock starts, so that building them never slows the generator down.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.bounded import loads_json
from mlgate.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_TEMPLATE = '{"rows": {{rows}}}'
POOL = 512  # distinct bodies; the generator cycles through them


@dataclass
class PayloadSpec:
    data: Path | None = None
    drop: list[str] = field(default_factory=list)
    rows_per_request: int = 1
    template: str | None = None  # JSON text or a path to a file holding it
    seed: int = 0
    data_source: str = "--data"  # how errors name the data file setting
    template_source: str = "--template"
    protocol: str = "mlgate"  # a preset of mlgate.load.protocols (the template is mlgate's)
    model_name: str | None = None  # oip(-grpc), tfserving, torchserve: the model to call
    api: str = "predict"  # bentoml: the service API (endpoint) name
    api_param: str = "data"  # bentoml: the API method's parameter that takes the rows
    protocol_source: str = "--protocol"


def template_file(spec: PayloadSpec) -> Path | None:
    """The file the template is read from, or None when it is JSON text (or not set)."""
    raw = spec.template
    if raw is None or raw.lstrip().startswith(("{", "[")) or len(raw) >= 4096:
        return None
    return Path(raw)


def read_template(spec: PayloadSpec) -> tuple[str | None, str]:
    """The template text and the name errors use for it (a file path or the setting)."""
    raw = spec.template
    if raw is None:
        return None, spec.template_source
    candidate = template_file(spec)
    if candidate is not None:
        if not candidate.is_file():
            raise InputError("template file not found (or not JSON text)", raw)
        try:
            return candidate.read_text(encoding="utf-8"), str(candidate)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read template: {exc}", candidate) from exc
    return raw, spec.template_source


def read_rows(spec: PayloadSpec, count: int) -> list[dict[str, Any]]:
    """``count`` rows sampled (with replacement, fixed seed) as JSON-ready dicts."""
    return records(read_sample(spec, count))


def records(sample: pd.DataFrame) -> list[dict[str, Any]]:
    # pandas' JSON writer turns NaN into null and numpy scalars into plain numbers.
    rows: list[dict[str, Any]] = json.loads(sample.to_json(orient="records", date_format="iso"))
    return rows


def read_sample(spec: PayloadSpec, count: int) -> pd.DataFrame:
    """``count`` rows sampled (with replacement, fixed seed), as a DataFrame."""
    import pandas as pd

    assert spec.data is not None
    path = spec.data
    if not path.is_file():
        raise InputError("data file not found", path)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except Exception as exc:
        raise InputError(f"cannot read data ({type(exc).__name__}: {exc})", path) from exc
    missing = [c for c in spec.drop if c not in frame.columns]
    if missing:
        raise InputError(f"cannot drop column {missing[0]!r}: not in the data", path)
    frame = frame.drop(columns=spec.drop)
    if frame.empty:
        raise InputError("data file has no rows to send", path)
    return frame.sample(n=count, replace=True, random_state=spec.seed)


def build_bodies(spec: PayloadSpec) -> list[bytes] | None:
    """The request bodies to cycle through, or None when nothing is sent in the body."""
    template, where = read_template(spec)
    if spec.data is None:
        if template is None:
            return None
        if "{{row" in template:
            raise InputError("template uses {{rows}}/{{row}} but no data file is set", where)
        return [_checked(template, where)]
    if spec.rows_per_request < 1:
        raise InputError("rows_per_request must be at least 1", spec.data_source)
    if spec.protocol != "mlgate":
        return protocol_bodies(spec)
    template = template or DEFAULT_TEMPLATE
    if "{{rows}}" not in template and "{{row}}" not in template:
        raise InputError("template has no {{rows}} or {{row}} placeholder for the data", where)
    rows = read_rows(spec, POOL * spec.rows_per_request)
    bodies = []
    n = spec.rows_per_request
    for k in range(POOL):
        chunk = rows[k * n : (k + 1) * n]
        text = template.replace("{{rows}}", json.dumps(chunk)).replace(
            "{{row}}", json.dumps(chunk[0])
        )
        bodies.append(_checked(text, where) if k == 0 else text.encode("utf-8"))
    return bodies


def protocol_bodies(spec: PayloadSpec) -> list[bytes]:
    """Bodies in the format of a protocol preset (:mod:`mlgate.load.protocols`)."""
    from mlgate.load.protocols import (
        datatypes,
        encode,
        encoder,
        find_protocol,
        refuse_missing,
    )

    protocol = find_protocol(spec.protocol, spec.protocol_source)
    n = spec.rows_per_request
    sample = read_sample(spec, POOL * n)
    assert spec.data is not None
    types: dict[str, str] = {}
    if protocol.tensors:
        types = datatypes(sample, spec.data)
        refuse_missing(sample, protocol, spec.data)
    columns = [str(c) for c in sample.columns]
    encode_rows = encoder(protocol, columns, types, spec.api_param)
    rows = records(sample)
    return [encode(encode_rows(rows[k * n : (k + 1) * n]), protocol, spec.model_name)
            for k in range(POOL)]


def _checked(text: str, where: str) -> bytes:
    try:
        loads_json(text, where)
    except InputError as exc:  # malformed, or nested too deep to parse safely
        raise InputError(f"template does not give valid JSON ({exc.message})", where) from None
    return text.encode("utf-8")
