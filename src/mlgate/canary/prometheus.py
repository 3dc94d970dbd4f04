"""Measure both versions from Prometheus's HTTP API (``/api/v1/query``, ``/api/v1/query_range``).

Every figure is an ``increase()`` over the judged window, grouped by the version label, so one
query returns both versions (and names the versions that exist when a configured one does not):

* requests and errors: ``sum by (version) (increase(REQUESTS{...}[window]))``;
* latency: ``sum by (version, le) (increase(HISTOGRAM_bucket{...}[window]))``, the cumulative
  bucket counts the bootstrap resamples, and ``histogram_quantile`` over the same buckets
  (Prometheus's own quantile, reported next to ours);
* the business metric: its success and total counters, the same way;
* a latency quantile over time for the figure, from ``query_range``.

All instant queries are evaluated at one time, so the figures describe the same window.
``increase()`` extrapolates to the window's edges, so counts are rounded to whole requests.
Anything wrong with the input (nothing listening, a query Prometheus rejects, a metric without
series, a version no series carries) is an :class:`InputError` naming the setting.
"""

from __future__ import annotations

import math
import time
from typing import Any

import requests

from mlgate.canary.sample import VersionSample
from mlgate.canary.settings import CanarySettings, PrometheusSource
from mlgate.canary.stats import Buckets
from mlgate.errors import InputError

TIMELINE_POINTS = 30


class PrometheusAPI:
    """The two query endpoints, with errors turned into one line naming the setting."""

    def __init__(self, source: PrometheusSource, url_where: str) -> None:
        self.source = source
        self.url_where = url_where
        self.session = requests.Session()

    def query(self, expr: str, at: float, where: str) -> list[dict[str, Any]]:
        return self._call("query", {"query": expr, "time": f"{at:.3f}"}, where)

    def query_range(self, expr: str, start: float, end: float, step: float,
                    where: str) -> list[dict[str, Any]]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                  "step": f"{step:g}"}
        return self._call("query_range", params, where)

    def _call(self, endpoint: str, params: dict[str, str], where: str) -> list[dict[str, Any]]:
        url = f"{self.source.url}/api/v1/{endpoint}"
        try:
            response = self.session.get(url, params=params, timeout=self.source.timeout)
        except requests.RequestException as exc:
            raise InputError(f"Prometheus unreachable at {_shown(self.source.url)} "
                             f"({type(exc).__name__})", self.url_where) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            raise InputError(f"{_shown(url)} is not Prometheus's HTTP API (HTTP "
                             f"{response.status_code}, not a Prometheus JSON answer)",
                             self.url_where)
        if body["status"] != "success":
            raise InputError(f"Prometheus rejected the query {params['query']!r}: "
                             f"{body.get('errorType', 'error')}: {body.get('error', '')}", where)
        data = body.get("data") or {}
        result = data.get("result")
        return result if isinstance(result, list) else []


def _shown(url: str) -> str:
    """A URL as messages and reports show it: without user info, which may be a password."""
    from mlgate.provenance import url_input

    return str(url_input(url)["url"])


def with_matchers(selector: str, matchers: list[str]) -> str:
    """``name{a="b"}`` plus matchers ``['version="v1"']`` -> ``name{a="b",version="v1"}``."""
    extra = [m for m in matchers if m]
    if not extra:
        return selector
    if selector.endswith("}"):
        head, inner = selector[:-1].split("{", 1)
        inner = inner.strip().rstrip(",")
        return f"{head}{{{','.join([inner, *extra] if inner else extra)}}}"
    return f"{selector}{{{','.join(extra)}}}"


