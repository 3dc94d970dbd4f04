"""One description of a load test, whether it comes from flags, mlgate.yaml, or both.

Flags override the ``load:`` section of the config key by key, so a CI step can reuse the
repository's settings and change only, say, ``--url``. All checking of values happens here,
before any process or container is started, including the trust boundary: a configured target
that starts something takes its command, image, environment and allow_pickle from the default
branch in a run whose code is not the default branch's (:mod:`mlgate.trust`).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlgate.config import Config, load_yaml_file
from mlgate.errors import InputError
from mlgate.load.locust_engine import LocustOptions
from mlgate.load.payload import PayloadSpec
from mlgate.load.protocols import PROTOCOLS, endpoint_path, find_protocol
from mlgate.load.schedule import Schedule, Stage
from mlgate.load.slo import SLO, parse_slo
from mlgate.load.targets import TargetSpec
from mlgate.load.units import parse_duration
from mlgate.model.loading import LoadRules, reject_uri
from mlgate.resources import checks_dir
from mlgate.trust import LOAD_TARGET_KEYS, check_unchanged

DEFAULT_SLOS = ["error_rate<1%", "rate>=95%"]
AUTO_PROCESS_RATE = 4000  # req/s one generator process sustains comfortably (asyncio client)


@dataclass
class CapacityOptions:
    """``load.capacity``: search for the highest rate at which every SLO holds."""

    min_rate: float = 1.0  # the first probe; the search doubles from here
    max_rate: float = 1000.0  # never probe above this
    step_duration: float = 5.0  # measured seconds of each probe (after `warmup`)
    precision: float = 0.1  # stop bisecting when (failed - passed) <= precision * passed
    min_required: float | None = None  # the capacity check fails below this rate


@dataclass
class LoadSettings:
    target: TargetSpec
    rate: float
    duration: float
    warmup: float = 0.0
    timeout: float = 5.0
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    payload: PayloadSpec = field(default_factory=PayloadSpec)
    slos: list[SLO] = field(default_factory=list)
    engine: str = "native"
    concurrency: int | None = None
    processes: int = 1
    processes_auto: bool = False  # processes from the rate (recomputed per capacity probe)
    stages: list[Stage] | None = None  # ramping stages instead of a constant rate
    capacity: CapacityOptions | None = None  # capacity search instead of one test
    locust: LocustOptions = field(default_factory=LocustOptions)
    progress: bool = True
    profile_file: Path | None = None  # the SLO profile read (a file or a checks/load preset)
    config_file: Path | None = None  # the mlgate.yaml read, if any


class _Where:
    """Names settings in error messages: ``--rate`` for flags, ``mlgate.yaml:load.rate``."""

    def __init__(self, config: Config | None) -> None:
        self.config = config

    def __call__(self, key: str, flag: str | None, from_flag: bool) -> str:
        if from_flag or self.config is None:
            return flag or f"--{key.split('.')[-1].replace('_', '-')}"
        return self.config.where("load", *key.split("."))


def from_sources(args: argparse.Namespace | None, config: Config | None) -> LoadSettings:
    """Merge flags over the config's ``load:`` section and validate everything."""
    section = config.section("load") if config else {}
    root = config.root if config else Path.cwd()
    where = _Where(config)
    flags = vars(args) if args is not None else {}

    def pick(flag: str, key: str, default: Any = None) -> tuple[Any, bool]:
        value = flags.get(flag)
        if value is not None:
            return value, True
        node: Any = section
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return (default, False) if node is None else (node, False)

    target = _target(flags, section.get("target") or {}, root, where, config)

    mode, mode_flag = _shape(flags, section, where)
    warm_value, warm_flag = pick("warmup", "warmup", 0)
    warmup = parse_duration(warm_value, where("warmup", "--warmup", warm_flag))
    dur_value, dur_flag = pick("duration", "duration", "10s")
    dur_source = where("duration", "--duration", dur_flag)
    # A flag-level shape replaces the configured one, duration included.
    dur_set = flags.get("duration") is not None or (
        not mode_flag and section.get("duration") is not None
    )
    stages: list[Stage] | None = None
    capacity: CapacityOptions | None = None
    if mode == "stages":
        if dur_set:
            raise InputError("stages set the duration (their sum); remove it", dur_source)
        stages = _stages(flags, section, where, mode_flag)
        schedule = Schedule.from_stages(stages)
        source = where("stages", "--stage", mode_flag)
        if warmup >= schedule.total:
            raise InputError(
                f"warm-up ({warmup:g}s) must be shorter than the stages ({schedule.total:g}s): "
                "with stages it is their first part", where("warmup", "--warmup", warm_flag))
        duration = schedule.total - warmup
        rate = schedule.mean_rate(warmup, schedule.total)
        if not rate > 0:
            raise InputError("the stages offer no requests after the warm-up", source)
    elif mode == "capacity":
        capacity = _capacity(section.get("capacity"), where)
        if flags.get("duration") is not None:
            capacity.step_duration = parse_duration(dur_value, "--duration")
            if capacity.step_duration <= 0:
                raise InputError("duration must be positive", "--duration")
        rate, duration = capacity.min_rate, capacity.step_duration
    else:
        rate_value, rate_flag = pick("rate", "rate")
        rate = _positive(rate_value, where("rate", "--rate", rate_flag))
        duration = parse_duration(dur_value, dur_source)
        if duration <= 0:
            raise InputError("duration must be positive", dur_source)
    to_value, to_flag = pick("timeout", "timeout", "5s")
    timeout = parse_duration(to_value, where("timeout", "--timeout", to_flag))
    if timeout <= 0:
        raise InputError("timeout must be positive", where("timeout", "--timeout", to_flag))

    payload = _payload(flags, section.get("payload") or {}, root, where)
    _protocol_target(payload, target, where)
    has_body = payload.data is not None or payload.template is not None
    method, _ = pick("method", "method", "POST" if has_body else "GET")
    headers = dict(section.get("headers") or {})
    for item in flags.get("header") or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise InputError(f"expected 'Name: value', got {item!r}", "--header")
        headers[name.strip()] = value.strip()
    if has_body:
        headers.setdefault("Content-Type", PROTOCOLS[payload.protocol].content_type)

    slos, profile_file = _slos(flags, section, where, config)
    engine, engine_flag = pick("engine", "engine", "native")
    if engine not in ("native", "locust"):
        raise InputError(
            f"engine must be 'native' or 'locust', got {engine!r}",
            where("engine", "--engine", engine_flag),
        )
    conc, conc_flag = pick("concurrency", "concurrency")
    procs, procs_flag = pick("processes", "processes", "auto")
    peak = Schedule.from_stages(stages).peak_rate if stages else rate
    processes = _processes(procs, peak, where("processes", "--processes", procs_flag))
    if PROTOCOLS[payload.protocol].grpc and engine == "locust":
        raise InputError(f"protocol {payload.protocol} needs engine native (Locust's users "
                         "speak HTTP)", where("engine", "--engine", engine_flag))
    if stages and engine == "locust":
        raise InputError(
            "stages need engine native (Locust paces its users at one constant rate)",
            where("engine", "--engine", engine_flag),
        )
    concurrency = None
    if conc is not None:
        concurrency = int(_positive(conc, where("concurrency", "--concurrency", conc_flag)))

    loc = section.get("locust") or {}
    workers, w_flag = pick("locust_workers", "locust.workers", 0)
    locust = LocustOptions(
        users=loc.get("users"),
        workers=int(workers),
        expect_workers=int(loc.get("expect_workers", 0)),
        master_bind_host=str(loc.get("master_bind_host", "127.0.0.1")),
        master_bind_port=loc.get("master_bind_port"),
    )
    if locust.workers < 0:
        raise InputError("must be >= 0", where("locust.workers", "--locust-workers", w_flag))
    return LoadSettings(
        target=target,
        rate=rate,
        duration=duration,
        warmup=warmup,
        timeout=timeout,
        method=str(method).upper(),
        headers=headers,
        payload=payload,
        slos=slos,
        engine=str(engine),
        concurrency=concurrency,
        processes=processes,
        processes_auto=procs in ("auto", None),
        stages=stages,
        capacity=capacity,
        locust=locust,
        progress=not flags.get("quiet", False),
        profile_file=profile_file,
        config_file=config.path if config else None,
    )


