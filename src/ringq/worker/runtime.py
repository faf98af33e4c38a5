"""The asyncio worker: claim in batches, run handlers with bounded concurrency, close attempts in
batched transactions, keep leases alive, and shut down without losing or double-running work.

Life of an attempt here: `claim` → task runs the handler → outcome buffered in the `Outbox` (the
attempt is still heartbeated while buffered) → one `complete_many`/`fail_many` per flush. An
attempt cancelled locally (lease lost, or still running at the shutdown deadline) writes nothing:
it stays open in the database and maintenance rescues it after its deadline.

Waking up: after a short claim the loop waits 2 ms, doubling with each empty claim in a row up to
the bounded poll (`poll_interval`); with a healthy listener an empty claim waits for the next
notification (or the poll) straight away. A dedicated, health-checked LISTEN connection
(`wakeup.Listener`, on by default whenever the worker knows a DSN; `listen=False` turns it off)
also wakes the claim loop the moment an enqueue notifies, so a job enqueued into an idle queue
does not wait for the poll; while that listener is dead (server restart, killed backend) the poll
carries on alone, so a dead wakeup path costs latency up to the poll interval, never stuck jobs.
With a healthy listener the poll may relax to `listen_poll_interval`.

Claiming ahead: while handlers are short (their recent mean duration under `PREFETCH_MAX_DURATION`)
the worker keeps up to `prefetch` claimed attempts ready beyond its free slots, so the next claim's
round trip overlaps the current handlers instead of alternating with them. Ready attempts are
heartbeated like running ones and start the moment a slot frees; with long handlers the worker
claims only for free slots, so it never hoards jobs another worker could run now. At shutdown
ready attempts still start (they are claimed) and finish within the deadline like running ones.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg

from ringq.aclient import AsyncQueue
from ringq.errors import InvalidInput
from ringq.leader import LeaderSettings, MaintenanceLeader
from ringq.logs import get_logger
from ringq.metrics import WorkerMetrics
from ringq.registry import Registry
from ringq.types import ClaimedJob, Failure
from ringq.validation import check_lease, check_seconds
from ringq.worker.attempt import Errored, Outcome, Poisoned, Succeeded, run_attempt
from ringq.worker.heartbeat import Attempt, Heartbeater
from ringq.worker.outbox import FlushReport, Outbox
from ringq.worker.wakeup import Listener

log = get_logger("ringq.worker")

TASK_THREAD_PREFIX = "ringq-task"
# Reconnect backoff for a database that went away: 0.1 s doubling to 5 s.
_RETRY_BASE, _RETRY_CAP = 0.1, 5.0
# Upper bound for the idle/poll knobs: a "bounded poll" that is an hour long bounds nothing.
_MAX_POLL = 3600.0
MAX_CLAIM_LIMIT = 10_000


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _conninfo_of(queue: AsyncQueue) -> str | None:
    """The DSN behind the queue's pool, for the leader's dedicated connection."""
    info = getattr(queue, "conninfo", None)
    if info is None:
        info = getattr(getattr(queue, "_pool", None), "conninfo", None)
    return info if isinstance(info, str) and info else None


@dataclass(frozen=True)
class StopReport:
    """How a shutdown went: `abandoned` attempts were left open for rescue."""

    finished: int
    abandoned: int
    unflushed: int
    seconds: float


_FIRST_IDLE_WAIT = 0.002
# Claim ahead only while handlers are this short on average (seconds, recent mean).
PREFETCH_MAX_DURATION = 0.025
_DURATION_WEIGHT = 0.1  # EWMA weight of the newest handler duration


def idle_wait(empty_claims: int, cap: float) -> float:
    """How long to wait after a short claim that followed `empty_claims` empty ones in a row:
    2 ms, doubling, up to `cap`.

    A claim can come back short while work is queued: it skips lanes whose row lock an enqueuing
    transaction holds until it commits. Retrying soon catches the gap between such commits; a
    queue that stays idle still settles at the bounded poll `cap`.
    """
    return min(cap, _FIRST_IDLE_WAIT * 2 ** min(empty_claims, 30))


class Worker:
    """Runs the handlers of `registry` for jobs claimed from `queue`.

    concurrency     attempts running at once; claims ask for at most the free slots
    claim_batch     cap on one claim (default: concurrency + prefetch)
    prefetch        claimed attempts kept ready beyond the free slots while handlers are short
                    (default: 3 x concurrency; 0 claims only for free slots), see "Claiming ahead"
    lease           seconds an attempt is ours without a heartbeat; heartbeats run every lease/3
    poll_interval   longest idle wait after a claim came back short (the wait starts at 2 ms
                    and doubles with each empty claim in a row, see `idle_wait`)
    flush_interval  how long a finished attempt may wait to be batched with others (2 ms: a flush in
                    flight batches whatever finishes meanwhile, so batches grow with the load)
    flush_batch     flush at once when this many closures are buffered
    maintenance     campaign for the maintenance leadership (promote/rescue/rotate/prune)
    conninfo        DSN for the leader's dedicated connection (default: the queue pool's)
    on_completed    called with the attempts of each committed `complete_many`
    listen          also wake on NOTIFY (dedicated LISTEN connection, health-checked, re-established);
                    default None = on when a DSN is known (conninfo or the queue pool's), else off
    listen_poll_interval  idle poll while the listener is healthy (default: poll_interval); the
                    poll falls back to `poll_interval` whenever the listener is down
    listen_health_interval  seconds of silence after which the LISTEN connection is pinged
    """

    def __init__(
        self,
        queue: AsyncQueue,
        registry: Registry,
        *,
        queues: Sequence[str] | None = None,
        concurrency: int = 10,
        claim_batch: int | None = None,
        lease: float = 30.0,
        poll_interval: float = 0.5,
        flush_interval: float = 0.002,
        flush_batch: int = 200,
        maintenance: bool = True,
        leader_settings: LeaderSettings | None = None,
        conninfo: str | None = None,
        name: str | None = None,
        metrics: WorkerMetrics | None = None,
        on_completed: Callable[[list[ClaimedJob]], None] | None = None,
        listen: bool | None = None,
        prefetch: int | None = None,
        listen_poll_interval: float | None = None,
        listen_health_interval: float = 5.0,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidInput(f"concurrency must be an int >= 1, got {concurrency!r}")
        if claim_batch is not None and (
            isinstance(claim_batch, bool) or not isinstance(claim_batch, int) or claim_batch < 1
        ):
            raise InvalidInput(f"claim_batch must be an int >= 1, got {claim_batch!r}")
        if prefetch is not None and (
            isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0
        ):
            raise InvalidInput(f"prefetch must be an int >= 0, got {prefetch!r}")
        check_lease(lease)  # the same bound the claim applies: finite, positive, at most a week
        for arg, value in (
            ("poll_interval", poll_interval),
            ("listen_health_interval", listen_health_interval),
            *((("listen_poll_interval", listen_poll_interval),) if listen_poll_interval is not None else ()),
        ):
            if check_seconds(arg, value) <= 0 or value > _MAX_POLL:
                raise InvalidInput(f"{arg} must be in (0, {_MAX_POLL}] seconds, got {value!r}")
        if check_seconds("flush_interval", flush_interval) > _MAX_POLL:
            raise InvalidInput(f"flush_interval must be at most {_MAX_POLL} seconds")
        if isinstance(flush_batch, bool) or not isinstance(flush_batch, int) or flush_batch < 1:
            raise InvalidInput(f"flush_batch must be an int >= 1, got {flush_batch!r}")
        self.queue = queue
        self.registry = registry
        self.queues = list(queues) if queues else None
        self.concurrency = concurrency
        # One claim statement takes at most MAX_CLAIM_LIMIT attempts (check_limit's bound).
        self.prefetch = 3 * concurrency if prefetch is None else prefetch
        self.claim_batch = min(claim_batch or concurrency + self.prefetch, MAX_CLAIM_LIMIT)
        self.lease = lease
        self.poll_interval = poll_interval
        self.name = name or default_worker_name()
        self.listen_poll_interval = listen_poll_interval or poll_interval
        self.listener: Listener | None = None
        dsn = conninfo or _conninfo_of(queue)
        if listen and dsn is None:
            raise InvalidInput("listen=True needs conninfo= (the listener holds its own connection)")
        if listen is not False and dsn is not None:
            self.listener = Listener(
                dsn, queue.schema, self._nudge_claims, health_interval=listen_health_interval
            )
        self.metrics = metrics or WorkerMetrics()
        self.on_completed = on_completed
        self.outbox = Outbox(queue, batch_size=flush_batch, interval=flush_interval)
        self.heartbeater = Heartbeater(queue, lease=lease, held=self._held, on_lost=self._on_lost)
        self.leader: MaintenanceLeader | None = None
        if maintenance:
            if dsn is None:
                raise InvalidInput("maintenance=True needs conninfo= (the leader holds its own connection)")
            self.leader = MaintenanceLeader(
                queue,
                dsn,
                schema=queue.schema,
                settings=leader_settings,
                metrics=self.metrics,
                name=self.name,
            )
        # Wait for this many free slots (briefly) before claiming, so claims come in batches.
        self._min_claim = max(1, min(self.claim_batch, concurrency // 4))
        self._running: dict[Attempt, asyncio.Task[None]] = {}
        self._ready: collections.deque[ClaimedJob] = collections.deque()  # claimed, not started
        self._mean_duration = 0.0  # EWMA of handler durations, seconds
        self._lost: set[Attempt] = set()
        self._no_starts = False  # set at the end of shutdown: ready attempts stay unstarted
        self._capacity = asyncio.Event()
        self._nudge = asyncio.Event()  # set by a notification (or stop): claim now
        self._stopping = asyncio.Event()
        self._force = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stop_task: asyncio.Task[StopReport] | None = None
        self._background: list[asyncio.Task[None]] = []
        self._claim_task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.stop_report: StopReport | None = None

    # -- public ---------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return len(self._running)

    async def run(self) -> None:
        """Process jobs until `stop()` (or a signal, see `run_until_signalled`) has finished."""
        if any(not spec.is_async for spec in self.registry):
            self._executor = ThreadPoolExecutor(
                max_workers=self.concurrency, thread_name_prefix=TASK_THREAD_PREFIX
            )
        log.info(
            "worker started",
            extra={
                "worker": self.name,
                "concurrency": self.concurrency,
                "queues": ",".join(self.queues or ["*"]),
            },
        )
        self._claim_task = asyncio.create_task(self._claim_loop(), name="ringq-claim")
        self._background = [
            asyncio.create_task(self._flush_loop(), name="ringq-flush"),
            asyncio.create_task(self.heartbeater.run(), name="ringq-heartbeat"),
        ]
        if self.listener is not None:
            self._background.append(asyncio.create_task(self.listener.run(), name="ringq-listen"))
        leader_task = asyncio.create_task(self.leader.run(), name="ringq-leader") if self.leader else None
        try:
            await self._stopped.wait()
        finally:
            if not self._stopped.is_set():  # run() itself was cancelled: shut down now
                await asyncio.shield(self.stop(0))
            if leader_task is not None:
                await leader_task

    async def stop(self, deadline: float | None = 30.0) -> StopReport:
        """Stop claiming, let in-flight attempts finish for up to `deadline` seconds, flush closures.

        Attempts still running at the deadline are cancelled locally and left open in the
        database; maintenance rescues them after their lease expires. Idempotent.
        """
        if self._stop_task is None:
            self._stop_task = asyncio.create_task(self._shutdown(deadline), name="ringq-shutdown")
        return await asyncio.shield(self._stop_task)

    def force(self) -> None:
        """Give up waiting for in-flight attempts now (a second SIGTERM/SIGINT)."""
        self._force.set()
        self._stopping.set()
        self._nudge.set()
        self._capacity.set()

    # -- claiming -------------------------------------------------------------------------
    def _want(self) -> int:
        """How many attempts a claim may take now: the free slots, plus the claim-ahead room
        while handlers are short."""
        ahead = self.prefetch if self._mean_duration < PREFETCH_MAX_DURATION else 0
        return self.concurrency + ahead - len(self._running) - len(self._ready)

    async def _claim_loop(self) -> None:
        failures = 0
        short = 0  # consecutive empty claims: the idle wait grows with them
        while not self._stopping.is_set():
            self._fill()
            want = self._want()
            if want <= 0:
                self._capacity.clear()
                await self._wait(self._capacity, None)
                continue
            if want < self._min_claim and (self._running or self._ready):
                # Briefly gather free room so claims come in batches (at most 10 ms).
                until = time.monotonic() + 0.01
                while want < self._min_claim and not self._stopping.is_set():
                    left = until - time.monotonic()
                    if left <= 0:
                        break
                    self._capacity.clear()
                    await self._wait(self._capacity, left)
                    want = self._want()
                if want <= 0:
                    continue
            limit = min(want, self.claim_batch)
            self._nudge.clear()  # a notification from now on makes a short claim look again at once
            try:
                jobs = await self.queue.claim(
                    worker=self.name, queues=self.queues, limit=limit, lease=self.lease
                )
                failures = 0
            except psycopg.OperationalError as exc:
                failures += 1
                log.warning("claim failed; will retry", extra={"error": str(exc), "attempt": failures})
                # The server may have restarted: drop the pool's other dead connections too, so
                # neither the next claim nor the application's own calls on this pool meet them.
                check = getattr(self.queue, "check", None)
                if check is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(check(), timeout=2.0)
                await self._wait(self._stopping, min(_RETRY_CAP, _RETRY_BASE * 2**failures))
                continue
            except Exception as exc:
                failures += 1
                log.error("claim failed; will retry", extra={"error": str(exc), "attempt": failures})
                await self._wait(self._stopping, min(_RETRY_CAP, _RETRY_BASE * 2**failures))
                continue
            for job in jobs:
                self.metrics.for_task(job.task).claimed.inc()
            self._ready.extend(jobs)
            self._fill()
            if len(jobs) < limit:
                # Only empty claims grow the wait: a partly filled one means work is flowing.
                short = short + 1 if not jobs else 0
                if not jobs and self.listener is not None and self.listener.healthy:
                    # Nothing claimable now (a lane busy with committed work would have been
                    # waited for): the next enqueue's NOTIFY wakes us, the poll bounds the wait.
                    await self._wait(self._nudge, self._idle_poll())
                else:
                    await self._wait(self._nudge, idle_wait(short, self._idle_poll()))
            else:
                short = 0

    def _idle_poll(self) -> float:
        """The bounded poll: relaxed only while the LISTEN connection is known to be healthy."""
        if self.listener is not None and self.listener.healthy:
            return self.listen_poll_interval
        return self.poll_interval

    def _nudge_claims(self) -> None:
        self._nudge.set()

    @staticmethod
    async def _wait(event: asyncio.Event, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=timeout)

    def _fill(self) -> None:
        """Start ready (claimed) attempts while slots are free."""
        while self._ready and len(self._running) < self.concurrency and not self._no_starts:
            self._start(self._ready.popleft())

    def _start(self, job: ClaimedJob) -> None:
        key = (job.job_id, job.run_lease)
        self._running[key] = asyncio.create_task(self._execute(job), name=f"ringq-job-{job.job_id}")
        self.metrics.in_flight.set(len(self._running))

    # -- executing ------------------------------------------------------------------------
    async def _execute(self, job: ClaimedJob) -> None:
        key = (job.job_id, job.run_lease)
        try:
            outcome = await run_attempt(
                job, self.registry, self.heartbeater.report_progress, self._executor, self._observe_duration
            )
        except asyncio.CancelledError:
            if key in self._lost:
                self._lost.discard(key)
                log.warning(
                    "lease lost; attempt cancelled and its result discarded",
                    extra={"job_id": job.job_id, "run_lease": job.run_lease, "task": job.task},
                )
            else:
                log.info(
                    "attempt abandoned at shutdown; left open for rescue",
                    extra={"job_id": job.job_id, "run_lease": job.run_lease, "task": job.task},
                )
            return
        except Exception as exc:  # a bug in the runtime, not the handler: never lose the attempt silently
            log.exception("attempt runner failed", extra={"job_id": job.job_id})
            outcome = Errored(f"worker error: {exc}", None)
        finally:
            self._running.pop(key, None)
            self.heartbeater.forget(key)
            self._fill()
            self.metrics.in_flight.set(len(self._running))
            self._capacity.set()
        if key in self._lost:  # lost just as the handler returned: its result must not be written
            self._lost.discard(key)
            log.warning(
                "lease lost; result discarded", extra={"job_id": job.job_id, "run_lease": job.run_lease}
            )
            return
        self._record(job, outcome)

    def _observe_duration(self, task: str, seconds: float) -> None:
        self._mean_duration += _DURATION_WEIGHT * (seconds - self._mean_duration)
        self.metrics.for_task(task).handler_duration.observe(seconds)

    def _record(self, job: ClaimedJob, outcome: Outcome) -> None:
        match outcome:
            case Succeeded(result=result):
                self.outbox.add(job, result=result)
            case Errored(error=error, traceback=tb, dead_letter=dead):
                self.metrics.for_task(job.task).failed.inc()
                delay = self._retry_delay(job)
                log.info(
                    "attempt failed",
                    extra={"job_id": job.job_id, "task": job.task, "attempt": job.attempt, "error": error},
                )
                failure = Failure(job.job_id, job.run_lease, error, tb, retry_delay=delay, dead_letter=dead)
                self.outbox.add(job, failure=failure)
            case Poisoned(error=error):
                self.metrics.for_task(job.task).failed.inc()
                log.warning(
                    "dead-lettering job", extra={"job_id": job.job_id, "task": job.task, "reason": error}
                )
                self.outbox.add(
                    job, failure=Failure(job.job_id, job.run_lease, error, None, dead_letter=True)
                )

    def _retry_delay(self, job: ClaimedJob) -> float | None:
        """A task-specific backoff, else None: the storage layer applies the queue's default
        (exponential with jitter, from the attempt count it keeps)."""
        spec = self.registry.get(job.task)
        return spec.backoff.delay(job.attempt) if spec is not None and spec.backoff is not None else None

    # -- leases ---------------------------------------------------------------------------
    def _held(self) -> list[Attempt]:
        """Every attempt still open on our side: ready, running, or finished but not yet flushed."""
        return [(j.job_id, j.run_lease) for j in self._ready] + list(self._running) + self.outbox.attempts()

    def _on_lost(self, attempts: list[Attempt]) -> None:
        """Cancel running attempts the database says are closed. Buffered (finished) ones are left
        to the flush: it learns who closed them — possibly our own earlier, ambiguous commit.
        Ready (not yet started) ones are simply dropped."""
        gone = set(attempts)
        if self._ready and any((j.job_id, j.run_lease) in gone for j in self._ready):
            kept = [j for j in self._ready if (j.job_id, j.run_lease) not in gone]
            self.metrics.lease_lost.inc(len(self._ready) - len(kept))
            self._ready = collections.deque(kept)
        for key in attempts:
            task = self._running.get(key)
            if task is not None and key not in self._lost:
                self.metrics.lease_lost.inc()
                self._lost.add(key)
                task.cancel()

    # -- closing --------------------------------------------------------------------------
    async def _flush_loop(self) -> None:
        failures = 0
        while True:
            await self.outbox.wait_ready()
            try:
                # Shielded: a shutdown cancelling this loop must not cut a commit in half.
                await asyncio.shield(self._flush_once())
                failures = 0
            except psycopg.OperationalError as exc:
                failures += 1
                log.warning(
                    "flush failed; closures kept for retry",
                    extra={"error": str(exc), "pending": len(self.outbox)},
                )
                await asyncio.sleep(min(_RETRY_CAP, _RETRY_BASE * 2**failures))
            except Exception:
                failures += 1
                log.exception("flush failed; closures kept for retry", extra={"pending": len(self.outbox)})
                await asyncio.sleep(min(_RETRY_CAP, _RETRY_BASE * 2**failures))

    async def _flush_once(self) -> None:
        self._account(await self.outbox.flush())

    def _account(self, report: FlushReport) -> None:
        per_task = Counter(job.task for job in report.completed)
        for task, n in per_task.items():
            self.metrics.for_task(task).completed.inc(n)
        for job, how in report.failed:
            if how == "dlq":
                self.metrics.for_task(job.task).dead_lettered.inc()
            else:
                self.metrics.for_task(job.task).retried.inc()
        for job, err in report.lost:
            self.metrics.lease_lost.inc()
            log.warning(
                "attempt was closed by someone else; result discarded",
                extra={"job_id": job.job_id, "run_lease": job.run_lease, "error": str(err)},
            )
        if report.completed and self.on_completed is not None:
            try:
                self.on_completed(report.completed)
            except Exception:
                log.exception("on_completed hook failed")

    @staticmethod
    def _remaining(limit: float | None, reserve: float) -> float | None:
        return None if limit is None else max(0.0, limit - reserve - time.monotonic())

    async def _shutdown(self, deadline: float | None) -> StopReport:
        started = time.monotonic()
        limit = None if deadline is None else started + max(0.0, deadline)
        # Keep a slice of the deadline for the final flush.
        reserve = 0.0 if deadline is None else min(1.0, deadline * 0.2)
        self._stopping.set()
        self._nudge.set()
        self._capacity.set()
        if self.listener is not None:
            self.listener.stop()
        if self.leader is not None:
            self.leader.stop()
        if self._claim_task is not None:
            # A claim in flight normally returns in milliseconds; with the database gone it could
            # sit in the pool for its full timeout. Past the deadline, cancel it: if it had in fact
            # committed, its attempts are orphaned and rescued after their lease, never lost.
            await asyncio.wait({self._claim_task}, timeout=self._remaining(limit, reserve))
            if not self._claim_task.done():
                self._claim_task.cancel()
                await asyncio.gather(self._claim_task, return_exceptions=True)
        # Running and ready (claimed, not started) attempts finish within the deadline alike.
        total = len(self._running) + len(self._ready)
        if total:
            log.info("draining in-flight attempts", extra={"count": total, "deadline": deadline})
            force = asyncio.create_task(self._force.wait())
            while (self._running or self._ready) and not self._force.is_set():
                self._fill()
                timeout = None if limit is None else limit - reserve - time.monotonic()
                if timeout is not None and timeout <= 0:
                    break
                await asyncio.wait(
                    {*self._running.values(), force}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
            force.cancel()
        self._no_starts = True
        left = list(self._running.values())
        unstarted = len(self._ready)
        self._ready.clear()  # never started: left open, rescued after their lease
        abandoned = len(left) + unstarted
        finished = total - abandoned
        for t in left:
            t.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        # Final flush: retried until it lands or the deadline passes.
        failures = 0
        while len(self.outbox):
            try:
                # At least a brief try even at deadline 0: finished work is worth one commit.
                remaining = self._remaining(limit, 0.0)
                await asyncio.wait_for(
                    self._flush_once(), timeout=None if remaining is None else max(remaining, 0.25)
                )
            except (psycopg.OperationalError, TimeoutError) as exc:
                failures += 1
                if limit is not None and time.monotonic() >= limit:
                    log.error("final flush failed; attempts left for rescue", extra={"error": str(exc)})
                    break
                delay = min(_RETRY_CAP, _RETRY_BASE * 2**failures)
                if limit is not None:
                    delay = min(delay, max(0.0, limit - time.monotonic()))
                await asyncio.sleep(delay)
        self.heartbeater.stop()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        report = StopReport(finished, abandoned, len(self.outbox), time.monotonic() - started)
        self.stop_report = report
        log.info(
            "worker stopped",
            extra={
                "worker": self.name,
                "finished": finished,
                "abandoned": abandoned,
                "unflushed": report.unflushed,
            },
        )
        self._stopped.set()
        return report
