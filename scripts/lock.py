"""Generate (or check) the hash-locked requirements that ``actions/setup`` installs mlgate with.

``make lock`` (``python scripts/lock.py``) is the one command to run after any change to
pyproject.toml's dependencies, runtime extras, ``requires-python`` or build requirements. It
writes ``actions/setup/lock/``:

``build.txt``
    the build backend (``[build-system] requires``: hatchling and what it needs). The action
    builds mlgate's wheel with ``--no-build-isolation`` from these, so pip never fetches an
    unhashed build dependency.
``base.txt``
    mlgate's dependencies, no extras.
``<extra>.txt``
    the dependencies with that one extra (``parquet.txt``, ``locust.txt``, ``signing.txt``, and
    every other extra pyproject.toml defines, except the developers' ``dev``).
``all.txt``
    the dependencies with every runtime extra; the action installs it for any combination of
    two or more extras (a superset of what was asked for, every file still hash-checked).

Why several files and not one: ``pip install --require-hashes -r FILE`` installs *every* line of
the file, so a lock is exactly what gets installed; one file per extra keeps a plain setup from
installing pyarrow, locust and sigstore. Every file is resolved under the constraints of
``all.txt``, so a package has the same version and hashes whichever file carries it.

Each file is resolved by ``uv pip compile --universal --generate-hashes`` (every platform and
Python version mlgate supports, hashes of every wheel and sdist of each pinned version) against
the package index (PyPI by default, no GitHub), with ``--exclude-newer`` set to the moment of
generation and recorded in the file's header, so the same inputs resolve to the same pins
again. Existing pins are kept when they still satisfy pyproject.toml (uv prefers the versions
of the file it overwrites); ``--upgrade`` takes the newest allowed versions instead.

``--check`` (offline, in the test suite) compares each file's recorded input digest with
pyproject.toml and verifies the files' shape (every line pinned with ``==`` and hashed, the
same versions across files). ``--check --resolve`` re-resolves into a temporary directory with
the recorded ``--exclude-newer`` and compares the pins and hashes (needs the index).
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK_DIR = Path("actions") / "setup" / "lock"
# Extras that are not mlgate features but developer tooling: never locked for the action.
NOT_RUNTIME = frozenset({"dev"})
# Bumped when the way the files are produced changes, so old files read as out of date.
FORMAT = 1
HEADER_INPUT = re.compile(r"^# input: (sha256:[0-9a-f]{64})$", re.MULTILINE)
HEADER_EXCLUDE_NEWER = re.compile(r"^# exclude-newer: (\S+)$", re.MULTILINE)
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


class LockError(Exception):
    """A lock cannot be produced or is out of date; the message says what to do."""


@dataclass(frozen=True)
class Target:
    """One lock file: its name and the pyproject extras it is resolved with."""

    name: str
    extras: tuple[str, ...]
    build: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.txt"


@dataclass(frozen=True)
class Entry:
    """One pinned requirement of a lock: what pip installs (under that marker) and may accept."""

    name: str
    version: str
    marker: str
    hashes: tuple[str, ...]


def normalize(name: str) -> str:
    """PEP 503/685 normalisation, so `Model_Signing` and `model-signing` are one name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def load_project(root: Path) -> dict[str, Any]:
    """pyproject.toml as a dict."""
    with (root / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def runtime_extras(project: dict[str, Any]) -> list[str]:
    """The extras users can ask the action for, in pyproject order."""
    extras = project.get("project", {}).get("optional-dependencies", {})
    return [normalize(name) for name in extras if normalize(name) not in NOT_RUNTIME]


def targets(project: dict[str, Any]) -> list[Target]:
    """Every lock file, ``all`` first: the others are resolved under its constraints."""
    extras = runtime_extras(project)
    return [Target("all", tuple(extras)), Target("base", ()),
            *(Target(extra, (extra,)) for extra in extras), Target("build", (), build=True)]


def input_digest(project: dict[str, Any]) -> str:
    """sha256 over everything in pyproject.toml that the locks are resolved from.

    Only these inputs: a change to the dev extra, the version or the tool settings leaves the
    locks valid, and anything that changes what gets installed invalidates all of them (they
    share one resolution).
    """
    meta = project.get("project", {})
    extras = meta.get("optional-dependencies", {})
    relevant = {
        "format": FORMAT,
        "requires-python": meta.get("requires-python", ""),
        "dependencies": meta.get("dependencies", []),
        "extras": {normalize(k): v for k, v in extras.items() if normalize(k) not in NOT_RUNTIME},
        "build-system": project.get("build-system", {}).get("requires", []),
    }
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def python_floor(project: dict[str, Any]) -> str:
    """The lowest Python version the universal resolution must cover (from requires-python)."""
    spec = project.get("project", {}).get("requires-python", "")
    match = re.search(r">=\s*(\d+\.\d+)", spec)
    if not match:
        raise LockError(f"pyproject.toml: requires-python {spec!r} has no '>=X.Y' lower bound")
    return match.group(1)


def header(target: Target, digest: str, exclude_newer: str, floor: str) -> str:
    what = ("the build backend ([build-system] requires)" if target.build
            else "mlgate's dependencies, " + (
                "every runtime extra: " + ", ".join(target.extras) if target.name == "all"
                else f"extra {target.extras[0]}" if target.extras else "no extras"))
    return (
        f"# Hash-locked requirements of actions/setup: {what}.\n"
        "# Generated by `make lock` (python scripts/lock.py) with uv pip compile --universal\n"
        "# --generate-hashes; do not edit by hand. The input digest covers pyproject.toml's\n"
        "# dependencies, runtime extras, requires-python and build requirements.\n"
        f"# input: {digest}\n"
        f"# exclude-newer: {exclude_newer}\n"
        f"# python: >={floor}\n"
    )


def find_uv(explicit: str | None = None) -> str:
    """The uv program: --uv, $UV, PATH, next to this Python, or the `uv` Python package."""
    for candidate in (explicit, os.environ.get("UV")):
        if candidate:
            return candidate
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found:
        return found
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        raise LockError("uv is not installed: `make setup` installs it (dev extras), "
                        "or pip install uv") from None


def parse(text: str) -> list[Entry]:
    """The pinned requirements of a lock file (comments and annotations skipped)."""
    pins: list[tuple[str, str, str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = REQUIREMENT.match(line)
        if match:
            pins.append((normalize(match.group(1)), match.group(2),
                         (match.group(3) or "").strip(), []))
        elif line.startswith("--hash=") and pins:
            pins[-1][3].append(line.removeprefix("--hash=").rstrip(" \\"))
        else:
            raise LockError(f"unexpected line in a lock file: {line!r}")
    return [Entry(name, version, marker, tuple(sorted(hashes)))
            for name, version, marker, hashes in pins]


def recorded(path: Path) -> tuple[str | None, str | None]:
    """(input digest, exclude-newer) from a lock file's header, or Nones when it has none."""
    if not path.is_file():
        return None, None
    text = path.read_text(encoding="utf-8")
    digest, newer = HEADER_INPUT.search(text), HEADER_EXCLUDE_NEWER.search(text)
    return (digest.group(1) if digest else None, newer.group(1) if newer else None)


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def compile_lock(uv: str, root: Path, target: Target, out: Path, *, exclude_newer: str,
                 floor: str, previous: Path | None, constraints: Path | None,
                 upgrade: bool, work: Path) -> None:
    """Resolve one target with uv into ``out`` (the body only, without our header)."""
    if previous is not None and previous.is_file() and not upgrade:
        shutil.copyfile(previous, out)  # uv keeps the pins of the file it overwrites
    elif out.exists():
        out.unlink()
    if target.build:
        source = work / "build-system.requires"
        requires = load_project(root).get("build-system", {}).get("requires", [])
        source.write_text("".join(f"{r}\n" for r in requires), encoding="utf-8")
        args = [str(source)]
    else:
        args = [str(root / "pyproject.toml")]
        for extra in target.extras:
            args += ["--extra", extra]
    if constraints is not None:
        args += ["--constraints", str(constraints)]
    command = [uv, "pip", "compile", *args, "--universal", "--generate-hashes",
               "--python-version", floor, "--exclude-newer", exclude_newer, "--no-header",
               "--quiet", "--output-file", str(out)]
    if upgrade:
        command.append("--upgrade")
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LockError(f"uv pip compile failed for {target.filename}:\n{proc.stderr.strip()}")
    # uv names the constraints and build inputs by path in its `# via` notes: drop the temporary
    # directory from them, so the same inputs give byte-identical files.
    for prefix in (f"{work / 'constraints'}{os.sep}", f"{work}{os.sep}"):
        out.write_text(out.read_text(encoding="utf-8").replace(prefix, ""), encoding="utf-8")


def constraints_from(lock: Path, dest: Path) -> Path:
    """A constraints file (pins and markers, no hashes) made from a lock."""
    lines = []
    for entry in parse(lock.read_text(encoding="utf-8")):
        lines.append(f"{entry.name}=={entry.version}"
                     + (f" ; {entry.marker}" if entry.marker else ""))
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def generate(root: Path, out_dir: Path, *, uv: str, exclude_newer: str, upgrade: bool,
             previous_dir: Path | None) -> list[Path]:
    """Write every lock file into ``out_dir``; returns their paths."""
    project = load_project(root)
    digest, floor = input_digest(project), python_floor(project)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="mlgate-lock-") as tmp:
        work = Path(tmp)
        constraints: Path | None = None
        for target in targets(project):
            body = work / target.filename
            previous = previous_dir / target.filename if previous_dir else None
            compile_lock(uv, root, target, body, exclude_newer=exclude_newer, floor=floor,
                         previous=previous, constraints=None if target.build else constraints,
                         upgrade=upgrade, work=work)
            if target.name == "all":
                (work / "constraints").mkdir()
                constraints = constraints_from(body, work / "constraints" / "all.txt")
            path = out_dir / target.filename
            path.write_text(header(target, digest, exclude_newer, floor)
                            + body.read_text(encoding="utf-8"), encoding="utf-8")
            written.append(path)
    return written


def shape_problems(root: Path, lock_dir: Path) -> list[str]:
    """What is wrong with the lock files without resolving anything (no network)."""
    project = load_project(root)
    digest = input_digest(project)
    expected = {t.filename: t for t in targets(project)}
    problems: list[str] = []
    present = {p.name for p in lock_dir.glob("*.txt")} if lock_dir.is_dir() else set()
    for name in sorted(present - set(expected)):
        problems.append(f"{name}: no such lock any more (an extra was removed?)")
    versions: dict[tuple[str, str], str] = {}
    for name, target in expected.items():
        path = lock_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        found, newer = recorded(path)
        if found != digest:
            problems.append(f"{name}: resolved from another pyproject.toml "
                            f"(input {found}, now {digest})")
        if newer is None:
            problems.append(f"{name}: no exclude-newer in its header")
        try:
            entries = parse(path.read_text(encoding="utf-8"))
        except LockError as err:
            problems.append(f"{name}: {err}")
            continue
        if not entries:
            problems.append(f"{name}: pins nothing")
        for entry in entries:
            if not entry.hashes:
                problems.append(f"{name}: {entry.name} has no hash")
            if target.build:
                continue
            seen = versions.setdefault((entry.name, entry.marker), entry.version)
            if seen != entry.version:
                problems.append(f"{name}: {entry.name} {entry.version} differs from "
                                f"{seen} in another lock")
    return problems


def compare(expected_dir: Path, actual_dir: Path) -> list[str]:
    """Differences in pins and hashes between two sets of lock files."""
    problems = []
    for path in sorted(expected_dir.glob("*.txt")):
        other = actual_dir / path.name
        mine = parse(path.read_text(encoding="utf-8"))
        theirs = parse(other.read_text(encoding="utf-8")) if other.is_file() else []
        if mine != theirs:
            diff = difflib.unified_diff(
                [f"{e.name}=={e.version} ; {e.marker} ({len(e.hashes)} hashes)" for e in theirs],
                [f"{e.name}=={e.version} ; {e.marker} ({len(e.hashes)} hashes)" for e in mine],
                f"{path.name} (committed)", f"{path.name} (resolved now)", lineterm="", n=0)
            problems.append("\n".join(diff) or f"{path.name}: hashes differ")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write: fail when the locks do not match pyproject.toml")
    parser.add_argument("--resolve", action="store_true",
                        help="with --check: also re-resolve (needs the index) and compare pins")
    parser.add_argument("--upgrade", action="store_true",
                        help="take the newest allowed versions instead of keeping current pins")
    parser.add_argument("--root", type=Path, default=ROOT, help="the mlgate checkout")
    parser.add_argument("--uv", help="the uv program (default: $UV, PATH, or the uv package)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    lock_dir = root / LOCK_DIR
    try:
        if args.check:
            problems = shape_problems(root, lock_dir)
            if not problems and args.resolve:
                _, newer = recorded(lock_dir / "all.txt")
                with tempfile.TemporaryDirectory(prefix="mlgate-lock-check-") as tmp:
                    again = Path(tmp)
                    generate(root, again, uv=find_uv(args.uv), exclude_newer=str(newer),
                             upgrade=False, previous_dir=lock_dir)
                    problems = compare(again, lock_dir)
            if problems:
                print(f"{LOCK_DIR} is out of date; run `make lock`:", file=sys.stderr)
                for problem in problems:
                    print(f"  {problem}", file=sys.stderr)
                return 1
            print(f"{LOCK_DIR}: up to date with pyproject.toml")
            return 0
        project = load_project(root)
        digest = input_digest(project)
        old_digest, old_newer = recorded(lock_dir / "all.txt")
        # Same inputs, no upgrade: resolve at the recorded moment again (byte-identical files).
        keep = old_digest == digest and old_newer and not args.upgrade
        exclude_newer = str(old_newer) if keep else now()
        with tempfile.TemporaryDirectory(prefix="mlgate-lock-new-") as tmp:
            fresh = Path(tmp)
            written = generate(root, fresh, uv=find_uv(args.uv), exclude_newer=exclude_newer,
                               upgrade=args.upgrade, previous_dir=lock_dir)
            lock_dir.mkdir(parents=True, exist_ok=True)
            names = {p.name for p in written}
            for stale in lock_dir.glob("*.txt"):
                if stale.name not in names:
                    stale.unlink()
                    print(f"removed {LOCK_DIR / stale.name}")
            for path in written:
                shutil.copyfile(path, lock_dir / path.name)
                count = len(parse(path.read_text(encoding="utf-8")))
                print(f"wrote {LOCK_DIR / path.name}: {count} pins")
        return 0
    except LockError as err:
        print(f"lock: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