SHAPES = {"rate": ("rate", "--rate"), "stages": ("stages", "--stage"),
          "capacity": ("capacity", "--capacity")}


def _shape(
    flags: dict[str, Any], section: dict[str, Any], where: _Where
) -> tuple[str, bool]:
    """Which shape of load (``rate``, ``stages`` or ``capacity``) and whether a flag chose it.

    They are mutually exclusive within flags and within the config; a flag's replaces the
    config's (so ``--rate 50`` runs one constant test with a config that has ``stages``).
    """
    chosen = [k for k in SHAPES if flags.get(k if k != "stages" else "stage")]
    if len(chosen) > 1:
        raise InputError(f"{SHAPES[chosen[0]][1]} and {SHAPES[chosen[1]][1]} are mutually "
                         "exclusive; give one", SHAPES[chosen[1]][1])
    if chosen:
        return chosen[0], True
    configured = [k for k in SHAPES if section.get(k) not in (None, False)]
    if len(configured) > 1:
        raise InputError(f"`{configured[0]}` and `{configured[1]}` are mutually exclusive; "
                         "keep one", where(configured[1], None, False))
    if configured:
        return configured[0], False
    raise InputError("a target rate is required (--rate, --stage or --capacity; or load.rate, "
                     "load.stages or load.capacity)", "--rate")


