"""The `setup` action installs mlgate from its own checkout, hash-locked, and caches it.

The slow tests run the action for real, the way the runner runs a downloaded action: from a
copy of this checkout laid out as ``_actions/OWNER/REPO/SHA/`` with ``GITHUB_ACTION_PATH`` at
its ``actions/setup``, into a fresh venv, with pip allowed only the lock's wheels (downloaded
once per session) and no index. The fast ones check the lock files against pyproject.toml and
the plan (which lock, which cache key) without installing anything.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.actions.conftest import LOCKS, SETUP, offline_pip, runner_python
from tests.actions.harness import ROOT, ActionsCache, Runner, runner_layout

LOCK_SCRIPT = ROOT / "scripts" / "lock.py"


def explain(runner: Runner) -> str:
    return "\n".join(runner.log)


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def install() -> ModuleType:
    return load_module(SETUP / "install.py", "mlgate_setup_install")


@pytest.fixture(scope="module")
def lock() -> ModuleType:
    return load_module(LOCK_SCRIPT, "mlgate_lock_script")


def lock_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(LOCK_SCRIPT), *args], capture_output=True,
                          text=True, check=False, timeout=600)


# -- the lock files ---------------------------------------------------------------------------

def test_the_locks_match_pyproject() -> None:
    """Offline: every lock was resolved from today's pyproject.toml (else: `make lock`)."""
    proc = lock_script("--check")
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout


def test_the_lock_check_fails_when_pyproject_changes(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(LOCKS, tmp_path / "actions" / "setup" / "lock")
    assert lock_script("--check", "--root", str(tmp_path)).returncode == 0
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'parquet = ["pyarrow>=14"]', 'parquet = ["pyarrow>=14"]\nnew-extra = ["six>=1.16"]'))
    proc = lock_script("--check", "--root", str(tmp_path))
    assert proc.returncode == 1
    assert "run `make lock`" in proc.stderr
    assert "new-extra.txt: missing" in proc.stderr
    assert "base.txt: resolved from another pyproject.toml" in proc.stderr


