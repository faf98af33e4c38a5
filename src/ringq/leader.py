"""Leader-elected maintenance loop: promote, rescue, rotate and prune, run by one process at a time.

Election is a session advisory lock held on a dedicated connection: whoever holds it runs the
maintenance steps, everyone else retries the lock every `acquire_interval`. If the holder dies
or its connection drops, the server releases the lock and another worker takes over.

Election is for efficiency, not safety: every storage step is itself safe under concurrency
(each takes its own locks, with NOWAIT), so a brief overlap of two leaders after a network
partition costs a `MaintenanceBusy`, never a wrong result. Busy/blocked steps are retried on
the next tick rather than waited for, so maintenance never queues behind workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from psycopg import sql

from ringq.backoff import retry_delay
from ringq.errors import MaintenanceBusy, PruneBlocked
from ringq.logs import get_logger
from ringq.metrics import WorkerMetrics, queue_depths
from ringq.types import Ring

log = get_logger("ringq.leader")

# Two-int advisory key space (objsubid=2): never collides with single-bigint locks the storage
# layer may take, and is distinct per schema so several installations share one server.
TRY_LOCK = sql.SQL("SELECT pg_try_advisory_lock(hashtext('ringq.leader'), hashtext({schema}))")
UNLOCK = sql.SQL("SELECT pg_advisory_unlock(hashtext('ringq.leader'), hashtext({schema}))")
PING = sql.SQL("SELECT 1")

RINGS: tuple[Ring, ...] = ("queue", "claim")
# Bound prune work per tick so one tick never monopolises the loop.
MAX_PRUNES_PER_TICK = 8
FAILURE_LOG_INTERVAL = 60.0  # a step that keeps failing is logged at most once per this


class MaintenanceQueue(Protocol):
    async def promote(self) -> int: ...
    async def rescue(self) -> int: ...
    async def rotate(self, ring: Ring) -> int: ...
    async def prune(self, ring: Ring) -> int | None: ...
    async def stats(self) -> Any: ...


@dataclass
class TickReport:
    """What one maintenance pass did (steps that were busy are listed, not raised)."""

    promoted: int = 0
    rescued: int = 0
    rotated: list[str] = field(default_factory=list)
    pruned: list[tuple[str, int]] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # steps that raised (logged, not raised)


@dataclass
class LeaderSettings:
    interval: float = 1.0  # promote + rescue cadence
    # Seal the current slot of each ring this often. Terminal history (results, errors) is kept
    # for about (slots - 1) x this before prune drops it with its slot.
    rotate_interval: float = 600.0
    prune_interval: float = 5.0
    stats_interval: float = 5.0
    acquire_interval: float = 2.0  # how often a follower retries the lock


class MaintenanceLeader:
    def __init__(
        self,
        queue: MaintenanceQueue,
        conninfo: str,
        *,
        schema: str = "ringq",
        settings: LeaderSettings | None = None,
        metrics: WorkerMetrics | None = None,
        name: str = "leader",
    ) -> None:
        self.queue = queue
        self.conninfo = conninfo
        self.schema = schema
        self.settings = settings or LeaderSettings()
        self.metrics = metrics
        self.name = name
        self.is_leader = False
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._stop = asyncio.Event()
        # monotonic time each step last ran; rotate starts "just ran" so a fresh leader does not
        # rotate immediately (every restart would otherwise shorten retention).
        self._last: dict[str, float] = {"rotate": time.monotonic()}
        self._failure_logged: dict[str, float] = {}  # step -> when its failure was last logged

    # -- election -------------------------------------------------------------------------
    async def _try_acquire(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        cur = await self._conn.execute(TRY_LOCK.format(schema=sql.Literal(self.schema)))
        row = await cur.fetchone()
        return bool(row and row[0])

    async def _still_leader(self) -> bool:
        """The lock lives as long as its session: a dead connection means leadership is gone."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            await self._conn.execute(PING)
            return True
        except psycopg.Error:
            return False

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        self.is_leader = False
        if conn is None:
            return
        with contextlib.suppress(psycopg.Error):
            if not conn.closed:
                await conn.execute(UNLOCK.format(schema=sql.Literal(self.schema)))
        with contextlib.suppress(psycopg.Error):
            await conn.close()

    # -- steps ----------------------------------------------------------------------------
    def _due(self, step: str, every: float, now: float) -> bool:
        last = self._last.get(step)
        if last is not None and now - last < every:
            return False
        self._last[step] = now
        return True

    async def _guarded(self, step: str, report: TickReport, call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call()
        except (MaintenanceBusy, PruneBlocked) as exc:
            report.busy.append(step)
            log.debug("maintenance step deferred", extra={"step": step, "reason": str(exc)})
            return None
        except psycopg.OperationalError:
            raise  # the connection is gone: run() drops leadership and backs off
        except Exception as exc:
            # One broken step (e.g. PermissionDenied: prune without TRUNCATE) must not stall the
            # others: it is reported and retried on its own schedule; logged once a minute per step.
            report.failed.append(step)
            now = time.monotonic()
            last = self._failure_logged.get(step)
            if last is None or now - last >= FAILURE_LOG_INTERVAL:
                self._failure_logged[step] = now
                log.error(
                    "maintenance step failed", extra={"step": step, "error": f"{type(exc).__name__}: {exc}"}
                )
            return None

    async def tick(self, *, force: bool = False) -> TickReport:
        """One maintenance pass (the caller must be the leader). `force` runs every step now."""
        report = TickReport()
        s, now = self.settings, time.monotonic()
        if force or self._due("promote", s.interval, now):
            report.promoted = await self._guarded("promote", report, self.queue.promote) or 0
            report.rescued = await self._guarded("rescue", report, self.queue.rescue) or 0
            if report.rescued:
                log.info("rescued expired attempts", extra={"count": report.rescued})
                if self.metrics is not None:
                    self.metrics.rescued.inc(report.rescued)
        # Prune before rotating: a ring can only move on to a slot that has been pruned.
        rotate_due = force or self._due("rotate", s.rotate_interval, now)
        if rotate_due or self._due("prune", s.prune_interval, now):
            for ring in RINGS:
                for _ in range(MAX_PRUNES_PER_TICK):
                    slot = await self._guarded(
                        f"prune.{ring}", report, functools.partial(self.queue.prune, ring)
                    )
                    if slot is None:
                        break
                    report.pruned.append((ring, int(slot)))
                    log.info("pruned slot", extra={"ring": ring, "slot": slot})
        if rotate_due:
            for ring in RINGS:
                got = await self._guarded(
                    f"rotate.{ring}", report, functools.partial(self.queue.rotate, ring)
                )
                if got is not None:
                    report.rotated.append(ring)
                    log.info("rotated ring", extra={"ring": ring, "slot": got})
        if self.metrics is not None and (force or self._due("stats", s.stats_interval, now)):
            stats = await self._guarded("stats", report, self.queue.stats)
            if stats is not None:
                self.metrics.set_queue_depths(queue_depths(stats))
        return report

    # -- loop -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Campaign for the lock and run maintenance while holding it, until `stop()`."""
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    if not self.is_leader:
                        self.is_leader = await self._try_acquire()
                        if self.is_leader:
                            log.info("became maintenance leader", extra={"worker": self.name})
                    elif not await self._still_leader():
                        log.warning("lost maintenance leadership", extra={"worker": self.name})
                        await self._release()
                        continue
                    if self.is_leader:
                        await self.tick()
                    failures = 0
                except psycopg.OperationalError as exc:
                    failures += 1
                    log.warning("maintenance loop lost its connection", extra={"error": str(exc)})
                    await self._release()
                except Exception:
                    failures += 1
                    log.exception("maintenance step failed")
                wait = self.settings.interval if self.is_leader else self.settings.acquire_interval
                wait = retry_delay(min(failures, 5), base=wait, cap=30.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=wait)
        finally:
            await self._release()

    def stop(self) -> None:
        self._stop.set()