def _stages(
    flags: dict[str, Any], section: dict[str, Any], where: _Where, from_flag: bool
) -> list[Stage]:
    """``--stage DURATION:RATE`` (repeatable) or ``load.stages: [{duration, rate, ramp}]``."""
    stages: list[Stage] = []
    if from_flag:
        for text in flags["stage"]:
            dur, sep, rate = str(text).partition(":")
            if not sep:
                raise InputError(f"expected DURATION:RATE such as 30s:100, got {text!r}",
                                 "--stage")
            stages.append(Stage(parse_duration(dur, "--stage"), _rate(rate, "--stage")))
    else:
        items = section["stages"]
        if not isinstance(items, list) or not items:
            raise InputError("expected a list of {duration, rate}", where("stages", None, False))
        for i, item in enumerate(items):
            at = where(f"stages[{i}]", None, False)
            if not isinstance(item, dict) or "duration" not in item or "rate" not in item:
                raise InputError("each stage needs `duration` and `rate`", at)
            unknown = set(item) - {"duration", "rate", "ramp"}
            if unknown:
                raise InputError(f"unknown key {sorted(unknown)[0]!r} (duration, rate, ramp)",
                                 at)
            ramp = item.get("ramp", True)
            if not isinstance(ramp, bool):
                raise InputError(f"ramp must be true or false, got {ramp!r}", at)
            stages.append(Stage(parse_duration(item["duration"], at),
                                _rate(item["rate"], where(f"stages[{i}].rate", None, False)),
                                ramp))
    source = where("stages", "--stage", from_flag)
    if sum(s.duration for s in stages) <= 0:
        raise InputError("the stages last 0s; give at least one a duration", source)
    if Schedule.from_stages(stages).offered <= 0:
        raise InputError("every stage has rate 0: nothing would be sent", source)
    return stages


def _capacity(value: Any, where: _Where) -> CapacityOptions:
    opts = CapacityOptions()
    if value is None or isinstance(value, bool):  # `capacity: true`: the defaults
        return opts
    if not isinstance(value, dict):
        raise InputError("expected a mapping (min_rate, max_rate, step_duration, precision, "
                         "min_required)", where("capacity", None, False))
    known = {"min_rate", "max_rate", "step_duration", "precision", "min_required"}
    unknown = set(value) - known
    if unknown:
        raise InputError(f"unknown key {sorted(unknown)[0]!r} ({', '.join(sorted(known))})",
                         where("capacity", None, False))
    for key in ("min_rate", "max_rate", "min_required"):
        if value.get(key) is not None:
            setattr(opts, key, _positive(value[key], where(f"capacity.{key}", None, False)))
    if value.get("step_duration") is not None:
        at = where("capacity.step_duration", None, False)
        opts.step_duration = parse_duration(value["step_duration"], at)
        if opts.step_duration <= 0:
            raise InputError("step_duration must be positive", at)
    if value.get("precision") is not None:
        at = where("capacity.precision", None, False)
        opts.precision = _positive(value["precision"], at)
        if opts.precision >= 1:
            raise InputError("precision is relative: between 0 and 1 (0.1 = 10%)", at)
    if opts.max_rate < opts.min_rate:
        raise InputError(f"max_rate ({opts.max_rate:g}) is below min_rate ({opts.min_rate:g})",
                         where("capacity.max_rate", None, False))
    return opts