def test_the_lock_check_fails_on_a_hand_edited_lock(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    locks = tmp_path / "actions" / "setup" / "lock"
    shutil.copytree(LOCKS, locks)
    text = (locks / "parquet.txt").read_text()
    # Another numpy than all.txt's, and without hashes.
    text = re.sub(r"(?m)^numpy==(\S+)( ;[^\\\n]*)? \\\n(    --hash=\S+( \\)?\n)+",
                  "numpy==1.0.0\\2\n", text)
    (locks / "parquet.txt").write_text(text)
    proc = lock_script("--check", "--root", str(tmp_path))
    assert proc.returncode == 1
    assert "parquet.txt: numpy has no hash" in proc.stderr
    assert "parquet.txt: numpy 1.0.0 differs from" in proc.stderr


def test_every_runtime_extra_has_its_lock(lock: ModuleType) -> None:
    project = lock.load_project(ROOT)
    extras = lock.runtime_extras(project)
    assert {"parquet", "locust", "signing"} <= set(extras)
    assert "dev" not in extras
    names = {p.name for p in LOCKS.glob("*.txt")}
    assert names == {"base.txt", "all.txt", "build.txt", *(f"{e}.txt" for e in extras)}
    for name in names:
        entries = lock.parse((LOCKS / name).read_text())
        assert entries and all(e.hashes for e in entries), name
    build = {e.name for e in lock.parse((LOCKS / "build.txt").read_text())}
    assert "hatchling" in build


@pytest.mark.slow
def test_the_locks_resolve_again_to_the_same_pins() -> None:
    """With the index: re-resolving at the recorded moment gives the committed pins and hashes."""
    try:
        lock_module = load_module(LOCK_SCRIPT, "mlgate_lock_script_uv")
        lock_module.find_uv()
    except Exception as err:
        pytest.skip(f"uv is needed to re-resolve the locks: {err}")
    proc = lock_script("--check", "--resolve")
    assert proc.returncode == 0, proc.stderr


# -- the plan: which lock, which cache key ----------------------------------------------------

def test_the_lock_follows_the_extras(install: ModuleType) -> None:
    choose = install.choose_lock
    assert choose(LOCKS, []) == LOCKS / "base.txt"
    assert choose(LOCKS, install.parse_extras(" Parquet ")) == LOCKS / "parquet.txt"
    assert choose(LOCKS, install.parse_extras("signing")) == LOCKS / "signing.txt"
    assert choose(LOCKS, install.parse_extras("parquet, locust parquet")) == LOCKS / "all.txt"
    with pytest.raises(install.SetupError, match="unknown extra"):
        choose(LOCKS, ["dev"])


def test_the_cache_key_names_everything_installed(install: ModuleType, tmp_path: Path) -> None:
    tree = runner_layout(tmp_path / "runner", ref="a" * 40)
    env = {"GITHUB_ACTION_PATH": str(tree / "actions" / "setup"), "RUNNER_OS": "Linux",
           "RUNNER_ARCH": "X64", "MLGATE_VENV": str(tmp_path / "venv")}

    def key(**extra: str) -> str:
        return install.plan({**env, **extra}, sys.executable)["key"]

    first = key()
    pyver = ".".join(map(str, sys.version_info[:3]))
    assert first.startswith(f"mlgate-venv-Linux-X64-py{pyver}-none-tree")
    assert key() == first  # the same tree, lock and inputs: the same key
    assert key(RUNNER_ARCH="ARM64") != first
    assert "-parquet-" in key(MLGATE_EXTRAS="parquet")
    assert "-locust+parquet-" in key(MLGATE_EXTRAS="parquet,locust")
    assert "-pypi0.2.0-" in key(MLGATE_VERSION="0.2.0")
    base = tree / "actions" / "setup" / "lock" / "base.txt"
    base.write_text(base.read_text() + "\n")
    after_lock = key()
    assert after_lock != first
    assert after_lock.split("-lock")[1] != first.split("-lock")[1]  # the lock's digest
    init = tree / "src" / "mlgate" / "__init__.py"
    init.write_text(init.read_text() + "\n# another commit\n")
    assert key() != after_lock  # the tree's digest
    plan = install.plan(env, sys.executable)
    assert plan["lock"] == str(base) and plan["root"] == str(tree)
    assert plan["mode"] == "checkout" and plan["cacheable"] == "true"


# -- the real install, as on a runner ---------------------------------------------------------

def mark_tree(tree: Path) -> str:
    """Give the copied tree's mlgate a unique attribute, to recognise the installed code."""
    marker = uuid.uuid4().hex
    init = tree / "src" / "mlgate" / "__init__.py"
    init.write_text(init.read_text() + f'\nSETUP_TEST_MARKER = "{marker}"\n')
    return marker


@pytest.mark.slow
def test_setup_installs_its_own_checkout_hash_locked_then_from_the_cache(
        lock_wheelhouse: Path, tmp_path: Path, churn_repo: Path) -> None:
    from mlgate import __version__

    tree = runner_layout(tmp_path / "runner", ref="b" * 40)
    marker = mark_tree(tree)
    cache = ActionsCache(tmp_path / "cache")
    venv = tmp_path / "home" / ".cache" / "mlgate" / "venv"
    inputs = {"python-version": "", "venv": str(venv)}
    runner = Runner(tmp_path / "ws1", env=offline_pip(lock_wheelhouse), cache=cache)
    (tmp_path / "ws1").mkdir()
    run = runner.run_action(tree / "actions" / "setup", inputs)
    log = explain(runner)
    assert run.ok, log
    assert run.outputs["version"] == __version__
    assert run.outputs["cache-hit"] == "false"
    assert run.outputs["lock"] == str(tree / "actions" / "setup" / "lock" / "base.txt")
    # The build backend and then mlgate with its dependencies, all in hash-checking mode.
    assert "install --require-hashes --only-binary :all: --target" in log
    assert f"-r {tree}/actions/setup/lock/build.txt" in log
    assert "wheel --no-build-isolation --no-deps --no-index --wheel-dir" in log
    assert (f"install --require-hashes --only-binary :all: -r {tree}/actions/setup/lock/base.txt"
            in log)
    # The installed mlgate is the copied tree's (its marker), in the venv, not this checkout.
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import mlgate; print(mlgate.__file__); print(mlgate.SETUP_TEST_MARKER)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}).stdout.split()
    assert probe[0].startswith(str(venv)) and probe[1] == marker
    record = json.loads((venv / "mlgate-setup.json").read_text())
    assert record["mode"] == "checkout" and record["root"] == str(tree)
    assert record["lock_sha256"] == hashlib.sha256(
        (tree / "actions" / "setup" / "lock" / "base.txt").read_bytes()).hexdigest()
    assert record["wheel_sha256"] in log  # printed, for the record
    assert cache.saved == [record["key"]]  # the post step saved the environment

    # A second job on a fresh runner: the venv comes back from the cache, nothing is installed.
    shutil.rmtree(tmp_path / "home")
    second = Runner(churn_repo, env={"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": "/dev/null"},
                    cache=cache)
    run = second.run_action(tree / "actions" / "setup", inputs)
    log = explain(second)
    assert run.ok, log
    assert run.outputs["cache-hit"] == "true"
    assert cache.restored == [record["key"]]
    assert "mlgate restored from the cache" in log
    assert "pip" not in log
    # The hash-locked environment runs a real gate: validate-data on the example, from PATH.
    run = second.run_action(tree / "actions" / "validate-data")
    assert run.ok, explain(second)
    assert run.outputs["status"] == "pass"


