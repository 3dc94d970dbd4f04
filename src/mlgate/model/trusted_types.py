"""The reviewed lists of types mlgate accepts in ``.skops`` files by default.

skops refuses every type it does not trust itself, which includes scikit-learn's own tree and
neighbour structures: every tree model would otherwise need ``sklearn.tree._tree.Tree`` in
``model.trusted_types``, and users learn to paste whatever ``get_untrusted_types`` prints. The
lists in ``checks/trusted_types/*.yaml`` name the internals that carry no code, each with the
reason and the library versions the review read; ``model.trusted_types`` adds to them. Types
whose content compiled code trusts are checked structurally after loading
(:mod:`mlgate.model.structures`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mlgate.config import load_yaml_file
from mlgate.errors import InputError
from mlgate.resources import checks_dir, load_schema

SCHEMA_FILE = "trusted-types.schema.json"
DIRECTORY = "trusted_types"


@dataclass(frozen=True)
class TrustedList:
    """One reviewed list: where it is, its version and what it was reviewed against."""

    path: Path
    version: int
    reviewed_against: dict[str, str]
    names: tuple[str, ...]
    checks: dict[str, str]  # type name -> structural check (mlgate.model.structures)


@cache
def shipped_lists() -> tuple[TrustedList, ...]:
    """Every list shipped in ``checks/trusted_types/`` (sorted by file name), validated.

    A broken shipped list is an installation problem, reported like bad input (exit 2) with the
    file and field, rather than silently trusting less or more than reviewed.
    """
    schema = load_schema(SCHEMA_FILE)
    lists = []
    for path in sorted((checks_dir() / DIRECTORY).glob("*.yaml")):
        raw = load_yaml_file(path, "trusted-types list", schema)
        entries = raw["types"]
        names = tuple(str(e["name"]) for e in entries)
        if len(set(names)) != len(names):
            raise InputError("a type is listed twice", path)
        lists.append(
            TrustedList(
                path=path,
                version=int(raw["version"]),
                reviewed_against={str(k): str(v) for k, v in raw["reviewed_against"].items()},
                names=names,
                checks={str(e["name"]): str(e["check"]) for e in entries if e.get("check")},
            )
        )
    return tuple(lists)


def default_trusted_types() -> frozenset[str]:
    """The names every shipped list accepts."""
    return frozenset(name for lst in shipped_lists() for name in lst.names)