def _rate(value: Any, source: str) -> float:
    """A stage's rate: a number of requests per second, 0 allowed (a pause)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"expected a rate in req/s, got {value!r}", source) from None
    if number < 0 or math.isinf(number) or math.isnan(number):
        raise InputError(f"expected a rate >= 0 in req/s, got {value!r}", source)
    return number


def _positive(value: Any, source: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"expected a positive number, got {value!r}", source) from None
    if not number > 0 or math.isinf(number):
        raise InputError(f"expected a positive number, got {value!r}", source)
    return number


def _processes(value: Any, rate: float, source: str) -> int:
    if value in ("auto", None):
        import os

        return max(1, min(os.cpu_count() or 1, math.ceil(rate / AUTO_PROCESS_RATE)))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(f"expected 'auto' or a whole number, got {value!r}", source) from None
    if number < 1:
        raise InputError(f"expected at least 1, got {value!r}", source)
    return number


def _target(
    flags: dict[str, Any],
    section: dict[str, Any],
    root: Path,
    where: _Where,
    config: Config | None,
) -> TargetSpec:
    """The target from flags (any target flag replaces the configured target) or config."""
    startup = flags.get("startup_timeout")
    path = flags.get("path")
    flags = {**flags, "command": flags.get("target_command")}  # args.command is the subcommand
    if any(flags.get(k) for k in ("url", "command", "image", "serve")):
        chosen = [k for k in ("command", "image", "serve") if flags.get(k)]
        if len(chosen) > 1:
            raise InputError(
                f"choose one target: --{chosen[0]} or --{chosen[1]}", f"--{chosen[1]}"
            )
        spec = TargetSpec(kind=chosen[0] if chosen else "url", source=f"--{chosen[0]}"
                          if chosen else "--url", cwd=Path.cwd())
        spec.url = flags.get("url")
        spec.command = flags.get("command")
        spec.health = flags.get("health")
        spec.image = flags.get("image")
        if flags.get("serve"):
            reject_uri(flags["serve"], "--serve")
            spec.model = Path(flags["serve"])
        spec.allow_pickle = bool(flags.get("allow_pickle"))
        if flags.get("container_port"):
            spec.container_port = int(flags["container_port"])
        if flags.get("container_command"):
            spec.container_command = flags["container_command"]
        if spec.kind == "command" and not spec.health:
            raise InputError("--command needs --health URL to know when it is ready", "--health")
        if spec.kind == "image" and spec.health is None:
            spec.health = "/"
    elif section:
        assert config is not None  # a target section comes from a config
        source = where("target", None, False)
        primary = [k for k in ("command", "image", "serve") if k in section]
        if len(primary) > 1 or (not primary and "url" not in section):
            raise InputError("target needs exactly one of url, command, image, serve", source)
        kind = primary[0] if primary else "url"
        if kind != "url":  # it starts a process or container: nothing is started before this
            check_unchanged(config, LOAD_TARGET_KEYS)
        spec = TargetSpec(kind=kind, source=source, cwd=root)
        spec.url = section.get("url")
        spec.command = section.get("command") if kind == "command" else None
        spec.health = section.get("health")
        spec.image = section.get("image")
        if kind == "serve":
            reject_uri(section["serve"], where("target.serve", None, False))
            spec.model = (root / section["serve"]) if not Path(section["serve"]).is_absolute() \
                else Path(section["serve"])
        spec.allow_pickle = bool(section.get("allow_pickle", False))
        spec.container_port = int(section.get("port", 8080))
        if kind == "image":
            spec.container_command = section.get("command")
            spec.health = spec.health or "/"
        spec.env = {str(k): str(v) for k, v in (section.get("env") or {}).items()}
        if kind == "command" and not spec.health:
            raise InputError("a command target needs `health` (a URL)", source)
        if section.get("startup_timeout") is not None and startup is None:
            startup = section["startup_timeout"]
        path = path if path is not None else section.get("path")
    else:
        raise InputError(
            "no target: give --url, --serve MODEL, --command with --health, or --image "
            "(or load.target in mlgate.yaml)",
            "mlgate load-test" if config is None else config.where("load", "target"),
        )
    if startup is not None:
        spec.startup_timeout = parse_duration(startup, "--startup-timeout")
    spec.path = path
    _tls(spec, flags, section, root, where)
    if spec.kind == "serve":
        _serve_rules(spec, config)
    return spec


def _tls(spec: TargetSpec, flags: dict[str, Any], section: dict[str, Any], root: Path,
         where: _Where) -> None:
    """``ca_file`` / ``insecure``: how an https (or grpcs) target's certificate is checked."""
    ca = flags.get("ca_file")
    ca_flag = ca is not None
    if ca is None and section.get("ca_file") is not None:
        ca = section["ca_file"]
        if not isinstance(ca, str) or not ca.strip():
            raise InputError("expected the path of a PEM file", where("target.ca_file", None,
                                                                       False))
        ca = str(root / ca)
    insecure = flags.get("insecure")
    insecure_flag = insecure is not None
    if insecure is None:
        insecure = section.get("insecure", False)
        if not isinstance(insecure, bool):
            raise InputError(f"expected true or false, got {insecure!r}",
                             where("target.insecure", None, False))
    if ca is not None:
        ca_source = where("target.ca_file", "--ca-file", ca_flag)
        if insecure:
            raise InputError("ca_file and insecure contradict each other: choose one",
                             ca_source)
        if not Path(ca).is_file():
            raise InputError(f"CA file not found ({ca_source})", ca)
        spec.ca_file = str(ca)
    spec.insecure = bool(insecure)
    spec.insecure_source = where("target.insecure", "--insecure", insecure_flag)


