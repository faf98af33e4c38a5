"""Entry points of the child processes: one worker process and one producer process per run.

Both run in their own interpreter (multiprocessing "spawn"), so a system's worker, its
producer and the harness never share an event loop or a GIL. Results travel back as a
pickle file; live progress as shared counters.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
import traceback
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any

from bench.adapters import get_adapter
from bench.pacing import paced


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
) -> None:
    """Run `name`'s worker until `stop_evt`; record (job key, seq, start time) per handler call.
    With `go_evt`, the process starts up (imports, adapter) but runs the worker only once it
    is set, so its start-up can overlap a drain's enqueue phase."""
    _quiet()
    adapter = get_adapter(name)
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


def producer_main(
    name: str,
    dsn: str,
    plan: dict[str, Any],
    start_evt: Event,
    progress: Synchronized,  # type: ignore[type-arg]
    out_path: str,
) -> None:
    """Enqueue per `plan`: {"mode": "drain", "n", "batch"} as fast as possible, or
    {"mode": "rate", "rate", "duration", "tick"} open-loop at a fixed rate. Records
    (first seq, end seq, commit time) per batch."""
    _quiet()
    adapter = get_adapter(name)
    batches: list[tuple[int, int, float]] = []

    async def main() -> dict[str, Any]:
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
