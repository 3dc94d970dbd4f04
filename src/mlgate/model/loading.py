"""The one safe model loader used by every command that opens a model file.

``.skops`` files are loaded without pickle, and only when every type they contain is trusted by
skops or listed in ``trusted_types``. Pickle and joblib files execute code when loaded, so they
are refused unless the caller opts in with ``allow_pickle`` (and, in a run whose code is not the
default branch's, are also refused unless the default branch holds them; see
:mod:`mlgate.model.prguard`). Callers that take ``allow_pickle`` or ``trusted_types`` from
mlgate.yaml check them against the default branch first (:func:`mlgate.trust.check_unchanged`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.model.prguard import check_pickle_from_default_branch, pr_opt_in_from_env

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


def load_model(
    path: Path,
    allow_pickle: bool = False,
    *,
    trusted_types: Sequence[str] = (),
    allow_pickle_from_pr: bool = False,
) -> Any:
    """Load a model file safely or raise :class:`InputError` naming the file and the reason.

    ``trusted_types`` lists fully qualified type names (as reported by
    ``skops.io.get_untrusted_types``) that the user has reviewed and accepts in ``.skops`` files.
    ``allow_pickle_from_pr`` (or ``MLGATE_ALLOW_PICKLE_FROM_PR=1``) additionally allows, in a
    run whose code is not the default branch's, a pickle the default branch does not hold.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("model file not found", path)
    if not path.is_file():
        raise InputError("model path is not a file", path)
    suffix = path.suffix.lower()
    if suffix in SKOPS_SUFFIXES:
        return _load_skops(path, trusted_types)
    if suffix in PICKLE_SUFFIXES:
        if not allow_pickle:
            raise InputError(
                f"refusing to load a {suffix} file: unpickling runs arbitrary code. Save the "
                "model with skops (skops.io.dump) or opt in with --allow-pickle / "
                "model.allow_pickle: true for files you trust",
                path,
            )
        if not (allow_pickle_from_pr or pr_opt_in_from_env()):
            check_pickle_from_default_branch(path)
        return _load_pickle(path)
    raise InputError(
        f"unknown model file type {suffix or '(no suffix)'!r}; expected .skops "
        "(or .pkl/.pickle/.joblib with allow_pickle)",
        path,
    )


def _load_skops(path: Path, trusted_types: Sequence[str]) -> Any:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise InputError(f"cannot read .skops file ({type(exc).__name__}: {exc})", path) from exc
    unknown = sorted(set(untrusted) - set(trusted_types))
    if unknown:
        raise InputError(
            f"the .skops file contains types that are not trusted: {', '.join(unknown)}; "
            "review them and list them under model.trusted_types to load it",
            path,
        )
    try:
        return sio.load(path, trusted=list(untrusted) or None)
    except Exception as exc:
        raise InputError(f"cannot load .skops file ({type(exc).__name__}: {exc})", path) from exc


def _load_pickle(path: Path) -> Any:
    import joblib

    try:
        return joblib.load(path)  # the caller opted in with allow_pickle
    except Exception as exc:
        raise InputError(f"cannot unpickle model file ({type(exc).__name__}: {exc})", path) from exc
