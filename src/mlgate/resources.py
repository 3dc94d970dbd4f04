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
def checks_dir() -> Path:
    packaged = Path(__file__).parent / "checks"
    if packaged.is_dir():
        return packaged
    source_tree = Path(__file__).resolve().parents[2] / "checks"
    if source_tree.is_dir():
        return source_tree
    raise FileNotFoundError("mlgate's checks/ catalogue is missing from this installation")


def load_schema(name: str) -> dict[str, Any]:
    """Load a JSON Schema from checks/schema by file name."""
    with open(checks_dir() / "schema" / name, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data
