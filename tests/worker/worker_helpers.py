"""Helpers shared by the worker tests (imported by module name: tests have no packages)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import psycopg
from psycopg import sql

from ringq.leader import LeaderSettings
from ringq.worker import Worker
from support import eventually

# Maintenance fast enough for tests: promote/rescue every 50 ms, never rotate on its own.
FAST_LEADER = LeaderSettings(interval=0.05, prune_interval=0.5, rotate_interval=3600.0, acquire_interval=0.1)


async def run_until(worker: Worker, check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Run `worker` until `check()` holds, then stop it (fails the test on timeout)."""
    task = asyncio.create_task(worker.run())
    try:
        await eventually(check, timeout, what)
    finally:
        await worker.stop(5.0)
        await task


def rows(db_url: str, schema: str, query: str, *params: object) -> list[tuple[object, ...]]:
    """Run a read-only query with `{s}` standing for the test schema."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(sql.SQL(query).format(s=sql.Identifier(schema)), params).fetchall()
