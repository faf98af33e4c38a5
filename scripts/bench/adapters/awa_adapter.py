"""awa (`awa-pg`, Python binding of the Rust awa queue): `AsyncClient`, one task, one queue
with `start([(queue, concurrency)])`, queue storage engine as installed by `migrate()`.

Producer: `enqueue_many_copy` (awa's bulk path). Completion time: `finalized_at` of the
receipt completion batch; awa prunes its rings within seconds, so they are polled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from bench.adapters.base import Adapter, OnJob, Producer, TxProducer

QUEUE = "bench"


@dataclass
class BenchNoop:
    seq: int


class _AwaProducer(Producer):
    def __init__(self, client: Any) -> None:
        self.client = client

    async def enqueue(self, seqs: Sequence[int]) -> None:
        await self.client.enqueue_many_copy([BenchNoop(seq=s) for s in seqs], queue=QUEUE)

    async def close(self) -> None:
        await self.client.close()


class _AwaTx(TxProducer):
    """`AsyncClient.transaction()` + `Transaction.insert_many(...)`: awa's own transaction object
    (the Python binding takes no external connection; the transaction also runs the caller's
    SQL through `tx.execute`)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        tx = await self.client.transaction()
        async with tx:
            yield tx

    async def enqueue(self, tx: Any, seqs: Sequence[int]) -> None:
        await tx.insert_many([BenchNoop(seq=s) for s in seqs], queue=QUEUE)

    async def close(self) -> None:
        await self.client.close()


class AwaAdapter(Adapter):
    name = "awa"
    label = "awa (Rust)"
    dist = "awa-pg"
    poll_completions = True
    hot_tables = ("ready_entries", "lease_claims", "lease_claim_closures", "receipt_completion")
    tx_api = "async with await client.transaction() as tx: await tx.insert_many(...)"

    def available(self) -> str | None:
        try:
            import awa  # noqa: F401
        except ImportError:
            return "awa-pg is not installed (see requirements-bench.txt)"
        return None

    async def setup(self, dsn: str) -> None:
        import awa

        client = awa.AsyncClient(dsn)
        try:
            await client.migrate()
            await client.install_queue_storage()
        finally:
            await client.close()

    async def producer(self, dsn: str) -> Producer:
        import awa

        return _AwaProducer(awa.AsyncClient(dsn, max_connections=2))

    async def tx_producer(self, dsn: str) -> TxProducer:
        import awa

        return _AwaTx(awa.AsyncClient(dsn, max_connections=1))

    async def work(
        self,
        dsn: str,
        concurrency: int,
        on_job: OnJob,
        stop: asyncio.Event,
        ready: Callable[[], None],
    ) -> dict[str, float]:
        import awa

        client = awa.AsyncClient(dsn)

        @client.task(BenchNoop, queue=QUEUE)
        async def noop(job: Any) -> None:
            on_job(str(job.id), int(job.args.seq))

        await client.start([(QUEUE, concurrency)])
        ready()
        await stop.wait()
        await client.shutdown(timeout_ms=5000)
        await client.close()
        return {}

    def completions(self, conn: psycopg.Connection, since: float | None) -> list[tuple[str, float]]:
        rows = conn.execute(
            "SELECT j::text, extract(epoch FROM b.finalized_at)::float8 "
            "FROM awa.receipt_completion_batches b, unnest(b.job_ids) AS j "
            "WHERE b.finalized_at >= to_timestamp(%s)",
            (since or 0.0,),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]
