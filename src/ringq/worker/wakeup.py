"""Optional LISTEN-based wakeups for the claim loop, with the bounded poll always kept underneath.

A dedicated connection LISTENs on the schema's channel (`notify_channel(schema)`); every
notification wakes the claim loop at once instead of at the next poll. A listener can die
quietly — the server restarted, the backend was terminated, a NAT dropped the socket — and a
dead listener must never turn into slow pickups, so:

* the connection is health-checked: whenever no notification arrived for `health_interval`
  seconds, a `SELECT 1` must answer within `health_timeout` or the connection is declared dead;
* a dead listener is closed and re-established with capped exponential backoff, and after every
  (re)connect the claim loop is woken once (notifications sent while nobody listened are gone);
* `healthy` is False from the moment a failure is seen until LISTEN is in place again; the claim
  loop keeps polling at `poll_interval` throughout, so pickup latency is bounded by the poll even
  when no notification ever arrives.

The NOTIFY side is one `pg_notify(channel, '')` per enqueue statement (not per row), issued by
the storage functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from ringq.backoff import reconnect_delay
from ringq.logs import get_logger

log = get_logger("ringq.worker")


def notify_channel(schema: str) -> str:
    """The channel enqueues of `schema` notify: `ringq_` + md5(schema) (always fits NAMEDATALEN).

    The SQL side computes the same string as `'ringq_' || md5(<schema name>)`.
    """
    return "ringq_" + hashlib.md5(schema.encode("utf-8")).hexdigest()


class _Frozen(TimeoutError):
    """The health check got no answer: the connection is abandoned, not awaited."""


class Listener:
    """Keeps a LISTEN connection alive and calls `on_wake` for every notification."""

    def __init__(
        self,
        conninfo: str,
        schema: str,
        on_wake: Callable[[], None],
        *,
        health_interval: float = 5.0,
        health_timeout: float = 2.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.conninfo = conninfo
        self.channel = notify_channel(schema)
        self.on_wake = on_wake
        self.health_interval = health_interval
        self.health_timeout = health_timeout
        self.connect_timeout = connect_timeout
        self.healthy = False
        self.notifications = 0
        self.connects = 0  # successful LISTENs (the first one included)
        self.failures = 0  # connections found dead (health check failed, or the socket broke)
        self.backend_pid: int | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._stop = asyncio.Event()
        self._listening = asyncio.Event()
        self._reaping: set[asyncio.Future[None]] = set()

    async def wait_listening(self, timeout: float) -> bool:
        """True once LISTEN is in place (tests and start-up checks)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout)
        return self.healthy

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        async with asyncio.timeout(self.connect_timeout + self.health_timeout):
            conn = await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True, connect_timeout=max(1, int(self.connect_timeout))
            )
            try:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            except BaseException:
                await conn.close()
                raise
        return conn

    async def _serve(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Deliver notifications until the connection fails its health check (raises)."""
        while not self._stop.is_set():
            got = 0
            async for _ in conn.notifies(timeout=self.health_interval):
                got += 1
                self.notifications += 1
                self.on_wake()
                if self._stop.is_set():
                    return
            if got == 0 and not self._stop.is_set():
                # Quiet for a whole interval: prove the connection is still there. Not with
                # asyncio.timeout: cancelling a query makes psycopg wait up to 5 s for the server
                # to confirm the cancel, and a frozen server never does. Abandon it instead.
                ping = asyncio.ensure_future(conn.execute("SELECT 1"))
                done, _ = await asyncio.wait({ping}, timeout=self.health_timeout)
                if not done:
                    self._abandon(ping, conn)
                    raise _Frozen(f"LISTEN connection did not answer within {self.health_timeout}s")
                ping.result()

    def _abandon(self, ping: asyncio.Future[Any], conn: psycopg.AsyncConnection[Any]) -> None:
        """Let a hung ping and its connection wind down in the background, without waiting."""

        async def reap() -> None:
            ping.cancel()
            with contextlib.suppress(BaseException):
                await ping
            with contextlib.suppress(BaseException):
                await conn.close()

        task = asyncio.ensure_future(reap())
        self._reaping.add(task)
        task.add_done_callback(self._reaping.discard)

    async def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                conn = await self._connect()
            except (psycopg.Error, OSError, TimeoutError) as exc:
                failures += 1
                log.warning("LISTEN connection failed; polling meanwhile", extra={"error": str(exc)})
                await self._sleep(reconnect_delay(failures))
                continue
            self._conn = conn
            self.backend_pid = conn.info.backend_pid
            self.healthy = True
            self.connects += 1
            self._listening.set()
            if failures:
                log.info("LISTEN connection re-established", extra={"channel": self.channel})
            failures = 0
            self.on_wake()  # anything enqueued while nobody listened
            started = time.monotonic()
            frozen = False
            try:
                await self._serve(conn)
            except (psycopg.Error, OSError, TimeoutError) as exc:
                frozen = isinstance(exc, _Frozen)  # its connection is being reaped in the background
                self.failures += 1
                log.warning(
                    "LISTEN connection is dead; polling until it is back",
                    extra={
                        "error": str(exc) or type(exc).__name__,
                        "alive_s": round(time.monotonic() - started, 1),
                    },
                )
            finally:
                self.healthy = False
                self._listening.clear()
                self._conn = None
                if not frozen:
                    with contextlib.suppress(psycopg.Error, OSError):
                        await conn.close()
            if not self._stop.is_set():
                failures += 1
                await self._sleep(reconnect_delay(failures - 1))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    def stop(self) -> None:
        self._stop.set()