def _serve_rules(spec: TargetSpec, config: Config | None) -> None:
    """`mlgate serve` loads under the model gate's rules: hand it the config, and refuse here,
    before anything is started, rules the default branch does not have (it checks again)."""
    if config is None:
        return
    spec.config = config.path
    LoadRules.from_config(config, allow_pickle=spec.allow_pickle).verify()


def _payload(
    flags: dict[str, Any], section: dict[str, Any], root: Path, where: _Where
) -> PayloadSpec:
    data = flags.get("data")
    data_flag = data is not None
    if data is None and section.get("data") is not None:
        data = str(root / section["data"]) if not Path(section["data"]).is_absolute() \
            else section["data"]
    template = flags.get("template")
    template_flag = template is not None
    if template is None:
        template = section.get("template")
        if isinstance(template, dict | list):
            template = json.dumps(template)
        elif isinstance(template, str) and not template.lstrip().startswith(("{", "[")):
            template = str(root / template)
    rows = flags.get("rows_per_request") or section.get("rows_per_request", 1)
    drop = list(flags.get("drop") or section.get("drop") or [])
    protocol_value = flags.get("protocol")
    protocol_flag = protocol_value is not None
    if protocol_value is None:
        protocol_value = section.get("protocol", "mlgate")
    protocol_source = where("payload.protocol", "--protocol", protocol_flag)
    protocol = find_protocol(protocol_value, protocol_source)
    model_name = flags.get("model_name")
    model_flag = model_name is not None
    if model_name is None:
        model_name = section.get("model_name")
    if protocol.name != "mlgate":
        if protocol_flag and not template_flag:
            template = None  # --protocol replaces the configured body, as flags do
        if template is not None:
            raise InputError(f"a template and protocol {protocol.name} both shape the body: "
                             "choose one", where("payload.template", "--template",
                                                 template_flag))
        if data is None:
            raise InputError(f"protocol {protocol.name} sends rows of a data file: set one",
                             where("payload.data", "--data", data_flag))
    for key in ("model_name", "api", "api_param"):
        value = model_name if key == "model_name" else section.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()
                                  or any(ch in value for ch in "/?#% ")):
            raise InputError(f"expected a name (no '/', '?', '#', '%' or spaces), got {value!r}",
                             where(f"payload.{key}", "--model-name",
                                   model_flag and key == "model_name"))
    return PayloadSpec(
        data=Path(data) if data else None,
        drop=drop,
        rows_per_request=int(rows),
        template=template,
        seed=int(section.get("seed", 0)),
        data_source=where("payload.data", "--data", data_flag),
        template_source=where("payload.template", "--template", template_flag),
        protocol=protocol.name,
        model_name=str(model_name) if model_name is not None else None,
        api=str(section.get("api", "predict")),
        api_param=str(section.get("api_param", "data")),
        protocol_source=protocol_source,
    )


