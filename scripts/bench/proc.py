"""Entry points of the child processes: one worker process and one producer process per run.

Both run in their own interpreter (multiprocessing "spawn"), so a system's worker, its
producer and the harness never share an event loop or a GIL. Results travel back as a
pickle file; live progress as shared counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import time
import traceback
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any

from bench.adapters import get_adapter
from bench.adapters.base import Adapter, TxProducer
from bench.pacing import paced

# the seq of the job the leaked (idle-in-transaction) session enqueues and never commits
LEAK_SEQ = -1


class _Rollback(Exception):
    """Leaves a producer's transaction block with a ROLLBACK."""


def _quiet() -> None:
    logging.basicConfig(level=logging.ERROR)
    for name in ("pgqueuer", "procrastinate", "chancy", "awa", "ringq", "psycopg"):
        logging.getLogger(name).setLevel(logging.ERROR)


def worker_main(
    name: str,
    dsn: str,
    concurrency: int,
    ready_evt: Event,
    stop_evt: Event,
    handled: Synchronized,  # type: ignore[type-arg]
    out_path: str,
    go_evt: Event | None = None,
    single: bool = False,
) -> None:
    """Run `name`'s worker until `stop_evt`; record (job key, seq, start time) per handler call.
    With `go_evt`, the process starts up (imports, adapter) but runs the worker only once it
    is set, so its start-up can overlap a drain's enqueue phase. A spec with `procs=N` forks
    N worker processes (each with the spec's concurrency) and merges what they record."""
    _quiet()
    adapter = get_adapter(name)
    concurrency = adapter.concurrency(concurrency)
    if not single and adapter.processes() > 1:
        _multi_worker(
            name, dsn, concurrency, adapter.processes(), ready_evt, stop_evt, handled, out_path, go_evt
        )
        return
    records: list[tuple[str, int, float]] = []
    wall = time.time

    def on_job(key: str, seq: int) -> None:
        records.append((key, seq, wall()))

    async def main() -> dict[str, float]:
        stop = asyncio.Event()

        async def watch() -> None:
            while not stop_evt.is_set():
                handled.value = len(records)
                await asyncio.sleep(0.02)
            handled.value = len(records)
            stop.set()

        if go_evt is not None:
            await asyncio.get_running_loop().run_in_executor(None, go_evt.wait)
        watcher = asyncio.create_task(watch())
        try:
            return await adapter.work(dsn, concurrency, on_job, stop, ready_evt.set)
        finally:
            watcher.cancel()
            handled.value = len(records)

    result: dict[str, Any]
    try:
        done = asyncio.run(main())
        result = {"records": records, "done": done}
    except BaseException:
        result = {"records": records, "done": {}, "error": traceback.format_exc()}
    with open(out_path, "wb") as fh:
        pickle.dump(result, fh)


