"""Run composite actions and workflow jobs for real, the way the GitHub runner does.

What the runner does and the harness does too: action inputs with their defaults (expressions
included) and ``INPUT_*`` variables, ``env:`` at job, step and ``uses:``-step level, the
runner's ``GITHUB_*``/``RUNNER_*`` variables, one fresh ``GITHUB_OUTPUT``/``GITHUB_ENV``/
``GITHUB_PATH``/``GITHUB_STEP_SUMMARY`` file per step (read back afterwards: step outputs,
environment and PATH for the following steps, the job summary), ``shell: bash`` as
``bash --noprofile --norc -eo pipefail FILE``, ``working-directory``, ``if:`` with the status
functions, ``continue-on-error``, ``GITHUB_ACTION_PATH``, action outputs, job outputs, ``needs``
and workflow_call outputs.

What it does not: ``uses:`` of third-party actions (actions/checkout, setup-python, cache) are
skipped with a note in the log, because the test already stands in the checkout with mlgate on
PATH. ``actions/cache`` has a stand-in: with an ``ActionsCache`` it restores and saves by exact
key as the real one does (saving after the job, or after a top-level action, succeeded);
without one, a cache "hits" when its path already exists. mlgate's own actions
(``./actions/x``, ``$/actions/x`` and ``mlgate-dev/mlgate/actions/x@ref``) and reusable
workflows run from this source tree, or from a copy laid out as the runner lays out a
downloaded action (``runner_layout``). Jobs run one after the other in ``needs`` order,
in one workspace; an ``environment:`` calls a hook, where a test records the reviewers'
approvals that GitHub would wait for.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.actions.expressions import Status, condition, interpolate, to_string

ROOT = Path(__file__).resolve().parents[2]
OWN_REPOSITORY = "mlgate-dev/mlgate"
VENV_BIN = ROOT / ".venv" / "bin"


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a workflow or action file; PyYAML reads the key ``on`` as True, undo that."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and True in data:
        data["on"] = data.pop(True)
    return data


def parse_command_file(text: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` heredocs, as in GITHUB_OUTPUT/GITHUB_ENV."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        heredoc = re.match(r"^([^=]+?)<<(.+)$", line)
        if heredoc and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = heredoc.group(1), heredoc.group(2)
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"unterminated heredoc {delimiter!r} for {name!r}")
            i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ValueError(f"invalid command file line: {line!r}")
    return values


def runner_layout(base: Path, repository: str = OWN_REPOSITORY, ref: str = "0" * 40) -> Path:
    """Copy this checkout's tracked files to ``base/_actions/OWNER/REPO/REF``, as the runner
    lays out the repository of a ``uses: OWNER/REPO/path@REF`` action (a download of that ref,
    without .git), and return that directory. Tracked files are copied as they are in the work
    tree, so uncommitted edits of them are included."""
    dest = base / "_actions" / repository / ref
    listed = subprocess.run(["git", "ls-files", "-z", "--cached"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_symlink() or not source.is_file():  # deleted in the work tree, or a link
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest


@dataclass
class ActionsCache:
    """Stand-in for GitHub's Actions cache: directories saved and restored by exact key.

    Entries are copies (hard links where possible: nothing in a saved environment is edited
    in place), so deleting a restored directory never touches the saved one.
    """

    root: Path
    saved: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    def _entry(self, key: str) -> Path:
        import hashlib

        return self.root / hashlib.sha256(key.encode()).hexdigest()[:32]

    def restore(self, key: str, paths: list[str]) -> bool:
        entry = self._entry(key)
        if not entry.is_dir():
            return False
        for index, path in enumerate(paths):
            target = Path(path)
            if target.exists():
                shutil.rmtree(target)
            _copy_tree(entry / str(index), target)
        self.restored.append(key)
        return True

    def save(self, key: str, paths: list[str]) -> None:
        entry = self._entry(key)
        if entry.exists():  # keys are immutable: the first save wins, as on GitHub
            return
        for index, path in enumerate(paths):
            if Path(path).exists():
                _copy_tree(Path(path), entry / str(index))
        self.saved.append(key)


def _copy_tree(source: Path, target: Path) -> None:
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link_or_copy)


@dataclass
class StepRun:
    """One step as the runner reports it."""

    id: str
    name: str
    outcome: str  # success | failure | skipped
    conclusion: str
    outputs: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    note: str = ""


@dataclass
class ActionRun:
    """A composite action's run: its outputs, its steps and whether it succeeded."""

    outputs: dict[str, str]
    steps: list[StepRun]
    outcome: str

    @property
    def ok(self) -> bool:
        return self.outcome == "success"


