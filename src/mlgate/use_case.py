"""Use-case profiles: ``profile: batch | online | critical`` in mlgate.yaml.

Why: most teams want the same few combinations of stages, SLO profile and approval rules
(a batch model needs no load test; a credit model needs two approvers and signatures), and
writing them out by hand is where a production stage ends up with no rule at all. A profile is
a set of *defaults* kept as data in ``checks/profiles/NAME.yaml``; the config's own keys win,
mapping by mapping, so a team starts from the profile and overrides what differs.

The profile is applied when a config is parsed (a file, the default branch's copy, a policy
blob), so every reader, the ledger's validating reader included, judges by the same expanded
rules. Because the ledger records a digest of the expanded stage rules, a built-in profile's
rules are frozen: changing them would make earlier records fail their policy digest. A new set
of rules gets a new profile name (``checks/profiles/frozen.json`` holds the digests a test
keeps fixed).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from mlgate.errors import InputError
from mlgate.resources import checks_dir

PROFILES = ("batch", "online", "critical")


def profile_defaults(name: str) -> dict[str, Any]:
    """The defaults a built-in profile sets (the shipped YAML, parsed)."""
    path = checks_dir() / "profiles" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):  # a shipped file: a broken one is a packaging bug
        raise RuntimeError(f"{path} must hold a mapping")
    return data


def apply_profile(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """``raw`` with its profile's defaults filled in under the keys it sets itself.

    ``where`` names the config (and line of ``profile``) in errors. A config without
    ``profile`` comes back unchanged. The schema has already checked the name.
    """
    name = raw.get("profile")
    if name is None:
        return raw
    if name == "critical":
        _require_signing(raw, where)
    merged = _merge(profile_defaults(str(name)), raw)
    assert isinstance(merged, dict)
    return merged


def _require_signing(raw: dict[str, Any], where: str) -> None:
    """``critical`` requires signed stage entries, and mlgate cannot choose the key for you."""
    signing = (raw.get("ledger") or {}).get("signing")
    if not isinstance(signing, dict) or not signing.get("method"):
        raise InputError(
            "profile: critical requires signed ledger entries: set ledger.signing (method: ssh "
            "with a key and allowed_signers, or method: sigstore; see docs/hardening.md), or "
            "choose profile online",
            where,
        )


def _merge(defaults: Any, own: Any) -> Any:
    """Mappings merge key by key with ``own`` winning; any other value of ``own`` (a list, a
    scalar, an explicit null) replaces the default whole."""
    if isinstance(defaults, dict) and isinstance(own, dict):
        out = copy.deepcopy(defaults)
        for key, value in own.items():
            out[key] = _merge(defaults.get(key), value) if key in defaults else value
        return out
    return own