def _multi_worker(
    name: str,
    dsn: str,
    concurrency: int,
    procs: int,
    ready_evt: Event,
    stop_evt: Event,
    handled: Synchronized,  # type: ignore[type-arg]
    out_path: str,
    go_evt: Event | None,
) -> None:
    """N forked copies of `worker_main`; ready when all are, `handled` is their sum."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")  # nothing runs yet in this process: no loop, no threads
    readies = [ctx.Event() for _ in range(procs)]
    counts = [ctx.Value("q", 0) for _ in range(procs)]
    children = [
        ctx.Process(
            target=worker_main,
            args=(name, dsn, concurrency, readies[i], stop_evt, counts[i], f"{out_path}.{i}", go_evt, True),
        )
        for i in range(procs)
    ]
    for c in children:
        c.start()
    while any(c.is_alive() for c in children):
        handled.value = sum(int(v.value) for v in counts)
        if not ready_evt.is_set() and all(r.is_set() for r in readies):
            ready_evt.set()
        time.sleep(0.02)
    handled.value = sum(int(v.value) for v in counts)
    merged: dict[str, Any] = {"records": [], "done": {}}
    for i, c in enumerate(children):
        try:
            with open(f"{out_path}.{i}", "rb") as fh:
                part = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            part = {"records": [], "done": {}, "error": f"worker process {i} exited with {c.exitcode}"}
        merged["records"].extend(part["records"])
        merged["done"].update(part["done"])
        if "error" in part:
            merged["error"] = part["error"]
    merged["records"].sort(key=lambda r: r[2])
    with open(out_path, "wb") as fh:
        pickle.dump(merged, fh)


def producer_main(
    name: str,
    dsn: str,
    plan: dict[str, Any],
    start_evt: Event,
    progress: Synchronized,  # type: ignore[type-arg]
    out_path: str,
) -> None:
    """Enqueue per `plan`: {"mode": "drain", "n", "batch"} as fast as possible,
    {"mode": "rate", "rate", "duration", "tick"} open-loop at a fixed rate, or
    {"mode": "slow", "rate", "duration", "tick", "producers", "hold", "leak"}: the same
    open-loop arrivals enqueued by `producers` connections, each inside a transaction held
    open `hold` s after the enqueue (see `_slow_producers`). Records (first seq, end seq,
    commit time) per batch."""
    _quiet()
    adapter = get_adapter(name)
    batches: list[tuple[int, int, float]] = []

    async def main() -> dict[str, Any]:
        if plan["mode"] == "slow":
            return await _slow_producers(adapter, dsn, plan, start_evt, progress, batches)
        producer = await adapter.producer(dsn)
        try:
            await asyncio.get_running_loop().run_in_executor(None, start_evt.wait)
            t0 = time.time()
            if plan["mode"] == "drain":
                n, batch = int(plan["n"]), int(plan["batch"])
                for lo in range(0, n, batch):
                    hi = min(n, lo + batch)
                    await producer.enqueue(range(lo, hi))
                    batches.append((lo, hi, time.time()))
                    progress.value = hi
            else:
                rate, duration, tick = float(plan["rate"]), float(plan["duration"]), float(plan["tick"])
                async for seqs in paced(t0, rate, duration, tick, max(1, int(rate * 0.25))):
                    await producer.enqueue(seqs)
                    batches.append((seqs.start, seqs.stop, time.time()))
                    progress.value = seqs.stop
            return {"t0": t0, "t_end": time.time(), "batches": batches}
        finally:
            await producer.close()

    result: dict[str, Any]
    try:
        result = asyncio.run(main())
    except BaseException:
        result = {"batches": batches, "error": traceback.format_exc()}
    with open(out_path, "wb") as fh:
        pickle.dump(result, fh)


async def _slow_producers(
    adapter: Adapter,
    dsn: str,
    plan: dict[str, Any],
    start_evt: Event,
    progress: Synchronized,  # type: ignore[type-arg]
    batches: list[tuple[int, int, float]],
) -> dict[str, Any]:
    """K producer connections share one open-loop arrival stream. A free producer takes every
    job that has arrived and not been taken (at T > 0, producer i starts i*T/K s late), opens
    a transaction, enqueues them with the
    system's in-transaction API, sleeps `hold` s with the transaction open, and commits.
    With `leak`, one more session enqueues one job, stays idle in transaction for the whole
    window and rolls back at its end. Per batch: enqueue statement time and commit time."""
    k, hold = int(plan["producers"]), float(plan["hold"])
    rate, duration, tick = float(plan["rate"]), float(plan["duration"]), float(plan["tick"])
    producers: list[TxProducer] = [await adapter.tx_producer(dsn) for _ in range(k)]
    leaker = await adapter.tx_producer(dsn) if plan.get("leak") else None
    enqueue_s: list[float] = []
    commit_s: list[float] = []
    cond = asyncio.Condition()
    state = {"due": 0, "taken": 0, "done": 0}
    release = asyncio.Event()
    leak_info: dict[str, Any] = {}
    try:
        await asyncio.get_running_loop().run_in_executor(None, start_evt.wait)
        leak_task = asyncio.create_task(_leak(leaker, release, leak_info)) if leaker is not None else None
        for _ in range(500):  # the leaked session has enqueued before the first arrival
            if leak_task is None or "enqueue_seconds" in leak_info or leak_task.done():
                break
            await asyncio.sleep(0.01)
        t0 = time.time()

        async def pacer() -> None:
            async for seqs in paced(t0, rate, duration, tick):
                async with cond:
                    state["due"] = seqs.stop
                    cond.notify_all()
            async with cond:
                state["done"] = 1
                cond.notify_all()
            release.set()  # the leaked session ends with the window (producers it blocks go on)

        async def produce(p: TxProducer, i: int) -> None:
            # independent producers: staggered by T/K, so that in steady state one of them
            # commits every T/K s with the R*T/K jobs that arrived meanwhile (without the
            # stagger all K would start together and stay in lockstep)
            if hold > 0:
                await asyncio.sleep(i * hold / k)
            while True:
                async with cond:
                    await cond.wait_for(lambda: state["taken"] < state["due"] or state["done"])
                    if state["taken"] >= state["due"]:
                        return
                    lo, hi = state["taken"], state["due"]
                    state["taken"] = hi
                t1 = time.time()
                async with p.transaction() as tx:
                    await p.enqueue(tx, range(lo, hi))
                    t2 = time.time()
                    if hold > 0:
                        await asyncio.sleep(hold)
                    t3 = time.time()
                t4 = time.time()
                batches.append((lo, hi, t4))
                enqueue_s.append(t2 - t1)
                commit_s.append(t4 - t3)
                progress.value = max(progress.value, hi)

        await asyncio.gather(pacer(), *(produce(p, i) for i, p in enumerate(producers)))
        t_end = time.time()
        if leak_task is not None:
            await leak_task
        return {
            "t0": t0,
            "t_end": t_end,
            "batches": sorted(batches),
            "enqueue_seconds": enqueue_s,
            "commit_seconds": commit_s,
            "leak": leak_info,
        }
    finally:
        release.set()
        await _close_all([*producers, *([leaker] if leaker is not None else [])])


async def _leak(p: TxProducer, release: asyncio.Event, info: dict[str, Any]) -> None:
    """Enqueue one job, stay idle in transaction until `release`, then roll back."""
    t1 = time.time()
    with contextlib.suppress(_Rollback):
        async with p.transaction() as tx:
            await p.enqueue(tx, [LEAK_SEQ])
            info["enqueue_seconds"] = time.time() - t1
            await release.wait()
            raise _Rollback
    info["held_seconds"] = time.time() - t1


async def _close_all(producers: list[TxProducer]) -> None:
    for p in producers:
        with contextlib.suppress(Exception):  # closing is best effort
            await p.close()
