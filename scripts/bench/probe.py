"""Latency probe: where ringq's offered-load latency goes, call by call.

Runs one ringq `Worker` in this process with its `AsyncQueue.claim` and `complete_many` wrapped
(every call's issue time, duration and row count is recorded), and a producer in a child
process enqueueing open-loop at `--rate` jobs/s in 10 ms ticks (as the bench's scenario 2).
Prints the start/done latency percentiles, the claim statistics (empty claims, claims that came
back empty although committed work was waiting), the flush statistics, and for the slowest
jobs which claims ran between their enqueue commit and their start.

    .venv/bin/python scripts/bench/probe.py --rate 1000 --duration 5
    .venv/bin/python scripts/bench/probe.py --rate 1000 --no-listen  # Worker(listen=False)
    .venv/bin/python scripts/bench/probe.py --opt prefetch=0 --opt flush_interval=0.005
    RINGQ_DATABASE_URL=postgresql://... .venv/bin/python scripts/bench/probe.py

With `--drain N` it instead enqueues N jobs, then drains them with the same instrumented worker
and prints where the time per job goes: wall time, the worker process's CPU time (Python), the
client-side duration of the claim and complete round trips, and the server's execution time of
the same statements from pg_stat_statements (the difference is commit/WAL flush, network and
waiting):

    .venv/bin/python scripts/bench/probe.py --drain 20000

It is a diagnostic, not a benchmark: the worker shares its process with the tracing.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import multiprocessing as mp
import os
import statistics
import sys
import time
from typing import Any

import psycopg

SCHEMA = "probe"
TASK = "probe_noop"


def _producer(dsn: str, rate: float, duration: float, tick: float, go: Any, out: Any) -> None:
    from pacing import paced  # run as a script: scripts/bench is on sys.path

    from ringq.aclient import AsyncQueue
    from ringq.types import Job

    async def main() -> list[tuple[int, int, float]]:
        q = AsyncQueue(dsn, schema=SCHEMA, pool_size=1)
        await q.enqueue_many([Job(TASK, {"seq": -1})])  # connect before the clock starts
        batches: list[tuple[int, int, float]] = []
        go.wait()
        t0 = time.time()
        async for seqs in paced(t0, rate, duration, tick):
            await q.enqueue_many([Job(TASK, {"seq": s}) for s in seqs])
            batches.append((seqs.start, seqs.stop, time.time()))
        await q.close()
        return batches

    out.put(asyncio.run(main()))


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


async def drain(dsn: str, args: argparse.Namespace) -> None:
    """Enqueue args.drain jobs, drain them with an instrumented worker, print the per-job split."""
    from ringq.aclient import AsyncQueue
    from ringq.registry import JobContext, Registry
    from ringq.types import Job
    from ringq.worker.runtime import Worker

    n = int(args.drain)
    producer = AsyncQueue(dsn, schema=SCHEMA, pool_size=1)
    for lo in range(0, n, 1000):
        await producer.enqueue_many([Job(TASK, {"seq": s}) for s in range(lo, min(n, lo + 1000))])
    await producer.close()

    seen = 0
    all_done = asyncio.Event()
    registry = Registry()

    @registry.task(TASK)
    async def noop(c: JobContext) -> None:
        nonlocal seen
        seen += 1

    queue = AsyncQueue(dsn, schema=SCHEMA)
    calls: dict[str, list[tuple[float, int]]] = {"claim": [], "complete": []}
    completed = 0
    real_claim, real_complete = queue.claim, queue.complete_many

    async def claim(**kw: Any) -> Any:
        t = time.perf_counter()
        rows = await real_claim(**kw)
        calls["claim"].append((time.perf_counter() - t, len(rows)))
        return rows

    async def complete_many(items: Any) -> Any:
        nonlocal completed
        t = time.perf_counter()
        res = await real_complete(items)
        calls["complete"].append((time.perf_counter() - t, len(items)))
        completed += len(items)
        if completed >= n:
            all_done.set()
        return res

    queue.claim = claim  # type: ignore[method-assign]
    queue.complete_many = complete_many  # type: ignore[method-assign]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
    worker = Worker(
        queue, registry, concurrency=args.concurrency, conninfo=dsn, listen=args.listen, **args.extra
    )
    cpu0, t0 = time.process_time(), time.perf_counter()
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(all_done.wait(), 600)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await worker.stop(5)
    await task
    await queue.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        stmts = conn.execute(
            "SELECT calls, total_exec_time, total_plan_time, rows, wal_bytes, "
            "left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY total_exec_time DESC LIMIT 8"
        ).fetchall()
    us = 1e6 / n
    print(f"drain {n} jobs, concurrency {args.concurrency}, extra={args.extra}: {n / wall:,.0f} jobs/s")
    print(f"  wall per job            {wall * us:7.1f} us")
    print(f"  worker CPU per job      {cpu * us:7.1f} us  (Python: asyncio, psycopg, ringq; process_time)")
    server = {"claim": 0.0, "complete": 0.0}
    for name, durs in calls.items():
        total = sum(d for d, _ in durs)
        rows = sum(r for _, r in durs)
        print(
            f"  {name:9} round trips  {len(durs):6} calls, {rows / max(1, len(durs)):5.1f} jobs/call, "
            f"client time {total * us:7.1f} us/job ({total / max(1, len(durs)) * 1000:.2f} ms/call)"
        )
    print("  pg_stat_statements (server execution; commit/WAL flush not included):")
    for calls_n, exec_ms, _plan_ms, _rows, wal, q in stmts:
        for name in server:
            if f".{name}(" in q:
                server[name] += float(exec_ms) / 1000
        print(
            f"    {int(calls_n):6} calls {float(exec_ms) * 1000 / n:7.1f} us/job exec "
            f"{int(wal) / n:6.0f} WAL B/job  {q}"
        )
    for name, durs in calls.items():
        total = sum(d for d, _ in durs)
        print(
            f"  {name:9} client - server exec = {(total - server[name]) * us:7.1f} us/job "
            "(commit + WAL flush, network, lock waits, client wake-up)"
        )


async def run(dsn: str, args: argparse.Namespace) -> None:
    from ringq.aclient import AsyncQueue
    from ringq.registry import JobContext, Registry
    from ringq.worker.runtime import Worker

    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    prod = ctx.Process(target=_producer, args=(dsn, args.rate, args.duration, 0.01, go, out))
    prod.start()

    starts: dict[int, float] = {}
    registry = Registry()

    @registry.task(TASK)
    async def noop(c: JobContext) -> None:
        seq = int(c.payload["seq"])
        if seq >= 0:
            starts[seq] = time.time()

    queue = AsyncQueue(dsn, schema=SCHEMA)
    claims: list[tuple[float, float, int, int]] = []  # (issued, returned, rows, limit)
    flushes: list[tuple[float, float, int]] = []
    acked: dict[int, float] = {}  # job_id -> when complete_many returned (its commit acknowledged)
    real_claim, real_complete = queue.claim, queue.complete_many

    async def claim(**kw: Any) -> Any:
        t = time.time()
        rows = await real_claim(**kw)
        claims.append((t, time.time(), len(rows), kw.get("limit", 0)))
        return rows

    async def complete_many(items: Any) -> Any:
        t = time.time()
        res = await real_complete(items)
        t_ack = time.time()
        flushes.append((t, t_ack, len(items)))
        for it in items:
            acked[it.job_id] = t_ack
        return res

    queue.claim = claim  # type: ignore[method-assign]
    queue.complete_many = complete_many  # type: ignore[method-assign]
    worker = Worker(
        queue, registry, concurrency=args.concurrency, conninfo=dsn, listen=args.listen, **args.extra
    )
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(1.0)
    go.set()
    loop = asyncio.get_running_loop()
    batches = await loop.run_in_executor(None, out.get)
    deadline = time.time() + 10
    total = batches[-1][1] if batches else 0
    while len(starts) < total and time.time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    await worker.stop(5)
    await task
    prod.join(5)
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            f"SELECT (r.payload->>'seq')::int, extract(epoch FROM d.finished_at)::float8, r.job_id "
            f"FROM {SCHEMA}.done d JOIN {SCHEMA}.ready r USING (job_id)"
        ).fetchall()
    fin = {int(s): float(t) for s, t, _ in rows if int(s) >= 0}
    ack = {int(s): acked[int(j)] for s, _, j in rows if int(s) >= 0 and int(j) in acked}
    await queue.close()

    enq: dict[int, float] = {}
    for lo, hi, t in batches:
        for s in range(lo, hi):
            enq[s] = t
    start_lat = [(starts[s] - enq[s]) * 1000 for s in enq if s in starts]
    done_lat = [(fin[s] - enq[s]) * 1000 for s in enq if s in fin]
    ack_lat = [(ack[s] - enq[s]) * 1000 for s in enq if s in ack]
    print(f"rate {args.rate}/s for {args.duration}s, listen={args.listen}, extra={args.extra}")
    print(f"jobs {len(enq)} started {len(start_lat)} done {len(done_lat)}")
    # done = done.finished_at (the complete call's `now`, what the bench reads); acked = when the
    # complete's commit was acknowledged to the worker
    for name, xs in (("start", start_lat), ("done", done_lat), ("acked", ack_lat)):
        print(
            f"{name:5} ms: p50 {pct(xs, 50):6.1f}  p95 {pct(xs, 95):6.1f}  p99 {pct(xs, 99):6.1f}  "
            f"max {max(xs) if xs else float('nan'):6.1f}"
        )
    t0 = batches[0][2] if batches else 0
    window = [c for c in claims if t0 <= c[0] <= t0 + args.duration]
    empty = [c for c in window if c[2] == 0]
    commit_times = sorted(t for _, _, t in batches)
    # an empty claim "missed" work when some enqueue committed before it was issued and
    # that batch's first job had not started by then
    first_of = {t: lo for lo, _, t in batches}
    missed = 0
    for c in empty:
        i = bisect.bisect_right(commit_times, c[0])
        if i and starts.get(first_of[commit_times[i - 1]], float("inf")) > c[1]:
            missed += 1
    durs = [(c[1] - c[0]) * 1000 for c in window]
    print(
        f"claims {len(window)} ({len(window) / args.duration:.0f}/s), empty {len(empty)}, "
        f"empty with committed work waiting {missed}, rows/claim "
        f"{statistics.mean([c[2] for c in window]) if window else 0:.1f}, "
        f"claim ms p50 {pct(durs, 50):.1f} p99 {pct(durs, 99):.1f}"
    )
    gaps = [(b[0] - a[1]) * 1000 for a, b in itertools.pairwise(window)]
    print(f"gap claim-return -> next claim ms: p50 {pct(gaps, 50):.1f} p99 {pct(gaps, 99):.1f}")
    fw = [f for f in flushes if t0 <= f[0] <= t0 + args.duration]
    fd = [(f[1] - f[0]) * 1000 for f in fw]
    print(
        f"flushes {len(fw)} ({len(fw) / args.duration:.0f}/s), jobs/flush "
        f"{statistics.mean([f[2] for f in fw]) if fw else 0:.1f}, complete ms p50 {pct(fd, 50):.1f} "
        f"p99 {pct(fd, 99):.1f}"
    )
    slow = sorted((s for s in enq if s in starts), key=lambda s: starts[s] - enq[s])[-args.show :]
    for s in slow:
        between = [c for c in claims if enq[s] <= c[0] <= starts[s]]
        desc = ", ".join(f"+{(c[0] - enq[s]) * 1000:.0f}ms:{c[2]}/{c[3]}" for c in between[:8])
        print(f"  seq {s}: start +{(starts[s] - enq[s]) * 1000:.0f} ms; claims after commit: {desc}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--duration", type=float, default=5)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--listen", action="store_const", const=True, default=None, help="Worker(listen=True)")
    p.add_argument(
        "--no-listen", dest="listen", action="store_const", const=False, help="Worker(listen=False)"
    )
    p.add_argument("--drain", type=int, default=0, help="drain this many pre-enqueued jobs instead")
    p.add_argument("--show", type=int, default=5, help="slowest jobs to explain")
    p.add_argument("--opt", action="append", default=[], help="extra Worker option NAME=VALUE (float)")
    args = p.parse_args()
    args.extra = {k: (int(v) if v.isdigit() else float(v)) for k, v in (o.split("=", 1) for o in args.opt)}
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src"))
    from ringq.install import install

    env = os.environ.get("RINGQ_DATABASE_URL")
    pg = None
    if env:
        dsn = env
    else:
        from ringq.embedded import EmbeddedPostgres

        pg = EmbeddedPostgres.temporary(
            shared_preload_libraries="pg_stat_statements", **{"pg_stat_statements.track": "all"}
        )
        pg.start()
        dsn = pg.url
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            install(conn, schema=SCHEMA)
            if args.drain:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        asyncio.run(drain(dsn, args) if args.drain else run(dsn, args))
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
