"""The one model loader, and the one set of rules it follows, for every command.

``gate-model`` (candidate and champion), ``mlgate serve`` (files and ledger versions),
``load-test --serve`` and ``load.target.serve`` all load through :func:`load_model` with a
:class:`LoadRules` built by :meth:`LoadRules.from_config` from mlgate.yaml's ``model:`` section
plus flags, so a model that passes the model gate can also be served and load-tested:

* ``.skops`` files are loaded without pickle, accepting the types skops trusts, the reviewed
  scikit-learn internals in ``checks/trusted_types/`` (:mod:`mlgate.model.trusted_types`) and
  ``model.trusted_types``; every other type is refused at once, all of them named. Tree and
  neighbour structures are then checked (:mod:`mlgate.model.structures`).
* Pickle and joblib files execute code when loaded: refused unless ``allow_pickle`` (and, in a
  run whose code is not the default branch's, unless the default branch holds the file; see
  :mod:`mlgate.model.prguard`).
* ``model.code_paths`` makes the repository's modules importable while loading
  (:mod:`mlgate.model.code_paths`).
* In a run whose code is not the default branch's, ``trusted_types``, ``allow_pickle`` and
  ``code_paths`` must equal the default branch's (:func:`mlgate.trust.check_unchanged`), checked
  before anything is loaded.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config import Config
from mlgate.errors import InputError
from mlgate.model.code_paths import importable, resolve_code_paths
from mlgate.model.prguard import check_pickle_from_default_branch, pr_opt_in_from_env
from mlgate.trust import MODEL_KEYS, check_unchanged

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MLFLOW_MODULE = "mlgate.model.mlflow_model"


@dataclass
class LoadRules:
    """How model files may be loaded; one object, built once per command, for every load.

    ``trusted_types`` are the user's additions (``model.trusted_types``) to the shipped list;
    ``code_paths`` are absolute directories inside the repository. ``config`` and
    ``trust_keys`` say what :meth:`verify` compares with the default branch: the keys of
    ``config`` these rules were read from (a flag such as ``--allow-pickle`` lives in the
    workflow file, so its key is not compared).
    """

    trusted_types: tuple[str, ...] = ()
    allow_pickle: bool = False
    allow_pickle_from_pr: bool = False
    code_paths: tuple[Path, ...] = ()
    config: Config | None = None
    trust_keys: tuple[str, ...] = MODEL_KEYS
    _verified: bool = field(default=False, init=False, repr=False, compare=False)

    @classmethod
    def from_config(
        cls,
        config: Config | None,
        *,
        allow_pickle: bool | None = None,
        allow_pickle_from_pr: bool = False,
    ) -> LoadRules:
        """The rules of ``config``'s ``model:`` section; ``allow_pickle=True`` (a flag) replaces
        ``model.allow_pickle``. Without a config: the defaults (and the flags)."""
        section: dict[str, Any] = config.section("model") if config else {}
        code_paths: tuple[Path, ...] = ()
        if config is not None:
            code_paths = resolve_code_paths(
                [str(v) for v in section.get("code_paths") or []],
                config.root,
                config.where("model", "code_paths"),
            )
        return cls(
            trusted_types=tuple(str(t) for t in section.get("trusted_types") or []),
            allow_pickle=bool(allow_pickle or section.get("allow_pickle", False)),
            allow_pickle_from_pr=allow_pickle_from_pr,
            code_paths=code_paths,
            config=config,
            trust_keys=tuple(k for k in MODEL_KEYS
                             if not (k == "model.allow_pickle" and allow_pickle)),
        )

    @property
    def trusted(self) -> frozenset[str]:
        """Every type name accepted in .skops files beyond skops' own: shipped list + user's."""
        from mlgate.model.trusted_types import default_trusted_types

        return default_trusted_types() | frozenset(self.trusted_types)

    def verify(self) -> None:
        """In a run whose code is not the default branch's, refuse settings the default branch
        does not have (once per rules; a trusted run never touches git)."""
        if not self._verified and self.config is not None:
            check_unchanged(self.config, self.trust_keys)
        self._verified = True

    def imports(self) -> AbstractContextManager[None]:
        """The code paths on ``sys.path`` for the duration of a load."""
        return importable(self.code_paths)


def reject_uri(value: str | Path | None, source: str, what: str = "models") -> None:
    """Model (and data) locations are files: say so for a URL or object-store URI instead of
    turning ``s3://bucket/m.skops`` into the path ``s3:/bucket/m.skops``."""
    if isinstance(value, str) and URI.match(value.strip()):
        scheme = value.strip().split("://", 1)[0].lower()
        raise InputError(
            f"{value!r} is a {scheme}:// URI; URLs and object-store URIs (https://, s3://, "
            f"gs://, ...) are not supported yet for {what}: give a local file (reading models "
            "and data by pointer is planned)",
            source,
        )


def load_model(
    path: Path | str, rules: LoadRules | None = None, *, from_ledger: bool = False
) -> Any:
    """Load a model file (or MLflow model directory) under ``rules``, or raise
    :class:`InputError` naming the file and the reason.

    ``from_ledger`` marks bytes read from a registered version tag, which a pull request
    cannot change: such a pickle is exempt from the default-branch check (not from
    ``allow_pickle``).
    """
    rules = rules or LoadRules()
    reject_uri(path if isinstance(path, str) else None, "model")  # callers check their flags
    path = Path(path)
    rules.verify()
    if path.is_dir():
        return _load_directory(path, rules, from_ledger)
    return _load_file(path, rules, from_ledger)