SERVE_PROTOCOLS = ("mlgate", "oip")  # what `mlgate serve` answers


def _protocol_target(payload: PayloadSpec, target: TargetSpec, where: _Where) -> None:
    """A protocol preset decides the endpoint path under the target's base URL (unless a path
    is set), and names the model in it; `mlgate serve` is told the name it answers to."""
    protocol = PROTOCOLS[payload.protocol]
    if protocol.grpc:
        if target.kind in ("serve", "image"):
            why = "mlgate serve answers oip over HTTP" if target.kind == "serve" else \
                "an image target is health-checked and loaded over HTTP"
            raise InputError(f"protocol {protocol.name} needs a url or command target (a "
                             f"grpc:// URL); {why}", payload.protocol_source)
        if target.path is not None:
            raise InputError("a gRPC target is host:port; remove the path",
                             where("target.path", "--path", False))
        if target.insecure:
            raise InputError("gRPC cannot skip certificate verification: trust the server's "
                             "CA with ca_file instead", target.insecure_source)
        target.grpc = True
    if target.kind == "serve":
        if protocol.name not in SERVE_PROTOCOLS:
            raise InputError(f"mlgate serve speaks {' and '.join(SERVE_PROTOCOLS)}, not "
                             f"{protocol.name}; point a url, command or image target at a "
                             f"{protocol.name} server", payload.protocol_source)
        if protocol.name == "oip":
            assert target.model is not None
            payload.model_name = payload.model_name or target.model.stem
            target.model_name = payload.model_name
    if protocol.needs_model and not payload.model_name:
        raise InputError(f"protocol {protocol.name} names the model in its path "
                         f"({protocol.path}): set the model name",
                         where("payload.model_name", "--model-name", False))
    path = endpoint_path(protocol, payload.model_name, payload.api)
    if path is None or target.path is not None:
        return
    if target.kind == "url" and target.url and \
            urlsplit(target.url).path.rstrip("/").endswith(path):
        return  # the URL already is the endpoint
    target.path = path


def _slos(
    flags: dict[str, Any], section: dict[str, Any], where: _Where, config: Config | None
) -> tuple[list[SLO], Path | None]:
    """Profile SLOs first, then configured ones, then flags; a later one replaces an earlier
    one for the same statistic and direction. Also returns the profile file read, if any."""
    by_key: dict[tuple[str, str], SLO] = {}
    profile = flags.get("profile") or section.get("profile")
    profile_file = None
    if profile:
        source = "--profile" if flags.get("profile") else where("profile", None, False)
        profile_file = find_profile(str(profile), source, config)
        for slo in load_profile(profile_file):
            by_key[(slo.stat, slo.op[0])] = slo
    for i, text in enumerate(section.get("slo") or []):
        slo = parse_slo(text, where(f"slo[{i}]", None, False))
        by_key[(slo.stat, slo.op[0])] = slo
    for text in flags.get("slo") or []:
        slo = parse_slo(text, "--slo")
        by_key[(slo.stat, slo.op[0])] = slo
    if not by_key:
        for text in DEFAULT_SLOS:
            slo = parse_slo(text, "default SLOs")
            by_key[(slo.stat, slo.op[0])] = slo
    return list(by_key.values()), profile_file


def find_profile(name: str, source: str, config: Config | None) -> Path:
    """An SLO profile's file: a YAML file path, or a name in checks/load/ (``interactive``)."""
    candidates = [Path(name)]
    if config is not None:
        candidates.insert(0, config.root / name)
    candidates.append(checks_dir() / "load" / f"{name}.yaml")
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        known = sorted(p.stem for p in (checks_dir() / "load").glob("*.yaml"))
        raise InputError(
            f"no SLO profile {name!r} (built in: {', '.join(known) or 'none'})", source
        )
    return path


def load_profile(path: Path) -> list[SLO]:
    """The SLOs of a profile file (its ``slo:`` list)."""
    document = load_yaml_file(path, "SLO profile", expected="a mapping with an `slo:` list")
    slos = document.get("slo")
    if not isinstance(slos, list) or not slos:
        raise InputError("an SLO profile needs a non-empty `slo:` list", path)
    return [parse_slo(text, f"{path}:slo[{i}]") for i, text in enumerate(slos)]
