"""What every queue system under test provides to the harness.

An adapter wraps one system's *own recommended* producer and worker APIs. The harness
never reaches into a system's internals to run jobs; it only reads that system's tables
afterwards (completion timestamps, remaining work) to measure what happened.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from importlib import metadata
from typing import Any, ClassVar

import psycopg

# Called by the no-op handler with (job key, seq): the harness records the start time.
OnJob = Callable[[str, int], None]


class Producer(abc.ABC):
    """An open enqueue session (one connection or client)."""

    @abc.abstractmethod
    async def enqueue(self, seqs: Sequence[int]) -> None:
        """Enqueue one job per seq, payload `{"seq": n}`, committed when this returns."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class TxProducer(abc.ABC):
    """A caller's own connection that enqueues inside transactions it holds open (the
    "slow producers" scenario): `async with p.transaction() as tx: await p.enqueue(tx, seqs)`.
    Leaving the block normally commits; an exception rolls back."""

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """BEGIN on this producer's connection; COMMIT on a normal exit, ROLLBACK on an exception."""

    @abc.abstractmethod
    async def enqueue(self, tx: Any, seqs: Sequence[int]) -> None:
        """Enqueue one job per seq inside `tx` (not committed here)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release the connection."""


class Adapter(abc.ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    # distribution whose version identifies the system (None: the harness itself)
    dist: ClassVar[str | None] = None
    # "db": completion timestamps are read from the system's tables;
    # "worker": the worker itself reports them (the raw baseline deletes its rows)
    completion_source: ClassVar[str] = "db"
    # completion rows may be pruned within seconds (ring storage): poll them during the run
    poll_completions: ClassVar[bool] = False
    # tables whose dead tuples the targets talk about (prefix match on table name)
    hot_tables: ClassVar[tuple[str, ...]] = ()
    # the system's documented way to enqueue inside a transaction the caller controls
    # (shown in the slow-producers table); None: the system has none
    tx_api: ClassVar[str | None] = None
    # per-instance settings from the system spec "name[key=value,...]" (see adapters/__init__)
    options: dict[str, str]
    spec: str

    def __init__(self) -> None:
        self.options = {}
        self.spec = self.name

    def processes(self) -> int:
        return int(self.options.get("procs", 1))

    def concurrency(self, default: int) -> int:
        return int(self.options.get("c", default))

    def version(self) -> str:
        if self.dist is None:
            return "-"
        try:
            return metadata.version(self.dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    def available(self) -> str | None:
        """None when usable, otherwise why not (missing package, ...)."""
        return None

    @abc.abstractmethod
    async def setup(self, dsn: str) -> None:
        """Install the system's schema into a fresh, empty database."""

    @abc.abstractmethod
    async def producer(self, dsn: str) -> Producer: ...

    async def tx_producer(self, dsn: str) -> TxProducer:
        """One connection for enqueuing inside caller-held transactions (see `tx_api`)."""
        raise NotImplementedError(f"{self.name} has no way to enqueue in a caller's transaction")

    @abc.abstractmethod
    async def work(
        self,
        dsn: str,
        concurrency: int,
        on_job: OnJob,
        stop: asyncio.Event,
        ready: Callable[[], None],
    ) -> dict[str, float]:
        """Run the system's worker with `concurrency` until `stop` is set, then shut down
        gracefully. Call `ready()` once it is about to take jobs. Returns worker-side
        completion times (job key -> epoch seconds) when `completion_source == "worker"`."""

    def remaining(self, conn: psycopg.Connection) -> int | None:
        """Jobs enqueued but not yet completed, when the system can say cheaply."""
        return None

    def completions(self, conn: psycopg.Connection, since: float | None) -> list[tuple[str, float]]:
        """(job key, completion epoch seconds) of completed jobs, optionally only since `since`."""
        return []