def label_value(value: str) -> str:
    """A PromQL string literal (quotes and backslashes escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def measure(settings: CanarySettings) -> tuple[VersionSample, VersionSample, dict[str, Any]]:
    """(baseline, canary, facts about the queries) from Prometheus, at the current time."""
    source = settings.prometheus
    assert source is not None
    api = PrometheusAPI(source, settings.where("prometheus.url"))
    label = settings.version_label
    window = f"{max(1, round(settings.window))}s"
    now = time.time()
    versions = (settings.baseline, settings.canary)
    matchers = [source.selector, f"{label}=~{label_value(_alternatives(versions))}"]

    def per_version(selector: str, key: str, suffix: str = "") -> dict[str, float]:
        expr = (f"sum by ({label}) (increase("
                f"{with_matchers(selector + suffix, matchers)}[{window}]))")
        return _by_label(api.query(expr, now, settings.where(key)), label)

    requests_by = per_version(source.requests, "prometheus.requests")
    _require_series(api, source.requests, source.selector, label, requests_by, settings,
                    "prometheus.requests", now, window)
    errors_by = per_version(source.errors, "prometheus.errors")
    if not errors_by:  # no failed request at all, or a wrong name: ask for the bare metric
        _require_metric(api, source.errors, source.selector, settings, "prometheus.errors", now,
                        window)
    bucket_expr = (f"sum by ({label}, le) (increase("
                   f"{with_matchers(source.latency_histogram + '_bucket', matchers)}[{window}]))")
    bucket_rows = api.query(bucket_expr, now, settings.where("prometheus.latency_histogram"))
    if not bucket_rows:
        _require_metric(api, source.latency_histogram + "_bucket", source.selector, settings,
                        "prometheus.latency_histogram", now, window)
    scale = 1000.0 if source.latency_unit == "s" else 1.0
    latency = _buckets_by_version(bucket_rows, label, scale)
    for version in versions:
        if version not in latency:
            raise InputError(f"no {source.latency_histogram}_bucket series with "
                             f"{label}={label_value(version)} in the last {window}",
                             settings.where("prometheus.latency_histogram"))
    successes_by: dict[str, float] = {}
    trials_by: dict[str, float] = {}
    if source.business_success and source.business_total:
        successes_by = per_version(source.business_success, "prometheus.business.success")
        _require_series(api, source.business_success, source.selector, label, successes_by,
                        settings, "prometheus.business.success", now, window, strict=False)
        trials_by = per_version(source.business_total, "prometheus.business.total")
        _require_series(api, source.business_total, source.selector, label, trials_by,
                        settings, "prometheus.business.total", now, window)
    reported = _reported_quantiles(api, settings, matchers, now, window, scale)
    timelines = _timelines(api, settings, matchers, now, scale)
    samples = []
    for version in versions:
        business = bool(source.business_success and source.business_total)
        samples.append(VersionSample(
            version=version,
            requests=round(requests_by.get(version, 0.0)),
            errors=round(errors_by.get(version, 0.0)),
            latency=latency[version],
            successes=round(successes_by.get(version, 0.0)) if business else None,
            trials=round(trials_by.get(version, 0.0)) if business else None,
            reported=reported.get(version, {}),
            timeline=timelines.get(version, []),
        ))
    facts = {"prometheus": _shown(source.url), "window": window, "evaluated_at": round(now, 3),
             "latency_query": bucket_expr,
             "bootstrap": "multinomial redraws of the histogram's bucket counts"}
    return samples[0], samples[1], facts


def _alternatives(values: tuple[str, ...]) -> str:
    """A regular expression matching exactly these label values."""
    import re

    return "|".join(re.escape(v) for v in values)


def _by_label(rows: list[dict[str, Any]], label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for row in rows:
        value = _number(row.get("value"))
        name = (row.get("metric") or {}).get(label)
        if name is not None and value is not None:
            out[str(name)] = out.get(str(name), 0.0) + value
    return out


def _number(pair: Any) -> float | None:
    try:
        value = float(pair[1])
    except (TypeError, ValueError, IndexError):
        return None
    return value if math.isfinite(value) else None


def _buckets_by_version(rows: list[dict[str, Any]], label: str,
                        scale: float) -> dict[str, Buckets]:
    cumulative: dict[str, dict[float, float]] = {}
    for row in rows:
        metric = row.get("metric") or {}
        version, le = metric.get(label), metric.get("le")
        value = _number(row.get("value"))
        if version is None or le is None or value is None:
            continue
        try:
            upper = float(le) * scale
        except ValueError:
            continue
        cumulative.setdefault(str(version), {})[upper] = value
    return {version: Buckets.from_cumulative(list(by_le), list(by_le.values()))
            for version, by_le in cumulative.items()}


def _require_series(api: PrometheusAPI, selector: str, extra: str, label: str,
                    found: dict[str, float], settings: CanarySettings, key: str, now: float,
                    window: str, strict: bool = True) -> None:
    """Both versions must have series of this counter; otherwise say which versions exist."""
    missing = [v for v in (settings.baseline, settings.canary) if v not in found]
    if not missing:
        return
    if not strict and len(missing) < 2:
        return  # a success counter that one version never incremented: zero successes
    expr = f"count by ({label}) ({with_matchers(selector, [extra])})"
    rows = api.query(expr, now, settings.where(key))
    if not rows:
        raise InputError(f"{with_matchers(selector, [extra])} returns no series: check the "
                         f"metric name and canary.prometheus.selector", settings.where(key))
    seen = sorted({str((r.get("metric") or {}).get(label)) for r in rows
                   if (r.get("metric") or {}).get(label) is not None})
    version = missing[0]
    which = "baseline" if version == settings.baseline else "canary"
    if not seen:
        raise InputError(f"the series of {selector} have no label {label!r} "
                         f"(canary.version_label)", settings.where("version_label"))
    if version not in seen:
        raise InputError(f"unknown {label} {version!r}: no series of {selector} has it "
                         f"(values seen: {', '.join(seen)})", settings.where(which))
    raise InputError(f"no data for {label}={version!r} in the last {window} "
                     f"(nothing scraped in the window)", settings.where(key))


def _require_metric(api: PrometheusAPI, selector: str, extra: str, settings: CanarySettings,
                    key: str, now: float, window: str) -> None:
    """A metric that has no series at all is a configuration error (a typo in its name)."""
    name = selector.split("{", 1)[0]
    rows = api.query(f"count({with_matchers(name, [extra])})", now, settings.where(key))
    if not rows:
        raise InputError(f"{with_matchers(name, [extra])} returns no series: check the metric "
                         f"name and canary.prometheus.selector", settings.where(key))
    if key == "prometheus.latency_histogram":
        raise InputError(f"no {name} series for {settings.version_label} "
                         f"{settings.baseline!r} or {settings.canary!r} in the last {window}",
                         settings.where(key))


def _quantile_expr(settings: CanarySettings, matchers: list[str], q: float,
                   window: str) -> str:
    source = settings.prometheus
    assert source is not None
    buckets = with_matchers(source.latency_histogram + "_bucket", matchers)
    return (f"histogram_quantile({q / 100:g}, sum by ({settings.version_label}, le) "
            f"(rate({buckets}[{window}])))")


def _reported_quantiles(api: PrometheusAPI, settings: CanarySettings, matchers: list[str],
                        now: float, window: str,
                        scale: float) -> dict[str, dict[str, float | None]]:
    """Prometheus's own ``histogram_quantile`` per version and quantile (ms)."""
    out: dict[str, dict[str, float | None]] = {}
    for q in settings.quantiles:
        rows = api.query(_quantile_expr(settings, matchers, q, window), now,
                         settings.where("prometheus.latency_histogram"))
        for version, value in _by_label(rows, settings.version_label).items():
            out.setdefault(version, {})[f"p{q:g}"] = value * scale
    return out


def _timelines(api: PrometheusAPI, settings: CanarySettings, matchers: list[str], now: float,
               scale: float) -> dict[str, list[tuple[float, float | None]]]:
    """The highest configured quantile over the window (``query_range``), for the figure."""
    step = max(1.0, settings.window / TIMELINE_POINTS)
    smoothing = f"{max(2, round(2 * step))}s"
    start = now - settings.window
    expr = _quantile_expr(settings, matchers, max(settings.quantiles), smoothing)
    rows = api.query_range(expr, start, now, step, settings.where("prometheus.latency_histogram"))
    out: dict[str, list[tuple[float, float | None]]] = {}
    for row in rows:
        version = (row.get("metric") or {}).get(settings.version_label)
        if version is None:
            continue
        points: list[tuple[float, float | None]] = []
        for pair in row.get("values") or []:
            value = _number(pair)
            points.append((round(float(pair[0]) - start, 3),
                           None if value is None else value * scale))
        out[str(version)] = points
    return out
