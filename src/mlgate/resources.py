"""Locate the files shipped with mlgate (schemas, policies, suites, SLO profiles).

In a wheel the catalogue lives at ``mlgate/checks``; in an editable install or a source
checkout it is the repository's top-level ``checks/``. Everything finds it through here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any


@cache
def shipped_dir(name: str) -> Path:
    """A top-level directory of the project that the wheel ships inside the package.

    Wheels carry it as ``mlgate/<name>`` (pyproject's force-include); editable installs and
    source checkouts read the repository's own ``<name>/``.
    """
    packaged = Path(__file__).parent / name
    if packaged.is_dir():
        return packaged
    source_tree = Path(__file__).resolve().parents[2] / name
    if source_tree.is_dir():
        return source_tree
    raise FileNotFoundError(f"mlgate's {name}/ directory is missing from this installation")


def checks_dir() -> Path:
    """The catalogue: schemas, policy presets, GX suites, SLO profiles."""
    return shipped_dir("checks")


def load_schema(name: str) -> dict[str, Any]:
    """Load a JSON Schema from checks/schema by file name."""
    with open(checks_dir() / "schema" / name, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def schema_problem(doc: Any, schema_name: str) -> str | None:
    """Why ``doc`` does not validate against a shipped draft-07 schema (None when it does).

    Compiled once with fastjsonschema: checking the shape of 10,000 ledger records or a report
    must cost milliseconds, not the seconds a generic validator takes.
    """
    import fastjsonschema

    try:
        _compiled(schema_name)(doc)
    except fastjsonschema.JsonSchemaValueException as exc:
        return str(exc.message)[:300]
    except RecursionError:
        return "the document nests too deeply"
    return None


@cache
def _compiled(schema_name: str) -> Any:
    import fastjsonschema

    return fastjsonschema.compile(load_schema(schema_name))
