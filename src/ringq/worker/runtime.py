"""The asyncio worker: claim in batches, run handlers with bounded concurrency, close attempts in
batched transactions, keep leases alive, and shut down without losing or double-running work.

Life of an attempt here: `claim` (claiming.py) → held in the `Slots`, ready then running → task
runs the handler (attempt.py) → outcome buffered in the `Outbox` (the attempt is still
heartbeated while buffered) → one `complete_many`/`fail_many` per flush. An attempt cancelled
locally (lease lost, or still running at the shutdown deadline) writes nothing: it stays open in
the database and maintenance rescues it after its deadline.

Waking up and claiming ahead are described in claiming.py: a dedicated, health-checked LISTEN
connection (`wakeup.Listener`, on by default whenever the worker knows a DSN; `listen=False`
turns it off) wakes the claim loop the moment an enqueue notifies, and the bounded poll carries
on underneath, so a dead wakeup path costs latency up to the poll interval, never stuck jobs.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ringq.aclient import AsyncQueue
from ringq.errors import InvalidInput
from ringq.leader import LeaderSettings, MaintenanceLeader
from ringq.logs import get_logger
from ringq.metrics import WorkerMetrics
from ringq.registry import Registry
from ringq.types import ClaimedJob, Failure
from ringq.worker.attempt import Errored, Outcome, Poisoned, Succeeded, run_attempt
from ringq.worker.claiming import PREFETCH_MAX_DURATION, Claimer, idle_wait
from ringq.worker.config import MAX_CLAIM_LIMIT, WorkerConfig
from ringq.worker.heartbeat import Attempt, Heartbeater
from ringq.worker.outbox import FlushReport, Outbox
from ringq.worker.slots import Slots, attempt_of
from ringq.worker.wakeup import Listener

__all__ = [
    "MAX_CLAIM_LIMIT",
    "PREFETCH_MAX_DURATION",
    "TASK_THREAD_PREFIX",
    "StopReport",
    "Worker",
    "WorkerConfig",
    "default_worker_name",
    "idle_wait",
]

log = get_logger("ringq.worker")

TASK_THREAD_PREFIX = "ringq-task"


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _conninfo_of(queue: AsyncQueue) -> str | None:
    """The DSN behind the queue's pool, for the leader's dedicated connection."""
    info = getattr(queue, "conninfo", None)
    if info is None:
        info = getattr(getattr(queue, "_pool", None), "conninfo", None)
    return info if isinstance(info, str) and info else None


def _one_config(config: WorkerConfig | None, knobs: WorkerConfig) -> WorkerConfig:
    """`config=` when given (then every knob argument must be left at its default), else the knobs."""
    if config is None:
        return knobs
    if not isinstance(config, WorkerConfig):
        raise InvalidInput(f"config: expected a WorkerConfig, got {type(config).__name__}")
    if knobs != WorkerConfig():
        raise InvalidInput("give the worker's knobs as keyword arguments or as config=, not both")
    return config


@dataclass(frozen=True)
class StopReport:
    """How a shutdown went: `abandoned` attempts were left open for rescue."""

    finished: int
    abandoned: int
    unflushed: int
    seconds: float


class Worker:
    """Runs the handlers of `registry` for jobs claimed from `queue`.

    The knobs come as keyword arguments or as one `config=WorkerConfig(...)` (not both):

    concurrency     attempts running at once; claims ask for at most the free slots
    claim_batch     cap on one claim (default: concurrency + prefetch)
    prefetch        claimed attempts kept ready beyond the free slots while handlers are short
                    (default: 3 x concurrency; 0 claims only for free slots), see claiming.py
    lease           seconds an attempt is ours without a heartbeat; heartbeats run every lease/3
    poll_interval   longest idle wait after a claim came back short (the wait starts at 2 ms
                    and doubles with each empty claim in a row, see `idle_wait`)
    flush_interval  how long a finished attempt may wait to be batched with others (2 ms: a flush in
                    flight batches whatever finishes meanwhile, so batches grow with the load)
    flush_batch     flush at once when this many closures are buffered
    maintenance     campaign for the maintenance leadership (promote/rescue/rotate/prune)
    conninfo        DSN for the leader's dedicated connection (default: the queue pool's)
    listen          also wake on NOTIFY (dedicated LISTEN connection, health-checked, re-established);
                    default None = on when a DSN is known (conninfo or the queue pool's), else off
    listen_poll_interval  idle poll while the listener is healthy (default: poll_interval); the
                    poll falls back to `poll_interval` whenever the listener is down
    listen_health_interval  seconds of silence after which the LISTEN connection is pinged

    `metrics` collects the worker's Prometheus metrics; `on_completed` is called with the attempts
    of each committed `complete_many`.
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
        config: WorkerConfig | None = None,
    ) -> None:
        self.config = config = _one_config(
            config,
            WorkerConfig(
                queues=queues,
                concurrency=concurrency,
                claim_batch=claim_batch,
                prefetch=prefetch,
                lease=lease,
                poll_interval=poll_interval,
                flush_interval=flush_interval,
                flush_batch=flush_batch,
                maintenance=maintenance,
                leader_settings=leader_settings,
                conninfo=conninfo,
                name=name,
                listen=listen,
                listen_poll_interval=listen_poll_interval,
                listen_health_interval=listen_health_interval,
            ),
        )
        self.queue = queue
        self.registry = registry
        self.queues = list(config.queues) if config.queues else None
        self.concurrency = config.concurrency
        self.prefetch = config.ahead
        self.claim_batch = config.claim_limit
        self.lease = config.lease
        self.poll_interval = config.poll_interval
        self.listen_poll_interval = config.listening_poll_interval
        self.name = config.name or default_worker_name()
        self.metrics = metrics or WorkerMetrics()
        self.on_completed = on_completed
        self._stopping = asyncio.Event()
        self._force = asyncio.Event()
        self._stopped = asyncio.Event()
        self._slots = Slots(self.concurrency, self._execute, self.metrics.in_flight.set)
        dsn = config.conninfo or _conninfo_of(queue)
        self.listener = self._make_listener(dsn)
        self._claimer = Claimer(
            queue,
            config,
            name=self.name,
            slots=self._slots,
            metrics=self.metrics,
            listener=self.listener,
            stopping=self._stopping,
        )
        self.outbox = Outbox(
            queue, batch_size=config.flush_batch, interval=config.flush_interval, on_report=self._account
        )
        self.heartbeater = Heartbeater(queue, lease=self.lease, held=self._held, on_lost=self._on_lost)
        self.leader = self._make_leader(dsn)
        self._stop_task: asyncio.Task[StopReport] | None = None
        self._background: list[asyncio.Task[None]] = []
        self._claim_task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.stop_report: StopReport | None = None

    def _make_listener(self, dsn: str | None) -> Listener | None:
        listen = self.config.listen
        if listen and dsn is None:
            raise InvalidInput("listen=True needs conninfo= (the listener holds its own connection)")
        if listen is False or dsn is None:
            return None
        return Listener(
            dsn,
            self.queue.schema,
            self._nudge_claims,
            health_interval=self.config.listen_health_interval,
        )

    def _make_leader(self, dsn: str | None) -> MaintenanceLeader | None:
        if not self.config.maintenance:
            return None
        if dsn is None:
            raise InvalidInput("maintenance=True needs conninfo= (the leader holds its own connection)")
        return MaintenanceLeader(
            self.queue,
            dsn,
            schema=self.queue.schema,
            settings=self.config.leader_settings,
            metrics=self.metrics,
            name=self.name,
        )

    # -- public ---------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return len(self._slots.running)

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
        self._claim_task = asyncio.create_task(self._claimer.run(), name="ringq-claim")
        self._background = [
            asyncio.create_task(self.outbox.run(), name="ringq-flush"),
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
        self._claimer.stop()

    def _nudge_claims(self) -> None:
        self._claimer.wake()

    # -- executing ------------------------------------------------------------------------
    async def _execute(self, job: ClaimedJob) -> None:
        key = attempt_of(job)
        try:
            outcome = await run_attempt(
                job, self.registry, self.heartbeater.report_progress, self._executor, self._observe_duration
            )
        except asyncio.CancelledError:
            if self._slots.was_lost(key):
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
            self.heartbeater.forget(key)
            self._slots.finished(key)
            self._claimer.room()
        if self._slots.was_lost(key):  # lost just as the handler returned: its result must not be written
            log.warning(
                "lease lost; result discarded", extra={"job_id": job.job_id, "run_lease": job.run_lease}
            )
            return
        self._record(job, outcome)

    def _observe_duration(self, task: str, seconds: float) -> None:
        self._claimer.prefetch.observe(seconds)
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
        return self._slots.attempts() + self.outbox.attempts()

    def _on_lost(self, attempts: list[Attempt]) -> None:
        """Cancel running attempts the database says are closed. Buffered (finished) ones are left
        to the flush: it learns who closed them — possibly our own earlier, ambiguous commit.
        Ready (not yet started) ones are simply dropped."""
        lost = self._slots.drop_ready(set(attempts)) + self._slots.cancel_lost(attempts)
        if lost:
            self.metrics.lease_lost.inc(lost)

    # -- closing --------------------------------------------------------------------------
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
        await self._stop_intake(self._remaining(limit, reserve))
        # Running and ready (claimed, not started) attempts finish within the deadline alike.
        total = len(self._slots)
        if total:
            log.info("draining in-flight attempts", extra={"count": total, "deadline": deadline})
            await self._drain(None if limit is None else limit - reserve)
        left, unstarted = self._slots.close()  # unstarted: left open, rescued after their lease
        abandoned = len(left) + unstarted
        finished = total - abandoned
        for t in left:
            t.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        await self.outbox.drain(limit)
        await self._stop_background()
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

    async def _stop_intake(self, timeout: float | None) -> None:
        """Stop claiming, listening and leading; wait up to `timeout` for a claim in flight."""
        self._stopping.set()
        self._claimer.stop()
        if self.listener is not None:
            self.listener.stop()
        if self.leader is not None:
            self.leader.stop()
        if self._claim_task is not None:
            # A claim in flight normally returns in milliseconds; with the database gone it could
            # sit in the pool for its full timeout. Past the deadline, cancel it: if it had in fact
            # committed, its attempts are orphaned and rescued after their lease, never lost.
            await asyncio.wait({self._claim_task}, timeout=timeout)
            if not self._claim_task.done():
                self._claim_task.cancel()
                await asyncio.gather(self._claim_task, return_exceptions=True)

    async def _drain(self, until: float | None) -> None:
        """Let held attempts start and finish until the monotonic time `until` (None: no limit)
        or `force()`."""
        force = asyncio.create_task(self._force.wait())
        slots = self._slots
        while (slots.running or slots.ready) and not self._force.is_set():
            slots.fill()
            timeout = None if until is None else until - time.monotonic()
            if timeout is not None and timeout <= 0:
                break
            await asyncio.wait(
                {*slots.running.values(), force}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        force.cancel()

    async def _stop_background(self) -> None:
        self.heartbeater.stop()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
