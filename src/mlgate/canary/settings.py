"""The ``canary:`` section of mlgate.yaml and the flags of ``mlgate canary``, checked once.

Flags override config keys one by one (a CI step keeps the repository's metric names and passes
``--canary v2`` for the version it just deployed). Every problem is an :class:`InputError` that
names the flag or ``mlgate.yaml:canary.KEY`` before anything is queried or sent; the schema has
already rejected wrong types and unknown keys with a line number when the file was loaded.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mlgate.config import Config
from mlgate.errors import InputError
from mlgate.load.units import parse_duration

SOURCES = ("prometheus", "direct")
# A metric name with optional label matchers: http_requests_total{code=~"5.."}
_SELECTOR = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*(\{.*\})?$", re.DOTALL)
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Tolerance:
    """How much worse the canary may be before it counts as worse at all."""

    latency: float = 0.10  # relative to the baseline's quantile ...
    latency_ms: float = 5.0  # ... but never less than this many milliseconds
    error_rate: float = 0.005  # absolute: percentage points / 100
    conversion_rate: float = 0.005  # absolute drop


@dataclass
class PrometheusSource:
    url: str
    latency_histogram: str  # base name of the histogram (``_bucket`` is appended)
    requests: str  # counter of requests (selector)
    errors: str  # counter of failed requests (selector)
    business_success: str | None = None  # e.g. conversions_total
    business_total: str | None = None  # e.g. http_requests_total
    selector: str = ""  # label matchers added to every query, e.g. job="churn-api"
    latency_unit: str = "s"  # the histogram's unit (Prometheus convention: seconds)
    timeout: float = 10.0


@dataclass
class DirectSource:
    baseline_url: str
    canary_url: str
    rate: float = 100.0  # total requests per second over both versions
    canary_share: float = 0.05  # the canary's part of the rate
    duration: float = 30.0
    warmup: float = 0.0
    timeout: float = 5.0
    method: str = "GET"


@dataclass
class CanarySettings:
    source: str
    baseline: str
    canary: str
    version_label: str = "version"
    window: float = 600.0  # seconds of Prometheus data judged
    quantiles: list[float] = field(default_factory=lambda: [50.0, 95.0, 99.0])
    min_samples: int = 500
    confidence: float = 0.95
    resamples: int = 2000
    seed: int = 0
    tolerance: Tolerance = field(default_factory=Tolerance)
    prometheus: PrometheusSource | None = None
    direct: DirectSource | None = None
    # where each setting came from, for messages: "canary.prometheus.url" -> "--prometheus-url"
    origin: dict[str, str] = field(default_factory=dict)

    def where(self, key: str) -> str:
        return self.origin.get(key, f"canary.{key}")


class _Reader:
    """Reads a setting from its flag, else from the config, remembering which it was."""

    def __init__(self, args: argparse.Namespace, config: Config | None) -> None:
        self.args = args
        self.config = config
        self.section: dict[str, Any] = config.section("canary") if config else {}
        self.origin: dict[str, str] = {}

    def get(self, key: str, flag: str | None = None, default: Any = None) -> Any:
        if flag is not None:
            value = getattr(self.args, flag.lstrip("-").replace("-", "_"), None)
            if value is not None:
                self.origin[key] = flag
                return value
        node: Any = self.section
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        self.origin[key] = (self.config.where("canary", *key.split(".")) if self.config
                            else flag or f"canary.{key}")
        return default if node is None else node

    def where(self, key: str) -> str:
        return self.origin.get(key) or (
            self.config.where("canary", *key.split(".")) if self.config else f"canary.{key}")


def parse_fraction(value: Any, source: str) -> float:
    """``5%`` or ``0.05`` (a bare number is a fraction) as a float in [0, 1]."""
    text = str(value).strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise InputError(f"expected a fraction such as 0.05 or 5%, got {value!r}",
                         source) from None
    if isinstance(value, bool) or not 0 <= number <= 1:
        raise InputError(f"expected a fraction between 0 and 1 (0%-100%), got {value!r}", source)
    return number


def _selector(value: Any, source: str) -> str:
    text = str(value).strip()
    if not _SELECTOR.match(text):
        raise InputError(f"expected a metric name with optional label matchers such as "
                         f'http_requests_total{{code=~"5.."}}, got {value!r}', source)
    return text


def _url(value: Any, source: str) -> str:
    text = str(value or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"expected an http(s) URL, got {value!r}", source)
    return text


def _required(reader: _Reader, key: str, flag: str | None) -> Any:
    value = reader.get(key, flag)
    if value in (None, ""):
        hint = f" (or {flag})" if flag else ""
        raise InputError(f"is required{hint}", reader.where(key))
    return value


def from_sources(args: argparse.Namespace, config: Config | None) -> CanarySettings:
    """The settings of one ``mlgate canary`` run from its flags and config."""
    r = _Reader(args, config)
    source = str(r.get("source", "--source", "prometheus"))
    if source not in SOURCES:
        raise InputError(f"expected one of {', '.join(SOURCES)}, got {source!r}",
                         r.where("source"))
    settings = CanarySettings(
        source=source,
        baseline=str(_required(r, "baseline", "--baseline")),
        canary=str(_required(r, "canary", "--canary")),
    )
    if settings.baseline == settings.canary:
        raise InputError(f"the canary and the baseline are the same version "
                         f"({settings.canary!r})", r.where("canary"))
    settings.version_label = str(r.get("version_label", "--version-label", "version"))
    if not _LABEL.match(settings.version_label):
        raise InputError(f"expected a Prometheus label name, got {settings.version_label!r}",
                         r.where("version_label"))
    settings.window = parse_duration(r.get("window", "--window", "10m"), r.where("window"))
    if settings.window < 1:
        raise InputError("must be at least 1s", r.where("window"))
    quantiles = r.get("quantiles", None, [50, 95, 99])
    if not quantiles or any(not 0 < float(q) < 100 for q in quantiles):
        raise InputError(f"expected percentiles between 0 and 100 such as [50, 95, 99], "
                         f"got {quantiles!r}", r.where("quantiles"))
    settings.quantiles = sorted({float(q) for q in quantiles})
    settings.min_samples = _positive_int(r.get("min_samples", "--min-samples", 500),
                                         r.where("min_samples"))
    settings.confidence = parse_fraction(r.get("confidence", None, 0.95), r.where("confidence"))
    if not 0.5 <= settings.confidence < 1:
        raise InputError("expected a confidence between 0.5 and 1, e.g. 0.95",
                         r.where("confidence"))
    settings.resamples = _positive_int(r.get("bootstrap", None, 2000), r.where("bootstrap"))
    settings.seed = int(r.get("seed", None, 0))
    settings.tolerance = Tolerance(
        latency=_nonnegative(r.get("tolerance.latency", None, 0.10), r.where("tolerance.latency"),
                             fraction=True),
        latency_ms=_nonnegative(r.get("tolerance.latency_ms", None, 5.0),
                                r.where("tolerance.latency_ms")),
        error_rate=parse_fraction(r.get("tolerance.error_rate", None, 0.005),
                                  r.where("tolerance.error_rate")),
        conversion_rate=parse_fraction(r.get("tolerance.conversion_rate", None, 0.005),
                                       r.where("tolerance.conversion_rate")),
    )
    if source == "prometheus":
        settings.prometheus = _prometheus(r)
    else:
        settings.direct = _direct(r)
    settings.origin = r.origin
    return settings


def _prometheus(r: _Reader) -> PrometheusSource:
    url = _url(_required(r, "prometheus.url", "--prometheus-url"), r.where("prometheus.url"))
    names = {}
    for key in ("latency_histogram", "requests", "errors"):
        full = f"prometheus.{key}"
        names[key] = _selector(_required(r, full, None), r.where(full))
    if "{" in names["latency_histogram"]:
        raise InputError("expected the histogram's base name (its _bucket series are queried); "
                         "put label matchers in canary.prometheus.selector",
                         r.where("prometheus.latency_histogram"))
    business = r.get("prometheus.business", None, None)
    success = total = None
    if business is not None:
        success = _selector(_required(r, "prometheus.business.success", None),
                            r.where("prometheus.business.success"))
        total = _selector(_required(r, "prometheus.business.total", None),
                          r.where("prometheus.business.total"))
    selector = str(r.get("prometheus.selector", None, "") or "").strip().strip("{}").strip()
    unit = str(r.get("prometheus.latency_unit", None, "s"))
    if unit not in ("s", "ms"):
        raise InputError(f"expected s or ms, got {unit!r}", r.where("prometheus.latency_unit"))
    timeout = parse_duration(r.get("prometheus.timeout", None, "10s"),
                             r.where("prometheus.timeout"))
    return PrometheusSource(url.rstrip("/"), names["latency_histogram"], names["requests"],
                            names["errors"], success, total, selector, unit, timeout or 10.0)


def _direct(r: _Reader) -> DirectSource:
    baseline = _url(_required(r, "direct.baseline_url", "--baseline-url"),
                    r.where("direct.baseline_url"))
    canary = _url(_required(r, "direct.canary_url", "--canary-url"),
                  r.where("direct.canary_url"))
    rate = float(r.get("direct.rate", "--rate", 100))
    if rate <= 0:
        raise InputError(f"must be above 0, got {rate:g}", r.where("direct.rate"))
    share = parse_fraction(r.get("direct.canary_share", "--canary-share", 0.05),
                           r.where("direct.canary_share"))
    if not 0 < share < 0.5:
        raise InputError(f"expected the canary's share of the traffic, above 0 and below 50% "
                         f"(typically 1-5%), got {share:.3g}", r.where("direct.canary_share"))
    duration = parse_duration(r.get("direct.duration", "--duration", "30s"),
                              r.where("direct.duration"))
    if duration <= 0:
        raise InputError("must be above 0", r.where("direct.duration"))
    return DirectSource(
        baseline, canary, rate, share, duration,
        warmup=parse_duration(r.get("direct.warmup", None, 0), r.where("direct.warmup")),
        timeout=parse_duration(r.get("direct.timeout", None, "5s"), r.where("direct.timeout"))
        or 5.0,
        method=str(r.get("direct.method", None, "GET")).upper(),
    )


def _positive_int(value: Any, source: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(f"expected a whole number, got {value!r}", source) from None
    if isinstance(value, bool) or number < 1:
        raise InputError(f"expected a whole number of at least 1, got {value!r}", source)
    return number


def _nonnegative(value: Any, source: str, fraction: bool = False) -> float:
    if fraction:
        text = str(value).strip()
        if text.endswith("%"):
            value = text[:-1]
            scale = 0.01
        else:
            scale = 1.0
    else:
        scale = 1.0
    try:
        number = float(value) * scale
    except (TypeError, ValueError):
        raise InputError(f"expected a number, got {value!r}", source) from None
    if number < 0:
        raise InputError(f"must not be negative, got {value!r}", source)
    return number
