"""Judge a canary against its baseline: one check per statistic, then one decision.

Decision rule (the order matters):

1. **rollback** when any statistic shows the canary worse *beyond its tolerance* and the
   evidence excludes chance: a latency quantile whose difference (canary minus baseline)
   exceeds ``max(tolerance.latency_ms, tolerance.latency x baseline quantile)`` with a bootstrap
   interval wholly above zero; an error rate higher by more than ``tolerance.error_rate`` with
   a two-proportion test significant at ``1 - confidence``; a business rate lower by more than
   ``tolerance.conversion_rate``, likewise significant;
2. **inconclusive** when either version served fewer than ``min_samples`` requests (then no
   statistic is trusted, a "worse" one included: it is reported as a warning), or a statistic
   could not be computed (no latency observed);
3. **promote** otherwise: enough traffic and nothing significantly worse.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.canary.sample import VersionSample
from mlgate.canary.settings import CanarySettings
from mlgate.canary.stats import (
    Difference,
    ProportionTest,
    bootstrap_quantile_difference,
    two_proportion_test,
)
from mlgate.load.units import format_ms
from mlgate.result import CheckResult, Status

PROMOTE, ROLLBACK, INCONCLUSIVE = "promote", "rollback", "inconclusive"


@dataclass
class Verdict:
    decision: str
    checks: list[CheckResult]
    reason: str
    latency: dict[str, Difference | None]


def judge(settings: CanarySettings, baseline: VersionSample, canary: VersionSample) -> Verdict:
    """All checks and the decision for one pair of samples (see the module docstring)."""
    enough = min(baseline.requests, canary.requests) >= settings.min_samples
    checks = [_sample_size(settings, baseline, canary, enough)]
    latency: dict[str, Difference | None] = {}
    for q in settings.quantiles:
        difference = bootstrap_quantile_difference(
            baseline.latency, canary.latency, q / 100, settings.resamples,
            settings.confidence, settings.seed)
        latency[f"p{q:g}"] = difference
        checks.append(_latency_check(settings, q, difference))
    checks.append(_rate_check(
        settings, "error rate", two_proportion_test(baseline.errors, baseline.requests,
                                                    canary.errors, canary.requests),
        settings.tolerance.error_rate, higher_is_worse=True))
    if baseline.trials is not None and canary.trials is not None:
        checks.append(_rate_check(
            settings, "conversion rate",
            two_proportion_test(baseline.successes or 0, baseline.trials,
                                canary.successes or 0, canary.trials),
            settings.tolerance.conversion_rate, higher_is_worse=False))
    worse = [c for c in checks[1:] if c.status is Status.FAIL]
    unknown = [c for c in checks[1:] if c.value is None]
    if not enough:
        for check in worse:
            check.status = Status.WARN
            check.message += " (not judged: too few requests)"
        decision = INCONCLUSIVE
        reason = (f"too little traffic: {min(baseline.requests, canary.requests)} requests "
                  f"for the smaller version, {settings.min_samples} needed (canary.min_samples)")
    elif worse:
        decision = ROLLBACK
        reason = "the canary is worse: " + "; ".join(c.name for c in worse)
    elif unknown:
        decision = INCONCLUSIVE
        reason = "no data for " + ", ".join(c.name for c in unknown)
    else:
        decision = PROMOTE
        reason = (f"enough traffic ({canary.requests} canary requests) and no statistic "
                  f"significantly worse")
    status = {PROMOTE: Status.PASS, ROLLBACK: Status.FAIL, INCONCLUSIVE: Status.WARN}[decision]
    checks.append(CheckResult("decision", status, f"{decision}: {reason}", value=decision,
                              details={"baseline": baseline.version, "canary": canary.version}))
    return Verdict(decision, checks, reason, latency)


def _sample_size(settings: CanarySettings, baseline: VersionSample, canary: VersionSample,
                 enough: bool) -> CheckResult:
    smaller = min(baseline.requests, canary.requests)
    message = (f"{baseline.version}: {baseline.requests} requests, {canary.version}: "
               f"{canary.requests} requests; at least {settings.min_samples} each needed")
    return CheckResult("sample size", Status.PASS if enough else Status.WARN, message,
                       value=smaller, threshold=settings.min_samples,
                       details={"baseline": baseline.requests, "canary": canary.requests})


def latency_allowance(settings: CanarySettings, baseline_ms: float) -> float:
    """How many ms slower a quantile may be before it counts as worse."""
    return max(settings.tolerance.latency_ms, settings.tolerance.latency * baseline_ms)


def _latency_check(settings: CanarySettings, q: float,
                   difference: Difference | None) -> CheckResult:
    name = f"latency p{q:g}"
    if difference is None:
        return CheckResult(name, Status.WARN, "no latency observed for a version", value=None)
    allowed = latency_allowance(settings, difference.baseline)
    significant = difference.low > 0
    worse = difference.estimate > allowed and significant
    level = f"{settings.confidence:.0%}"
    message = (f"{difference.canary:.4g}ms vs {difference.baseline:.4g}ms: "
               f"{difference.estimate:+.4g}ms ({level} CI {difference.low:+.4g} to "
               f"{difference.high:+.4g}ms), allowed +{format_ms(allowed)}")
    if worse:
        message += ": slower beyond the tolerance"
    return CheckResult(
        name, Status.FAIL if worse else Status.PASS, message, value=round(difference.estimate, 4),
        threshold=round(allowed, 4),
        details={"baseline_ms": difference.baseline, "canary_ms": difference.canary,
                 "ci_low_ms": difference.low, "ci_high_ms": difference.high,
                 "confidence": settings.confidence, "significant": significant})


def _rate_check(settings: CanarySettings, name: str, test: ProportionTest | None,
                tolerance: float, higher_is_worse: bool) -> CheckResult:
    if test is None:
        return CheckResult(name, Status.WARN, "no requests for a version", value=None)
    harm = test.difference if higher_is_worse else -test.difference
    alpha = 1 - settings.confidence
    worse = harm > tolerance and test.p_value < alpha
    direction = "higher" if higher_is_worse else "lower"
    message = (f"{test.canary:.3%} vs {test.baseline:.3%} ({test.difference * 100:+.3g} points, "
               f"z = {test.z:.2f}, p = {test.p_value:.3g}); worse when {direction} by more than "
               f"{tolerance * 100:.3g} points with p < {alpha:.3g}")
    return CheckResult(
        name, Status.FAIL if worse else Status.PASS, message, value=round(test.difference, 6),
        threshold=tolerance,
        details={"baseline": test.baseline, "canary": test.canary, "z": test.z,
                 "p_value": test.p_value, "alpha": alpha})