def tamper_hash(lock_file: Path, wheel: Path) -> None:
    """Replace the hash of this wheel in the lock with another one."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    text = lock_file.read_text()
    assert digest in text, f"{wheel.name} is not in {lock_file.name}"
    lock_file.write_text(text.replace(digest, hashlib.sha256(b"tampered").hexdigest()))


def drop_entry(lock_file: Path, name: str) -> None:
    text = lock_file.read_text()
    text, count = re.subn(rf"(?ms)^{name}==.*?(?=^\S)", "", text)
    assert count == 1
    lock_file.write_text(text)


@pytest.mark.slow
@pytest.mark.parametrize(("lock_name", "change", "message"), [
    ("build.txt", "hatchling", "THESE PACKAGES DO NOT MATCH THE HASHES"),
    ("base.txt", "pyyaml", "THESE PACKAGES DO NOT MATCH THE HASHES"),
    ("base.txt", "-tqdm", "all requirements must have their versions pinned with =="),
], ids=["build-backend-hash", "dependency-hash", "dependency-missing"])
def test_setup_refuses_a_tampered_lock(lock_wheelhouse: Path, tmp_path: Path, lock_name: str,
                                       change: str, message: str) -> None:
    """pip runs in hash-checking mode: a wheel whose hash the lock does not list, or a
    dependency of mlgate the lock does not pin, stops the install."""
    tree = runner_layout(tmp_path / "runner", ref="c" * 40)
    lock_file = tree / "actions" / "setup" / "lock" / lock_name
    if change.startswith("-"):
        drop_entry(lock_file, change[1:])
    else:
        wheel = next(lock_wheelhouse.glob(f"{change}-*.whl"))
        tamper_hash(lock_file, wheel)
    cache = ActionsCache(tmp_path / "cache")
    runner = Runner(tmp_path, env=offline_pip(lock_wheelhouse), cache=cache)
    venv = tmp_path / "venv"
    run = runner.run_action(tree / "actions" / "setup", {"python-version": "", "venv": str(venv)})
    assert not run.ok
    assert message in explain(runner)
    assert not (venv / "bin" / "mlgate").exists()
    assert not (venv / "mlgate-setup.json").exists()
    assert cache.saved == []  # a failed job saves nothing


@pytest.mark.slow
def test_setup_installs_a_release_from_the_index(lock_wheelhouse: Path, tmp_path: Path) -> None:
    """`version: X` installs the release's wheel from the index (here: a local one standing in
    for PyPI), with the dependencies from the action's lock, hash-checked."""
    release = runner_layout(tmp_path / "release", ref="d" * 40)
    for rel in ("pyproject.toml", "src/mlgate/__init__.py"):
        path = release / rel
        path.write_text(path.read_text().replace('version = "0.1.0"', 'version = "0.2.0"')
                        .replace('__version__ = "0.1.0"', '__version__ = "0.2.0"'))
    index = tmp_path / "index"
    python = runner_python(Runner(tmp_path))
    subprocess.run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                    str(index), str(release)], env={**os.environ, **offline_pip(lock_wheelhouse)},
                   check=True)
    tree = runner_layout(tmp_path / "runner", ref="e" * 40)
    env = {**offline_pip(lock_wheelhouse), "PIP_FIND_LINKS": f"{lock_wheelhouse} {index}"}
    runner = Runner(tmp_path, env=env)
    venv = tmp_path / "venv"
    run = runner.run_action(tree / "actions" / "setup", {"python-version": "", "cache": "false",
                                                         "version": "0.2.0", "venv": str(venv)})
    log = explain(runner)
    assert run.ok, log
    assert run.outputs["version"] == "0.2.0"
    assert "download --no-deps --only-binary :all:" in log and "mlgate==0.2.0" in log
    assert "--no-build-isolation" not in log  # nothing is built
    assert f"--require-hashes --only-binary :all: -r {tree}/actions/setup/lock/base.txt" in log
    record = json.loads((venv / "mlgate-setup.json").read_text())
    assert record["mode"] == "index" and record["version"] == "0.2.0"
    wheel = next(index.glob("mlgate-0.2.0-*.whl"))
    assert record["wheel_sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()


# -- the project's requirements ---------------------------------------------------------------

def test_the_cache_key_follows_the_project_requirements(install: ModuleType, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    tree = runner_layout(tmp_path / "runner", ref="d" * 40)
    env = {"GITHUB_ACTION_PATH": str(tree / "actions" / "setup"), "RUNNER_OS": "Linux",
           "RUNNER_ARCH": "X64", "MLGATE_VENV": str(tmp_path / "venv")}
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.5.2\n")
    plain = install.plan(env, sys.executable)
    with_req = install.plan({**env, "MLGATE_REQUIREMENTS": "requirements.txt"}, sys.executable)
    assert with_req["key"].startswith(plain["key"] + "-req")
    assert with_req["requirements"] == "requirements.txt"
    assert with_req["requirements-trust"] == "default-branch"
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.6.0\n")
    again = install.plan({**env, "MLGATE_REQUIREMENTS": "requirements.txt"}, sys.executable)
    assert again["key"] != with_req["key"]
    for bad in ({"MLGATE_CACHE": "sometimes"}, {"MLGATE_REQUIREMENTS_TRUST": "anything"}):
        with pytest.raises(install.SetupError):
            install.plan({**env, **bad}, sys.executable)
    assert install.plan({**env, "MLGATE_CACHE": "restore"}, sys.executable)["cacheable"] == \
        "restore"


def test_requirements_go_into_mlgates_environment(
        install: ModuleType, setup_from_checkout: Any, churn_repo: Path,
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """pandas is already there (offline: no index), so pip only checks it; in an untrusted run
    the default branch's file is what is installed, and a line that reads the work tree stops
    the setup."""
    from tests.support.repos import commit_all

    (churn_repo / "requirements.txt").write_text("pandas\n")
    commit_all(churn_repo, "requirements", push=True)
    monkeypatch.chdir(churn_repo)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    venv = setup_from_checkout.venv
    install.install_requirements(venv, ["requirements.txt"], "default-branch")
    assert "Requirement already satisfied: pandas" in capfd.readouterr().out

    # The pull request's copy asks for its own package: the default branch's is installed.
    (churn_repo / "requirements.txt").write_text("pandas\n-e ./evil\n")
    monkeypatch.setenv("MLGATE_UNTRUSTED", "1")
    monkeypatch.setenv("MLGATE_DEFAULT_BRANCH", "main")
    install.install_requirements(venv, ["requirements.txt"], "default-branch")
    out = capfd.readouterr()
    assert "requirements: main:requirements.txt (untrusted run" in out.err
    assert "evil" not in out.out

    # The training job installs the pull request's own (here: refused by pip, no such dir).
    with pytest.raises(install.SetupError):
        install.install_requirements(venv, ["requirements.txt"], "work-tree")
    assert "evil" in "".join(capfd.readouterr())

    # A default branch whose file reaches outside: refused before pip runs.
    commit_all(churn_repo, "main reads the work tree", push=True)
    with pytest.raises(install.SetupError, match="cannot be installed"):
        install.install_requirements(venv, ["requirements.txt"], "default-branch")
    assert "main:requirements.txt:2" in capfd.readouterr().err
