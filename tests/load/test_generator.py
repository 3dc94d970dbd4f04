"""The native generator against real local servers: it holds the rate and does not hide stalls."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mlgate.load.generator import Plan, run_native

# Measures rates and latencies: run alone (`-m timing`, see scripts/test.sh), not beside
# other tests competing for the CPU.
pytestmark = pytest.mark.timing


def test_holds_a_modest_rate_against_a_fast_server(stub_server: Callable[..., str]) -> None:
    url = stub_server()
    stats = run_native(Plan(url=url + "/x", rate=100, duration=2, warmup=0.5))
    assert stats.measured == 200
    assert stats.error_count == 0
    assert stats.achieved_rate == pytest.approx(100, rel=0.03)
    assert stats.throughput[0] == pytest.approx(100, abs=4)
    assert stats.latency is not None and stats.latency.total == 200
    assert stats.latency_ms("p50") is not None and stats.latency_ms("p50") < 50


def test_stalls_show_in_p99_coordinated_omission_corrected(
    stub_server: Callable[..., str],
) -> None:
    # The server freezes 200 ms of every second: a fifth of the requests are sent into a
    # stall and truly wait between 0 and 200 ms. p99 must reflect that (true value ~192 ms),
    # not the ~1 ms a closed-loop client timing only its own requests would see.
    url = stub_server("--stall", "0.2", "--stall-every", "1")
    stats = run_native(Plan(url=url, rate=100, duration=3, warmup=0.5))
    assert stats.error_count == 0
    p99 = stats.latency_ms("p99")
    p50 = stats.latency_ms("p50")
    assert p99 is not None and p50 is not None
    assert 150 <= p99 <= 260
    assert p50 < 50
    assert stats.achieved_rate == pytest.approx(100, rel=0.05)


def test_warmup_requests_are_sent_but_not_measured(stub_server: Callable[..., str]) -> None:
    url = stub_server()
    stats = run_native(Plan(url=url, rate=50, duration=1, warmup=1))
    assert stats.measured == 50
    assert stats.extra["sent"] == 100


def test_several_processes_share_one_schedule(stub_server: Callable[..., str]) -> None:
    url = stub_server()
    stats = run_native(
        Plan(url=url, method="POST", bodies=[b'{"a": 1}'], rate=200, duration=1.5, warmup=0.5,
             processes=2)
    )
    assert stats.measured == 300
    assert stats.error_count == 0
    assert stats.achieved_rate == pytest.approx(200, rel=0.05)


def test_errors_are_counted_by_reason(stub_server: Callable[..., str]) -> None:
    url = stub_server("--error-every", "4")
    stats = run_native(Plan(url=url, rate=80, duration=1, warmup=0))
    assert stats.errors.get("HTTP 500") == pytest.approx(20, abs=2)
    assert stats.error_rate == pytest.approx(0.25, abs=0.03)
