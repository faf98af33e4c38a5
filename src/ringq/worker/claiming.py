"""The claim loop and its policies: how much to claim (claiming ahead) and how long to wait.

Waking up: after a short claim the loop waits 2 ms, doubling with each empty claim in a row up to
the bounded poll (`poll_interval`); with a healthy listener an empty claim waits for the next
notification (or the poll) straight away. The listener (`wakeup.Listener`) also wakes the loop
the moment an enqueue notifies; while it is dead the poll carries on alone, so a dead wakeup
path costs latency up to the poll interval, never stuck jobs. With a healthy listener the poll
may relax to `listen_poll_interval`.

Claiming ahead: while handlers are short (their recent mean duration under
`PREFETCH_MAX_DURATION`) the worker keeps up to `prefetch` claimed attempts ready beyond its free
slots, so the next claim's round trip overlaps the current handlers instead of alternating with
them. With long handlers it claims only for free slots, so it never hoards jobs another worker
could run now.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Protocol

import psycopg

from ringq.backoff import reconnect_delay, retry_delay
from ringq.logs import get_logger
from ringq.metrics import WorkerMetrics
from ringq.types import ClaimedJob
from ringq.worker.config import WorkerConfig
from ringq.worker.slots import Slots
from ringq.worker.wakeup import Listener

log = get_logger("ringq.worker")

_FIRST_IDLE_WAIT = 0.002
# Claim ahead only while handlers are this short on average (seconds, recent mean).
PREFETCH_MAX_DURATION = 0.025
_DURATION_WEIGHT = 0.1  # EWMA weight of the newest handler duration
_GATHER_WINDOW = 0.01  # seconds a claim may wait for more free room, so claims come in batches


def idle_wait(empty_claims: int, cap: float) -> float:
    """How long to wait after a short claim that followed `empty_claims` empty ones in a row:
    2 ms, doubling, up to `cap`.

    A claim can come back short while work is queued: it skips lanes whose row lock an enqueuing
    transaction holds until it commits. Retrying soon catches the gap between such commits; a
    queue that stays idle still settles at the bounded poll `cap`.
    """
    return retry_delay(empty_claims, base=_FIRST_IDLE_WAIT, cap=cap)


async def wait_for(event: asyncio.Event, timeout: float | None) -> None:
    """Wait until `event` is set or `timeout` seconds passed (None: no limit)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=timeout)


class Prefetch:
    """How many attempts a claim may take: the free slots, plus room to claim ahead while the
    recent mean handler duration is short."""

    def __init__(self, concurrency: int, ahead: int, claim_limit: int) -> None:
        self.concurrency = concurrency
        self.ahead = ahead
        self.mean_duration = 0.0  # EWMA of handler durations, seconds
        # Wait for this many free slots (briefly) before claiming, so claims come in batches.
        self.min_claim = max(1, min(claim_limit, concurrency // 4))

    def observe(self, seconds: float) -> None:
        self.mean_duration += _DURATION_WEIGHT * (seconds - self.mean_duration)

    def want(self, held: int) -> int:
        """Room for a claim while `held` attempts are running or ready."""
        ahead = self.ahead if self.mean_duration < PREFETCH_MAX_DURATION else 0
        return self.concurrency + ahead - held


class ClaimQueue(Protocol):
    async def claim(
        self, *, worker: str, queues: Sequence[str] | None = None, limit: int = 10, lease: float = 30.0
    ) -> list[ClaimedJob]: ...


class Claimer:
    """Claims while there is room and the worker is not stopping, hands the attempts to the
    slots, and waits (capacity, notification, or the bounded poll) in between."""

    def __init__(
        self,
        queue: ClaimQueue,
        config: WorkerConfig,
        *,
        name: str,
        slots: Slots,
        metrics: WorkerMetrics,
        listener: Listener | None,
        stopping: asyncio.Event,
    ) -> None:
        self.queue = queue
        self.name = name
        self.queues = list(config.queues) if config.queues else None
        self.lease = config.lease
        self.claim_limit = config.claim_limit
        self.prefetch = Prefetch(config.concurrency, config.ahead, config.claim_limit)
        self.slots = slots
        self.metrics = metrics
        self.listener = listener
        self.poll_interval = config.poll_interval
        self.listening_poll_interval = config.listening_poll_interval
        self.stopping = stopping
        self.capacity = asyncio.Event()  # set when a slot frees (or at stop)
        self.nudge = asyncio.Event()  # set by a notification (or stop): claim now

    def wake(self) -> None:
        """A notification arrived: a short claim looks again at once."""
        self.nudge.set()

    def room(self) -> None:
        """A slot freed up."""
        self.capacity.set()

    def stop(self) -> None:
        self.nudge.set()
        self.capacity.set()

    def idle_poll(self) -> float:
        """The bounded poll: relaxed only while the LISTEN connection is known to be healthy."""
        if self.listener is not None and self.listener.healthy:
            return self.listening_poll_interval
        return self.poll_interval

    async def _room(self) -> int:
        """The claim size once there is room (0: none now, look again)."""
        self.slots.fill()
        want = self.prefetch.want(len(self.slots))
        if want <= 0:
            self.capacity.clear()
            await wait_for(self.capacity, None)
            return 0
        if want < self.prefetch.min_claim and len(self.slots):
            # Briefly gather free room so claims come in batches (at most 10 ms).
            until = time.monotonic() + _GATHER_WINDOW
            while want < self.prefetch.min_claim and not self.stopping.is_set():
                left = until - time.monotonic()
                if left <= 0:
                    break
                self.capacity.clear()
                await wait_for(self.capacity, left)
                want = self.prefetch.want(len(self.slots))
        return max(want, 0)

    async def _claim(self, limit: int, failures: int) -> list[ClaimedJob] | None:
        """One claim; None when it failed (logged; the caller waits `reconnect_delay`)."""
        try:
            return await self.queue.claim(worker=self.name, queues=self.queues, limit=limit, lease=self.lease)
        except psycopg.OperationalError as exc:
            log.warning("claim failed; will retry", extra={"error": str(exc), "attempt": failures + 1})
            # The server may have restarted: drop the pool's other dead connections too, so
            # neither the next claim nor the application's own calls on this pool meet them.
            check = getattr(self.queue, "check", None)
            if check is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(check(), timeout=2.0)
        except Exception as exc:
            log.error("claim failed; will retry", extra={"error": str(exc), "attempt": failures + 1})
        return None

    async def run(self) -> None:
        failures = 0
        empty = 0  # consecutive empty claims: the idle wait grows with them
        while not self.stopping.is_set():
            want = await self._room()
            if want <= 0:
                continue
            limit = min(want, self.claim_limit)
            self.nudge.clear()  # a notification from now on makes a short claim look again at once
            jobs = await self._claim(limit, failures)
            if jobs is None:
                failures += 1
                await wait_for(self.stopping, reconnect_delay(failures))
                continue
            failures = 0
            for job in jobs:
                self.metrics.for_task(job.task).claimed.inc()
            self.slots.add(jobs)
            if len(jobs) >= limit:
                empty = 0
                continue
            # Only empty claims grow the wait: a partly filled one means work is flowing.
            empty = empty + 1 if not jobs else 0
            if not jobs and self.listener is not None and self.listener.healthy:
                # Nothing claimable now (a lane busy with committed work would have been
                # waited for): the next enqueue's NOTIFY wakes us, the poll bounds the wait.
                await wait_for(self.nudge, self.idle_poll())
            else:
                await wait_for(self.nudge, idle_wait(empty, self.idle_poll()))