def _load_file(path: Path, rules: LoadRules, from_ledger: bool) -> Any:
    """One model file under ``rules`` (already verified against the default branch)."""
    if not path.exists():
        raise InputError("model file not found", path)
    if not path.is_file():
        raise InputError("model path is not a file", path)
    suffix = path.suffix.lower()
    if suffix in SKOPS_SUFFIXES:
        from mlgate.model.structures import check_structures

        with rules.imports():
            model = _load_skops(path, rules)
        check_structures(model, path)
        return model
    if suffix in PICKLE_SUFFIXES:
        if not rules.allow_pickle:
            raise InputError(
                f"refusing to load a {suffix} file: unpickling runs arbitrary code. Save the "
                "model with skops (skops.io.dump) or opt in with --allow-pickle / "
                "model.allow_pickle: true for files you trust",
                path,
            )
        if not (rules.allow_pickle_from_pr or from_ledger or pr_opt_in_from_env()):
            check_pickle_from_default_branch(path)
        with rules.imports():
            return _load_pickle(path, rules)
    raise InputError(
        f"unknown model file type {suffix or '(no suffix)'!r}; expected .skops "
        "(or .pkl/.pickle/.joblib with allow_pickle)",
        path,
    )


def _load_directory(path: Path, rules: LoadRules, from_ledger: bool) -> Any:
    """A directory must be an MLflow model: its model file is loaded by the one file loader,
    so it gets exactly the rules (types, pickles, structure checks) a file given directly
    would."""
    from mlgate.model.mlflow_model import is_mlflow_dir, load_mlflow_dir

    if not is_mlflow_dir(path):
        raise InputError("model path is a directory but not an MLflow model (no MLmodel file); "
                         "expected a model file (.skops, or .pkl/.pickle/.joblib with "
                         "allow_pickle)", path)
    return load_mlflow_dir(path, lambda file: _load_file(file, rules, from_ledger))


def _load_skops(path: Path, rules: LoadRules) -> Any:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise InputError(f"cannot read .skops file ({type(exc).__name__}: {exc})", path) from exc
    main = sorted(t for t in untrusted if t.startswith("__main__."))
    if main:
        raise InputError(_main_message(main), path)
    unknown = sorted(set(untrusted) - rules.trusted)
    if unknown:
        raise InputError(_untrusted_message(unknown), path)
    try:
        return sio.load(path, trusted=list(untrusted) or None)
    except ImportError as exc:
        raise InputError(_import_message(exc, rules), path) from exc
    except Exception as exc:
        raise InputError(f"cannot load .skops file ({type(exc).__name__}: {exc})", path) from exc


def _load_pickle(path: Path, rules: LoadRules) -> Any:
    import joblib

    try:
        return joblib.load(path)  # the caller opted in with allow_pickle
    except ImportError as exc:
        raise InputError(_import_message(exc, rules), path) from exc
    except AttributeError as exc:
        # pickle resolves ``__main__.X`` in this process's __main__ (mlgate's, or a test
        # runner's, whatever its __name__), where the training script's class is not.
        module = sys.modules.get("__main__")
        spec = getattr(module, "__spec__", None)
        names = {"__main__", getattr(module, "__name__", ""), getattr(spec, "name", "")}
        found = re.search(r"attribute '([^']+)' on <module '([^']+)'", str(exc))
        if found and found.group(2) in names:
            raise InputError(_main_message([f"__main__.{found.group(1)}"]), path) from exc
        raise InputError(f"cannot unpickle model file ({type(exc).__name__}: {exc})",
                         path) from exc
    except Exception as exc:
        raise InputError(f"cannot unpickle model file ({type(exc).__name__}: {exc})", path) from exc


def _yaml_list(names: Sequence[str]) -> str:
    return "[" + ", ".join(names) + "]"


def _untrusted_message(names: Sequence[str]) -> str:
    return (
        f"the .skops file contains {len(names)} type{'s' if len(names) > 1 else ''} that "
        f"{'are' if len(names) > 1 else 'is'} not trusted: {', '.join(names)}. Loading builds "
        "them and may call them, so review each (what it is, where the file came from); to "
        "accept them, add them to mlgate.yaml as model: {trusted_types: "
        f"{_yaml_list(names)}}} (scikit-learn internals in mlgate's reviewed list, "
        "checks/trusted_types/, need no entry)"
    )


def _main_message(names: Sequence[str]) -> str:
    return (
        f"the model needs {', '.join(names)}, defined in the script that saved it (__main__), "
        "which no other process can import; move the class into a module of the repository "
        "(e.g. src/features.py), import it from there when training, save the model again, "
        "and name the module's directory in mlgate.yaml as model: {code_paths: [src]}"
    )


def _import_message(exc: ImportError, rules: LoadRules) -> str:
    module = getattr(exc, "name", None) or str(exc)
    where = (
        f"the code paths ({', '.join(str(p) for p in rules.code_paths)}) do not provide it"
        if rules.code_paths
        else "no model.code_paths are configured"
    )
    return (
        f"the model needs module {module!r}, which cannot be imported ({where}); name the "
        "directory that holds it in mlgate.yaml as model: {code_paths: [DIR]} (relative to "
        "mlgate.yaml, inside the repository)"
    )
