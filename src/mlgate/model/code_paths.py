"""``model.code_paths``: the repository's own modules, importable while a model loads.

A pipeline with a custom transformer stores a reference to its class (``features.AddRatio``);
loading the model imports that module. Like MLflow's ``code_paths``, mlgate.yaml names the
directories that hold such modules, relative to mlgate.yaml, and the loader puts them first on
``sys.path`` for the duration of the load only.

Decisions (documented in docs/model.md):

* Only directories inside the repository (the git work tree holding mlgate.yaml, or its
  directory outside git), after resolving symlinks: a code path is code that loading runs, so it
  is also a trust key (:data:`mlgate.trust.MODEL_KEYS`).
* While loading, modules that the code paths provide take precedence: same-named modules that
  were imported from elsewhere are set aside and put back afterwards.
* Afterwards ``sys.path`` is restored and the modules imported from the code paths are removed
  from ``sys.modules``. The loaded objects keep their classes (and the functions their module
  globals), so predicting works; a later load, perhaps of another repository's model in the same
  process, imports its own copy instead of reusing a stale one. A method that imports a
  code-path module lazily at predict time would not find it: import at module level.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.gitio import GitError


def resolve_code_paths(values: Sequence[str], root: Path, where: str) -> tuple[Path, ...]:
    """Absolute, symlink-free directories for the configured ``values`` (relative to ``root``,
    the directory of mlgate.yaml); InputError naming ``model.code_paths[i]`` otherwise."""
    if not values:
        return ()
    repo = repository_root(root)
    resolved: list[Path] = []
    for i, value in enumerate(values):
        source = f"{where}[{i}]"
        candidate = Path(value) if Path(value).is_absolute() else root / value
        real = Path(os.path.realpath(candidate))
        if not real.exists():
            raise InputError(f"code path {value!r} does not exist ({candidate})", source)
        if not real.is_dir():
            raise InputError(
                f"code path {value!r} is not a directory; name the directory that holds the "
                "modules (e.g. src)",
                source,
            )
        if not real.is_relative_to(repo):
            raise InputError(
                f"code path {value!r} is outside the repository ({repo}); only the "
                "repository's own code may be imported while loading a model",
                source,
            )
        resolved.append(real)
    return tuple(dict.fromkeys(resolved))


def repository_root(directory: Path) -> Path:
    """The git work tree holding ``directory``, else ``directory`` itself (resolved)."""
    real = Path(os.path.realpath(directory))
    try:
        return Path(gitio.git(real, "rev-parse", "--show-toplevel").strip()).resolve()
    except (GitError, OSError):
        return real


@contextlib.contextmanager
def importable(paths: Sequence[Path]) -> Iterator[None]:
    """Make the modules under ``paths`` importable for the duration of the block."""
    if not paths:
        yield
        return
    entries = [str(p) for p in paths]
    provided = _top_level_names(paths)
    set_aside = {
        name: module
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in provided and not _loaded_from(module, paths)
    }
    for name in set_aside:
        del sys.modules[name]
    before = set(sys.modules)
    sys.path[:0] = entries
    importlib.invalidate_caches()
    try:
        yield
    finally:
        for entry in entries:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
        for name in set(sys.modules) - before:
            module = sys.modules.get(name)
            if module is not None and _loaded_from(module, paths):
                del sys.modules[name]
        for name, module in set_aside.items():
            sys.modules.setdefault(name, module)
        importlib.invalidate_caches()


def _top_level_names(paths: Sequence[Path]) -> set[str]:
    """Module and package names the directories provide (``features.py`` -> ``features``)."""
    names: set[str] = set()
    for directory in paths:
        for child in directory.iterdir():
            if child.suffix == ".py" and child.stem.isidentifier():
                names.add(child.stem)
            elif child.is_dir() and child.name.isidentifier():
                names.add(child.name)
    return names


def _loaded_from(module: ModuleType, paths: Sequence[Path]) -> bool:
    """Whether ``module`` (a file, or a namespace package's directories) lives under ``paths``."""
    files = [getattr(module, "__file__", None), *list(getattr(module, "__path__", None) or [])]
    for location in files:
        if not isinstance(location, str):
            continue
        real = Path(os.path.realpath(location))
        if any(real.is_relative_to(p) for p in paths):
            return True
    return False
