"""The open-model schedule on one event loop, whatever carries the requests.

Request *i* is due at ``t0 + due(i)`` (:mod:`mlgate.load.schedule`). :class:`Paced` walks this
process's share of the slots (``first, first + step, ...``) with one timer: when it fires, every
slot that has fallen due is handed to :meth:`Paced.dispatch` with its intended send time, and
the timer is set for the next one. Latency is measured from that intended time by whoever
completes the request, so a slow server cannot hide its queueing (coordinated omission).

The HTTP/1.1 client (:mod:`mlgate.load.generator`) and the gRPC one
(:mod:`mlgate.load.grpc_client`) differ only in how a due request is sent and answered; the
pacing, the periodic sweep and the end of the run are shared here.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from mlgate.load.stats import Recorder

if TYPE_CHECKING:
    from mlgate.load.generator import Plan

SWEEP = 0.01  # seconds between two sweeps (timeouts, progress)


class Paced:
    """This process's share of the schedule; subclasses send what :meth:`dispatch` gets."""

    def __init__(self, plan: Plan, t0: float, first: int, step: int, recorder: Recorder,
                 tick: Callable[[Recorder], None] | None) -> None:
        self.plan = plan
        self.t0 = t0
        self.due_at = plan.schedule().due  # seconds from t0 at which slot i is due
        self.first, self.step = first, step
        self.local_total = len(range(first, plan.total_slots, step))
        self.next_j = 0
        self.recorder = recorder
        self.tick = tick
        self.limit = plan.connections_per_process()  # requests in flight at most
        self.timeout = plan.timeout
        # Due requests that found no free connection (or in-flight slot) yet:
        # (slot, intended send time, whether this is a resend).
        self.waiting: collections.deque[tuple[int, float, bool]] = collections.deque()
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()

    async def run(self) -> None:
        loop = self.loop
        loop.call_at(self.t0, self._due)
        sweeper = loop.call_later(SWEEP, self._on_sweep)
        try:
            await self.done
        finally:
            sweeper.cancel()
            await self.shutdown()

    def _due(self) -> None:
        """Send every request that has fallen due, then wake up when the next one is."""
        now = time.monotonic()
        t0, due_at, first, step = self.t0, self.due_at, self.first, self.step
        j, total = self.next_j, self.local_total
        while j < total:
            slot = first + j * step
            intended = t0 + due_at(slot)
            if intended > now:
                self.next_j = j
                self.loop.call_at(intended, self._due)
                return
            j += 1
            self.dispatch(slot, intended, False)
        self.next_j = j
        self.check_done()

    def _on_sweep(self) -> None:
        self.sweep()
        if self.tick:
            self.tick(self.recorder)
        if not self.done.done():
            self.loop.call_later(SWEEP, self._on_sweep)

    def check_done(self) -> None:
        """Finish once every slot was sent and nothing is waiting or in flight."""
        if self.next_j < self.local_total or self.waiting or self.done.done():
            return
        if self.in_flight():
            return
        self.done.set_result(None)

    # what a transport provides ------------------------------------------------------------
    def dispatch(self, slot: int, intended: float, retried: bool) -> None:
        raise NotImplementedError

    def in_flight(self) -> bool:
        raise NotImplementedError

    def sweep(self) -> None:
        """Every ``SWEEP`` seconds: find timed-out requests (when the transport does not)."""

    async def shutdown(self) -> None:
        """Close what the run opened."""
