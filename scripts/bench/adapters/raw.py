"""The reference point: one `jobs` table, batch claim with FOR UPDATE SKIP LOCKED, batch delete.

This is the least a Postgres queue can do per job (no history, no retries, no leases, the
claiming transaction stays open while its batch runs) - a ceiling for what plain Postgres
allows on this machine, not a queue anyone should ship.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from bench.adapters.base import Adapter, OnJob, Producer, TxProducer

SCHEMA = """
CREATE TABLE jobs (
    id          bigserial PRIMARY KEY,
    payload     jsonb NOT NULL,
    enqueued_at timestamptz NOT NULL DEFAULT now()
)
"""
ENQUEUE = "INSERT INTO jobs (payload) SELECT jsonb_build_object('seq', s) FROM unnest(%s::bigint[]) AS s"
CLAIM = "SELECT id, payload FROM jobs ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
DELETE = "DELETE FROM jobs WHERE id = ANY(%s)"

# claimer loops per worker process; each takes batches of concurrency / CLAIMERS
CLAIMERS = 2
IDLE_SLEEP = 0.005


class _RawProducer(Producer):
    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self.conn = conn

    async def enqueue(self, seqs: Sequence[int]) -> None:
        await self.conn.execute(ENQUEUE, (list(seqs),))

    async def close(self) -> None:
        await self.conn.close()


class _RawTx(TxProducer):
    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self.conn = conn

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def enqueue(self, tx: Any, seqs: Sequence[int]) -> None:
        await self.conn.execute(ENQUEUE, (list(seqs),))

    async def close(self) -> None:
        await self.conn.close()


class RawAdapter(Adapter):
    name = "raw"
    label = "raw SQL"
    dist = None
    completion_source = "worker"
    hot_tables = ("jobs",)
    tx_api = "the same INSERT inside the caller's transaction"

    def version(self) -> str:
        return "baseline"

    async def setup(self, dsn: str) -> None:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            await conn.execute(SCHEMA)

    async def producer(self, dsn: str) -> Producer:
        return _RawProducer(await psycopg.AsyncConnection.connect(dsn, autocommit=True))

    async def tx_producer(self, dsn: str) -> TxProducer:
        return _RawTx(await psycopg.AsyncConnection.connect(dsn, autocommit=True))

    async def work(
        self,
        dsn: str,
        concurrency: int,
        on_job: OnJob,
        stop: asyncio.Event,
        ready: Callable[[], None],
    ) -> dict[str, float]:
        done: dict[str, float] = {}
        claimers = max(1, min(CLAIMERS, concurrency))
        batch = max(1, concurrency // claimers)

        async def handle(job_id: int, payload: dict[str, int]) -> None:
            on_job(str(job_id), int(payload["seq"]))

        async def loop() -> None:
            async with await psycopg.AsyncConnection.connect(dsn) as conn:
                while not stop.is_set():
                    async with conn.transaction():
                        rows = await (await conn.execute(CLAIM, (batch,))).fetchall()
                        if rows:
                            await asyncio.gather(*(handle(r[0], r[1]) for r in rows))
                            await conn.execute(DELETE, ([r[0] for r in rows],))
                    if rows:
                        now = time.time()
                        for r in rows:
                            done[str(r[0])] = now
                    else:
                        await asyncio.sleep(IDLE_SLEEP)

        tasks = [asyncio.create_task(loop()) for _ in range(claimers)]
        ready()
        await asyncio.gather(*tasks)
        return done

    def remaining(self, conn: psycopg.Connection) -> int | None:
        row = conn.execute("SELECT count(*) FROM jobs").fetchone()
        return int(row[0]) if row else 0