@dataclass
class JobRun:
    id: str
    outcome: str
    outputs: dict[str, str]
    steps: list[StepRun]


@dataclass
class Runner:
    """A pretend runner: one workspace, the runner's variables, a log, and the job state."""

    workspace: Path
    github: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    on_environment: Callable[[str, str], None] | None = None
    # Inputs forced onto mlgate's own actions when a workflow uses them, by action name: e.g.
    # {"setup": {"venv": ..., "python-version": ""}} so that `setup` finds a prepared venv.
    input_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    # With a cache, actions/cache restores and saves by key; without, a path that exists hits.
    cache: ActionsCache | None = None
    # Each job on a machine of its own, as on GitHub: a fresh RUNNER_TEMP, and the workspace
    # (a git checkout) reset to its commit, untracked and ignored files removed. Jobs then
    # share only what they pass as outputs and artifacts.
    fresh_jobs: bool = False
    log: list[str] = field(default_factory=list)
    summary: str = ""

    def __post_init__(self) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix="runner-temp-"))
        self.files = Path(tempfile.mkdtemp(prefix="runner-files-"))
        self.artifacts_dir = Path(tempfile.mkdtemp(prefix="runner-artifacts-"))
        self._counter = 0
        self._depth = 0  # nesting of run_action; 0 means a top-level action run by the test
        self._in_job = False
        self._pending_saves: list[tuple[str, list[str]]] = []  # actions/cache post steps
        self.job_env: dict[str, str] = {}  # from GITHUB_ENV, for the rest of the job
        self.job_path: list[str] = []  # from GITHUB_PATH, newest first
        self.github = {
            "repository": "octo-org/churn",
            "repository_owner": "octo-org",
            "sha": "0" * 40,
            "ref": "refs/heads/main",
            "event_name": "push",
            "event": {},
            "run_id": "4242",
            "run_number": "7",
            "run_attempt": "1",
            "actor": "octocat",
            "token": "ghs_harnesstoken",
            "server_url": "https://github.com",
            "api_url": "https://api.github.com",
            "workflow": "harness",
            "job": "harness",
            **self.github,
        }
        self.github["workspace"] = str(self.workspace)
        event_path = self.files / "event.json"
        import json

        event_path.write_text(json.dumps(self.github.get("event") or {}), encoding="utf-8")
        self.github["event_path"] = str(event_path)

    # -- environment -----------------------------------------------------------------------

    def base_env(self) -> dict[str, str]:
        """What every process on a runner gets, before job and step ``env:``."""
        keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SHELL", "TERM")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        g = self.github
        env.update({
            "PATH": os.pathsep.join([*self.job_path, str(VENV_BIN), os.environ.get("PATH", "")]),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": g["repository"],
            "GITHUB_REPOSITORY_OWNER": g["repository_owner"],
            "GITHUB_SHA": g["sha"],
            "GITHUB_REF": g["ref"],
            "GITHUB_EVENT_NAME": g["event_name"],
            "GITHUB_EVENT_PATH": g["event_path"],
            "GITHUB_RUN_ID": str(g["run_id"]),
            "GITHUB_RUN_NUMBER": str(g["run_number"]),
            "GITHUB_RUN_ATTEMPT": str(g["run_attempt"]),
            "GITHUB_ACTOR": g["actor"],
            "GITHUB_SERVER_URL": g["server_url"],
            "GITHUB_API_URL": g["api_url"],
            "GITHUB_WORKSPACE": g["workspace"],
            "GITHUB_WORKFLOW": g["workflow"],
            "GITHUB_JOB": g["job"],
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_NAME": "mlgate-harness",
        })
        env.update(self.env)
        env.update(self.job_env)
        return env

    def runner_context(self) -> dict[str, str]:
        return {"os": "Linux", "arch": "X64", "temp": str(self.temp), "name": "mlgate-harness",
                "tool_cache": str(self.temp / "tool-cache")}

    def note(self, text: str) -> None:
        self.log.append(text)

    # -- composite actions -----------------------------------------------------------------

    def run_action(self, action: str | Path, inputs: Mapping[str, Any] | None = None, *,
                   step_env: Mapping[str, str] | None = None,
                   status: Status | None = None) -> ActionRun:
        """Run a composite action (a directory with action.yml, or a ``uses:`` reference)."""
        action_dir = self.resolve_action(str(action)) if not isinstance(action, Path) else action
        if action_dir is None:
            raise ValueError(f"{action} is not one of mlgate's actions")
        self._depth += 1
        try:
            result = self._run_action(action_dir, inputs, step_env, status)
        finally:
            self._depth -= 1
        if self._depth == 0 and not self._in_job:
            self.post_steps(result.outcome)
        return result

    def post_steps(self, outcome: str) -> None:
        """What the runner does after the job: actions/cache saves what missed, on success."""
        pending, self._pending_saves = self._pending_saves, []
        if self.cache is None or outcome != "success":
            return
        for key, paths in pending:
            self.cache.save(key, paths)
            self.note(f"post actions/cache: saved {paths} under {key}")

    def _run_action(self, action_dir: Path, inputs: Mapping[str, Any] | None,
                    step_env: Mapping[str, str] | None, status: Status | None) -> ActionRun:
        meta = load_yaml(action_dir / "action.yml")
        if meta["runs"]["using"] != "composite":
            raise ValueError(f"{action_dir} is not a composite action")
        given = {k.lower(): v for k, v in (inputs or {}).items()}
        declared = meta.get("inputs") or {}
        unknown = set(given) - {k.lower() for k in declared}
        if unknown:
            raise ValueError(f"{action_dir.name}: unknown inputs {sorted(unknown)}")
        base_ctx = self.contexts(inputs={}, steps={})
        values: dict[str, str] = {}
        for name, spec in declared.items():
            if name.lower() in given:
                values[name] = to_string(given[name.lower()])
            elif spec and "default" in spec:
                values[name] = to_string(interpolate(spec["default"], base_ctx))
            elif spec and spec.get("required"):
                raise ValueError(f"{action_dir.name}: input {name!r} is required")
            else:
                values[name] = ""
        env = dict(step_env or {})
        # Inputs as INPUT_<NAME> (upper-cased, spaces to '_'), as the runner exports them.
        env.update({f"INPUT_{k.upper().replace(' ', '_')}": v for k, v in values.items()})
        parent = status or Status()
        local = Status(failed=parent.failed, cancelled=parent.cancelled)
        steps_ctx: dict[str, Any] = {}
        runs: list[StepRun] = []
        for index, step in enumerate(meta["runs"]["steps"]):
            ctx = self.contexts(inputs=values, steps=steps_ctx, env=env)
            run = self.run_step(step, index, ctx, local, env, action_dir)
            runs.append(run)
            if step.get("id"):
                steps_ctx[step["id"]] = {"outputs": run.outputs, "outcome": run.outcome,
                                         "conclusion": run.conclusion}
            if run.conclusion == "failure":
                local.failed = True
        ctx = self.contexts(inputs=values, steps=steps_ctx, env=env)
        outputs = {name: to_string(interpolate(spec.get("value", ""), ctx))
                   for name, spec in (meta.get("outputs") or {}).items()}
        failed = any(r.conclusion == "failure" for r in runs)
        return ActionRun(outputs, runs, "failure" if failed else "success")

    def resolve_action(self, uses: str) -> Path | None:
        """mlgate's own actions run from this tree; anything else is third-party (None)."""
        if uses.startswith("./"):
            candidate = (self.workspace / uses).resolve()
            if not (candidate / "action.yml").is_file():
                candidate = (ROOT / uses).resolve()
            return candidate if (candidate / "action.yml").is_file() else None
        if uses.startswith("$/"):  # GitHub's self-repository reference: this repository at
            candidate = ROOT / uses[2:]  # the commit that is running, i.e. this source tree
            return candidate if (candidate / "action.yml").is_file() else None
        prefix = OWN_REPOSITORY + "/"
        if uses.startswith(prefix) and "@" in uses:
            candidate = ROOT / uses[len(prefix):].split("@", 1)[0]
            return candidate if (candidate / "action.yml").is_file() else None
        return None

    def contexts(self, *, inputs: Mapping[str, Any], steps: Mapping[str, Any],
                 env: Mapping[str, str] | None = None, **extra: Any) -> dict[str, Any]:
        merged_env = {**self.env, **self.job_env, **(env or {})}
        return {"github": self.github, "runner": self.runner_context(), "inputs": dict(inputs),
                "steps": dict(steps), "env": merged_env, "vars": {}, "secrets": {},
                "job": {"status": "success"}, "matrix": {}, "strategy": {}, "needs": {},
                **extra}

    # -- steps -----------------------------------------------------------------------------

    def run_step(self, step: Mapping[str, Any], index: int, ctx: dict[str, Any],
                 status: Status, inherited_env: Mapping[str, str],
                 action_dir: Path | None) -> StepRun:
        step_id = str(step.get("id") or f"__step{index}")
        name = str(step.get("name") or step.get("uses") or step.get("run", "")).splitlines()[0]
        if not condition(step.get("if"), ctx, status):
            self.note(f"skip {step_id} ({name}): if: {step.get('if')}")
            return StepRun(step_id, name, "skipped", "skipped")
        env = {**inherited_env}
        env.update({k: to_string(v) for k, v in interpolate(step.get("env") or {}, ctx).items()})
        continue_on_error = bool(interpolate(step.get("continue-on-error", False), ctx))
        if "uses" in step:
            run = self.run_uses(step, step_id, name, ctx, status, env)
        else:
            run = self.run_script(step, step_id, name, ctx, env, action_dir)
        if run.outcome == "failure" and continue_on_error:
            run.conclusion = "success"
        return run

    def run_uses(self, step: Mapping[str, Any], step_id: str, name: str,
                 ctx: dict[str, Any], status: Status, env: dict[str, str]) -> StepRun:
        uses = str(step["uses"])
        target = self.resolve_action(uses)
        if target is None:
            outputs: dict[str, str] = {}
            action = uses.split("@", 1)[0]
            with_ = {k: to_string(v) for k, v in
                     interpolate(step.get("with") or {}, ctx).items()}
            if action in ("actions/cache", "actions/cache/restore"):
                paths = with_.get("path", "").split()
                if self.cache is not None:
                    # Restore by exact key; a miss is saved after the job (the post step),
                    # except by actions/cache/restore, which never saves.
                    key = with_.get("key", "")
                    hit = bool(paths) and self.cache.restore(key, paths)
                    if not hit and action == "actions/cache":
                        self._pending_saves.append((key, paths))
                else:
                    # A hit when every path is already there (a test's prepared environment).
                    hit = bool(paths) and all(Path(p).exists() for p in paths)
                outputs["cache-hit"] = "true" if hit else "false"
            elif action in ("actions/upload-artifact", "actions/download-artifact"):
                ok = self._artifact(action, with_)
                if not ok:
                    return StepRun(step_id, name, "failure", "failure", {},
                                   note="artifact stand-in failed")
                stored = self.artifacts_dir / (with_.get("name") or "artifact")
                if action == "actions/upload-artifact" and stored.exists():
                    # What upload-artifact outputs: the artifact's page (here its copy).
                    outputs["artifact-url"] = ("https://github.com/owner/repo/actions/runs/1/"
                                               f"artifacts/{stored.name}")
            self.note(f"skip {step_id}: {uses} is a third-party action (not run by the harness)"
                      + (f"; stand-in outputs: {outputs}" if outputs else ""))
            return StepRun(step_id, name, "success", "success", outputs,
                           note="third-party, skipped")
        inputs = {k: to_string(v) for k, v in interpolate(step.get("with") or {}, ctx).items()}
        override = self.input_overrides.get(target.name)
        if override:
            self.note(f"{step_id}: harness overrides inputs of {target.name}: {override}")
            inputs.update(override)
        self.note(f"run {step_id}: {uses} with {inputs}")
        result = self.run_action(target, inputs, step_env=env, status=status)
        return StepRun(step_id, name, result.outcome, result.outcome, result.outputs)

    def _artifact(self, action: str, with_: Mapping[str, str]) -> bool:
        """actions/upload-artifact and download-artifact for one directory: upload copies its
        contents under the artifact's name (a second upload of a name fails, as it does on
        GitHub without ``overwrite: true``), download copies them back to ``path``."""
        name = with_.get("name") or "artifact"
        store = self.artifacts_dir / name
        if action == "actions/upload-artifact":
            source = Path(with_["path"])
            if store.exists() and with_.get("overwrite") == "true":
                shutil.rmtree(store)  # upload-artifact deletes the old artifact first
            if store.exists():
                self.note(f"upload-artifact: {name} exists already")
                return False
            if not source.is_dir() or not any(source.rglob("*")):
                mode = with_.get("if-no-files-found", "warn")
                self.note(f"upload-artifact: no files at {source} ({mode})")
                return mode != "error"
            shutil.copytree(source, store)
            self.note(f"upload-artifact: {name} <- {source}")
            return True
        if not store.exists():
            self.note(f"download-artifact: no artifact named {name}")
            return False
        target = Path(with_.get("path") or self.workspace)
        shutil.copytree(store, target, dirs_exist_ok=True)
        self.note(f"download-artifact: {name} -> {target}")
        return True

    def run_script(self, step: Mapping[str, Any], step_id: str, name: str,
                   ctx: dict[str, Any], env: dict[str, str], action_dir: Path | None) -> StepRun:
        shell = step.get("shell", "bash")
        if shell != "bash":
            raise ValueError(f"step {step_id}: the harness runs shell: bash only, not {shell}")
        script = to_string(interpolate(step["run"], ctx))
        self._counter += 1
        n = self._counter
        files = {key: self.files / f"{n}-{key.lower()}" for key in
                 ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
        for path in files.values():
            path.write_text("", encoding="utf-8")
        script_file = self.files / f"{n}-step.sh"
        script_file.write_text(script, encoding="utf-8")
        proc_env = {**self.base_env(), **env, **{k: str(v) for k, v in files.items()}}
        if action_dir is not None:
            proc_env["GITHUB_ACTION_PATH"] = str(action_dir)
        workdir = self.workspace
        if step.get("working-directory"):
            workdir = self.workspace / to_string(interpolate(step["working-directory"], ctx))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=workdir, env=proc_env, capture_output=True, text=True, timeout=600,
            check=False,
        )
        self.note(f"run {step_id} ({name}) in {workdir}: exit {proc.returncode}")
        if proc.stdout.strip():
            self.note(proc.stdout.rstrip())
        if proc.stderr.strip():
            self.note(proc.stderr.rstrip())
        outputs = parse_command_file(files["GITHUB_OUTPUT"].read_text(encoding="utf-8"))
        self.job_env.update(parse_command_file(files["GITHUB_ENV"].read_text(encoding="utf-8")))
        for line in files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines():
            if line.strip():
                self.job_path.insert(0, line.strip())
        self.summary += files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
        outcome = "success" if proc.returncode == 0 else "failure"
        return StepRun(step_id, name, outcome, outcome, outputs, proc.returncode)

    # -- workflows -------------------------------------------------------------------------

    def run_workflow(self, path: Path, inputs: Mapping[str, Any] | None = None,
                     secrets: Mapping[str, str] | None = None) -> dict[str, JobRun]:
        """Run a reusable workflow's jobs in ``needs`` order (with ``inputs`` of its
        ``workflow_call``, or of its ``workflow_dispatch`` when the event is one); returns each
        job's run."""
        workflow = load_yaml(path)
        triggers = workflow.get("on") or {}
        call = triggers.get("workflow_call") or {}
        if self.github["event_name"] == "workflow_dispatch" and isinstance(triggers, dict):
            call = triggers.get("workflow_dispatch") or {}  # a manual run's inputs
        values: dict[str, Any] = {}
        for name, spec in (call.get("inputs") or {}).items():
            spec = spec or {}
            if name in (inputs or {}):
                values[name] = (inputs or {})[name]
            elif "default" in spec:
                values[name] = spec["default"]
            elif spec.get("required"):
                raise ValueError(f"{path.name}: input {name!r} is required")
            else:
                values[name] = {"boolean": False, "number": 0}.get(spec.get("type"), "")
        unknown = set(inputs or {}) - set(values)
        if unknown:
            raise ValueError(f"{path.name}: unknown inputs {sorted(unknown)}")
        jobs: dict[str, Any] = workflow["jobs"]
        done: dict[str, JobRun] = {}
        for job_id in _job_order(jobs):
            spec = jobs[job_id]
            needs = [spec["needs"]] if isinstance(spec.get("needs"), str) else spec.get("needs", [])
            needs_ctx = {n: {"result": done[n].outcome, "outputs": done[n].outputs}
                         for n in needs}
            upstream = Status(failed=any(done[n].outcome != "success" for n in needs))
            ctx = self.contexts(inputs=values, steps={}, needs=needs_ctx,
                                secrets=dict(secrets or {}))
            if not condition(spec.get("if"), ctx, upstream):
                self.note(f"skip job {job_id}")
                done[job_id] = JobRun(job_id, "skipped", {}, [])
                continue
            done[job_id] = self.run_job(job_id, spec, ctx, workflow.get("env") or {})
        return done

    def run_job(self, job_id: str, spec: Mapping[str, Any], ctx: dict[str, Any],
                workflow_env: Mapping[str, Any]) -> JobRun:
        self.note(f"job {job_id}")
        if self.fresh_jobs:
            self.temp = Path(tempfile.mkdtemp(prefix="runner-temp-"))
            ctx["runner"] = self.runner_context()
            for args in (["checkout", "--quiet", "--force", "HEAD"], ["clean", "-ffdxq"]):
                subprocess.run(["git", "-C", str(self.workspace), *args], check=True,
                               capture_output=True)
        self.job_env, self.job_path = {}, []
        self.github["job"] = job_id
        environment = spec.get("environment")
        if environment:
            env_name = environment if isinstance(environment, str) else environment["name"]
            env_name = to_string(interpolate(env_name, ctx))
            self.note(f"job {job_id}: environment {env_name} (GitHub waits for its reviewers)")
            if self.on_environment is not None:
                self.on_environment(job_id, env_name)
        job_env = {k: to_string(v) for k, v in
                   interpolate({**workflow_env, **(spec.get("env") or {})}, ctx).items()}
        status = Status()
        steps_ctx: dict[str, Any] = {}
        runs: list[StepRun] = []
        self._in_job = True
        try:
            for index, step in enumerate(spec.get("steps") or []):
                step_ctx = {**ctx, "steps": steps_ctx,
                            "env": {**job_env, **self.job_env}}
                run = self.run_step(step, index, step_ctx, status, job_env, None)
                runs.append(run)
                if step.get("id"):
                    steps_ctx[step["id"]] = {"outputs": run.outputs, "outcome": run.outcome,
                                             "conclusion": run.conclusion}
                if run.conclusion == "failure":
                    status.failed = True
        finally:
            self._in_job = False
        out_ctx = {**ctx, "steps": steps_ctx}
        outputs = {k: to_string(interpolate(v, out_ctx))
                   for k, v in (spec.get("outputs") or {}).items()}
        outcome = "failure" if status.failed else "success"
        self.post_steps(outcome)
        return JobRun(job_id, outcome, outputs, runs)


def _job_order(jobs: Mapping[str, Any]) -> list[str]:
    order: list[str] = []
    pending = dict(jobs)
    while pending:
        ready = [j for j, spec in pending.items()
                 if all(n in order for n in ([spec["needs"]] if isinstance(spec.get("needs"), str)
                                             else spec.get("needs", [])))]
        if not ready:
            raise ValueError(f"jobs with unsatisfiable needs: {sorted(pending)}")
        for j in ready:
            order.append(j)
            del pending[j]
    return order
