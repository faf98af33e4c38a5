"""Lease keeping: extend every attempt this worker still holds, and ship handler progress.

Runs every `lease / 3` (so two consecutive missed beats still leave time before the deadline),
or sooner when a handler reported progress. Attempts the database reports as no longer open
were rescued or cancelled behind our back: the runtime cancels them locally and discards their
results.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import psycopg

from ringq.errors import InvalidInput
from ringq.logs import get_logger

log = get_logger("ringq.worker")

Attempt = tuple[int, int]


class HeartbeatQueue(Protocol):
    async def heartbeat(
        self, attempts: Sequence[Attempt], *, lease: float = 30.0, progress: Mapping[int, Any] | None = None
    ) -> list[Attempt]: ...


class Heartbeater:
    def __init__(
        self,
        queue: HeartbeatQueue,
        *,
        lease: float,
        held: Callable[[], list[Attempt]],
        on_lost: Callable[[list[Attempt]], None],
        progress_delay: float = 0.5,
    ) -> None:
        self.queue = queue
        self.lease = lease
        self.interval = lease / 3
        self.progress_delay = min(progress_delay, self.interval)
        self._held = held
        self._on_lost = on_lost
        self._progress: dict[Attempt, dict[str, Any]] = {}
        self._progress_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup = asyncio.Event()
        self._stop = asyncio.Event()

    def report_progress(self, job_id: int, run_lease: int, data: dict[str, Any]) -> None:
        """Thread-safe progress sink handed to handlers; the latest report per attempt wins."""
        with self._progress_lock:
            self._progress[(job_id, run_lease)] = data
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def forget(self, attempt: Attempt) -> None:
        with self._progress_lock:
            self._progress.pop(attempt, None)

    async def beat(self) -> list[Attempt]:
        """One heartbeat for every held attempt; returns (and reports) the ones found closed."""
        held = self._held()
        if not held:
            return []
        with self._progress_lock:
            progress = {a[0]: self._progress.pop(a) for a in held if a in self._progress}
        try:
            closed = await self.queue.heartbeat(held, lease=self.lease, progress=progress or None)
        except InvalidInput as exc:
            if not progress:
                raise
            # A handler's progress was rejected (too large, not JSON): the lease matters more.
            log.warning("progress rejected; heartbeat sent without it", extra={"error": str(exc)})
            closed = await self.queue.heartbeat(held, lease=self.lease, progress=None)
        lost = [(int(job_id), int(lease)) for job_id, lease in closed]
        if lost:
            self._on_lost(lost)
        return lost

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.interval)
            if self._stop.is_set():
                break
            with self._progress_lock:
                early = bool(self._progress)
            if early:
                # Coalesce a burst of progress reports into one write.
                await asyncio.sleep(self.progress_delay)
            try:
                await self.beat()
            except psycopg.OperationalError as exc:
                log.warning("heartbeat failed; retrying", extra={"error": str(exc)})
            except Exception:
                log.exception("heartbeat failed")

    def stop(self) -> None:
        self._stop.set()
        self._wakeup.set()
