"""One measured run of one system: fresh database, worker process, producer process, stats.

`Runner.drain` and `Runner.offered` return plain dicts (JSON-ready) so the whole result
file can be re-rendered without re-running anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import pickle
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.adapters import get_adapter
from bench.adapters.base import Adapter
from bench.metrics import analyse_jobs, count_le, depth_series, summarize
from bench.proc import producer_main, worker_main
from bench.server import Monitor, Server

# Children come from a fork server that has already imported the harness and every
# installed queue library: a fresh interpreter per run (no state shared with the harness),
# without paying the imports each time.
CTX = mp.get_context("forkserver")
_PRELOAD = [
    "bench.proc",
    "psycopg",
    "psycopg_pool",
    "ringq.aclient",
    "ringq.worker.runtime",
    "pgqueuer",
    "procrastinate",
    "chancy",
    "awa",
]


def _preload() -> None:
    import importlib.util

    mods = []
    for m in _PRELOAD:
        try:
            if importlib.util.find_spec(m.split(".")[0]) is not None:
                mods.append(m)
        except (ImportError, ValueError):
            continue
    CTX.set_forkserver_preload(mods)


_preload()

# A run "sustains" its offered rate when the producer achieved it, the jobs not yet
# started at the end of the window are at most MAX_BACKLOG_SECONDS of arrivals, and
# DONE_FRACTION of all jobs had their completion committed within DONE_SLACK s of the
# window's end (chancy, for one, commits completions once a second by design).
ACHIEVED_FRACTION = 0.95
MAX_BACKLOG_SECONDS = 0.5
DONE_FRACTION = 0.99
DONE_SLACK = 2.5


class RunError(RuntimeError):
    """A system failed during a run (its traceback is in the message)."""


@dataclass
class Settings:
    concurrency: int = 16
    drain_batch: int = 1000
    tick: float = 0.01
    sample: float = 0.5
    grace: float = 20.0
    ready_timeout: float = 90.0
    # wait for backends' statistics to reach pg_stat_* (flushed at most once a second)
    stats_settle: float = 0.5
    # a drain still running after this long is stopped and rated over what completed
    drain_timeout: float = 120.0
    warmup: float = 0.5


@dataclass
class Runner:
    server: Server
    settings: Settings
    tmp: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="ringq-bench-"))
    templates: dict[str, str] = field(default_factory=dict)
    # optional hooks (profiling): the worker's pid once it runs; the monitor before the drop
    on_worker_pid: Callable[[int], None] | None = None
    before_drop: Callable[[Monitor], None] | None = None
    _runs: int = 0
    _children: list[Any] = field(default_factory=list)

    def _reap(self) -> None:
        """Terminate children a failed run left behind (our own processes only, by handle)."""
        for proc in self._children:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join(5)
        self._children.clear()

    # ---------------------------------------------------------------- databases
    def prepare(self, adapter: Adapter) -> None:
        """Install `adapter` once into a template database."""
        tpl = f"bench_tpl_{adapter.name}"
        dsn = self.server.create_db(tpl)
        asyncio.run(adapter.setup(dsn))
        self.templates[adapter.name] = tpl

    def _fresh(self, adapter: Adapter) -> tuple[str, str]:
        self._runs += 1
        name = f"bench_{adapter.name}_{self._runs}"
        tpl = self.templates.get(adapter.name)
        if tpl is None:  # not prepared: install into the fresh database itself
            dsn = self.server.create_db(name)
            asyncio.run(adapter.setup(dsn))
            return name, dsn
        for attempt in range(20):
            try:
                return name, self.server.create_db(name, template=tpl)
            except psycopg.errors.ObjectInUse:
                # a template may still have a closing connection (pools close lazily)
                if attempt == 19:
                    raise
                time.sleep(0.25)
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------- processes
    def _spawn_worker(
        self, adapter: Adapter, dsn: str, tag: str, go: Any = None
    ) -> tuple[Any, Any, Any, Any, str]:
        ready, stop = CTX.Event(), CTX.Event()
        handled = CTX.Value("q", 0)
        out = os.path.join(self.tmp, f"{tag}.worker.pkl")
        proc = CTX.Process(
            target=worker_main,
            args=(adapter.spec, dsn, self.settings.concurrency, ready, stop, handled, out, go),
            daemon=False,  # chancy's worker starts processes of its own
        )
        proc.start()
        self._children.append(proc)
        if self.on_worker_pid is not None and proc.pid is not None:
            self.on_worker_pid(proc.pid)
        return proc, ready, stop, handled, out

    def _await_ready(self, adapter: Adapter, spawned: tuple[Any, Any, Any, Any, str]) -> None:
        proc, ready, stop, _handled, out = spawned
        deadline = time.time() + self.settings.ready_timeout
        while not ready.wait(0.1):
            if not proc.is_alive() or time.time() > deadline:
                self._stop_worker(proc, stop, out)
                raise RunError(f"{adapter.name} worker did not start")

    def _stop_worker(self, proc: Any, stop: Any, out: str) -> dict[str, Any]:
        stop.set()
        proc.join(30)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)
        try:
            with open(out, "rb") as fh:
                result: dict[str, Any] = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            result = {"records": [], "done": {}, "error": f"worker exited with {proc.exitcode}"}
        return result

    def _start_producer(
        self, adapter: Adapter, dsn: str, plan: dict[str, Any], tag: str
    ) -> tuple[Any, Any, Any, str]:
        start = CTX.Event()
        progress = CTX.Value("q", 0)
        out = os.path.join(self.tmp, f"{tag}.producer.pkl")
        proc = CTX.Process(
            target=producer_main, args=(adapter.spec, dsn, plan, start, progress, out), daemon=True
        )
        proc.start()
        self._children.append(proc)
        return proc, start, progress, out

    @staticmethod
    def _producer_result(proc: Any, out: str) -> dict[str, Any]:
        proc.join(60)
        if proc.is_alive():
            proc.terminate()
        try:
            with open(out, "rb") as fh:
                result: dict[str, Any] = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            result = {"batches": [], "error": f"producer exited with {proc.exitcode}"}
        return result

    # ---------------------------------------------------------------- completions
    @staticmethod
    def _collect(adapter: Adapter, mon: Monitor, into: dict[str, float], since: float | None) -> None:
        mon.statements += 1
        for key, t in adapter.completions(mon.conn, since):
            into.setdefault(key, t)

    def _remaining(self, adapter: Adapter, mon: Monitor) -> int | None:
        mon.statements += 1
        return adapter.remaining(mon.conn)

    # ---------------------------------------------------------------- scenarios
    def drain(self, adapter_name: str, n: int, progress: Callable[[float, float], None]) -> dict[str, Any]:
        """Enqueue `n` jobs with no worker running, then drain them with one worker process."""
        adapter = get_adapter(adapter_name)
        dbname, dsn = self._fresh(adapter)
        tag = f"{dbname}"
        mon = Monitor(self.server, dbname)
        try:
            before = mon.snapshot()
            go = CTX.Event()
            spawned = self._spawn_worker(adapter, dsn, tag, go=go)  # starts up while we enqueue
            wproc, _ready, wstop, handled, wout = spawned
            pproc, pstart, pprog, pout = self._start_producer(
                adapter, dsn, {"mode": "drain", "n": n, "batch": self.settings.drain_batch}, tag
            )
            pstart.set()
            while pproc.is_alive():
                progress(int(pprog.value), 2 * n)
                time.sleep(0.1)
            prod = self._producer_result(pproc, pout)
            if "error" in prod:
                raise RunError(f"{adapter_name} producer failed:\n{prod['error']}")
            enq_elapsed = prod["t_end"] - prod["t0"]
            time.sleep(self.settings.stats_settle)  # let the producer's stats reach pg_stat_database
            mid = mon.snapshot()

            go.set()
            self._await_ready(adapter, spawned)
            t_ready = time.time()
            completions: dict[str, float] = {}
            deadline = time.time() + self.settings.drain_timeout
            last_poll = 0.0
            finished_at: float | None = None
            while time.time() < deadline:
                h = int(handled.value)
                progress(n + min(h, n), 2 * n)
                if adapter.poll_completions and time.time() - last_poll > 1.0:
                    self._collect(adapter, mon, completions, last_poll - 10 if last_poll else None)
                    last_poll = time.time()
                if h >= n:
                    rem = self._remaining(adapter, mon)
                    if rem is None:
                        self._collect(adapter, mon, completions, None)
                        rem = n - len(completions)
                    if rem <= 0:
                        finished_at = time.time()
                        break
                if not wproc.is_alive():
                    break
                time.sleep(0.05 if h >= n else 0.1)
            wres = self._stop_worker(wproc, wstop, wout)
            if "error" in wres:
                raise RunError(f"{adapter_name} worker failed:\n{wres['error']}")
            partial = finished_at is None
            if partial and int(handled.value) == 0:
                raise RunError(f"{adapter_name} processed no job within {self.settings.drain_timeout:g} s")
            t_stopped = time.time()
            time.sleep(self.settings.stats_settle)
            after = mon.snapshot()
            self._collect(adapter, mon, completions, None)
            completions.update(wres.get("done", {}))
        finally:
            self._reap()
            if self.before_drop is not None:
                with contextlib.suppress(psycopg.Error):
                    self.before_drop(mon)
            mon.close()
            self.server.drop_db(dbname)

        jobs = analyse_jobs(prod["batches"], wres["records"], completions)
        starts = jobs["starts"]
        done_times = jobs["done_times"]
        t_first = starts[0] if starts else t_ready
        if partial:
            # too slow to finish within drain_timeout: the rate over what completed
            done_n = jobs["completed_seen"] or jobs["started"]
            t_last = done_times[-1] if done_times else t_stopped
        else:
            done_n = n
            t_last = done_times[-1] if len(done_times) >= n else (finished_at or t_stopped)
        drain_elapsed = max(1e-6, t_last - t_first)
        return {
            "system": adapter_name,
            "n": n,
            "partial": partial,
            "drained_jobs": done_n,
            "enqueue_seconds": enq_elapsed,
            "enqueue_rate": n / enq_elapsed if enq_elapsed > 0 else None,
            "drain_seconds": drain_elapsed,
            "drain_rate": done_n / drain_elapsed,
            "worker_startup_seconds": max(0.0, t_first - t_ready),
            "started": jobs["started"],
            "duplicates": jobs["duplicates"],
            "completed_seen": jobs["completed_seen"],
            "cost": cost(
                mid,
                after,
                max(1, done_n),
                mon_statements=after["monitor_statements"] - mid["monitor_statements"],
            ),
            "enqueue_cost": cost(
                before, mid, n, mon_statements=mid["monitor_statements"] - before["monitor_statements"]
            ),
            "tables_after": after["tables"],
        }

    def offered(
        self,
        adapter_name: str,
        rate: float,
        duration: float,
        progress: Callable[[float, float], None],
        hold_snapshot: float | None = None,
        recover: float = 0.0,
        plan_extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Produce at `rate` jobs/s for `duration` s while one worker process consumes.

        With `hold_snapshot=h`, another session holds a REPEATABLE READ snapshot in the
        system's database for the first `h` s of the window (pinning the MVCC horizon).
        After the window, dead tuples keep being sampled for `recover` more seconds with
        the worker (and its maintenance) still running. `plan_extra` changes the producer's
        plan (the slow-producers scenario: {"mode": "slow", "producers", "hold", "leak"})."""
        adapter = get_adapter(adapter_name)
        dbname, dsn = self._fresh(adapter)
        tag = f"{dbname}"
        mon = Monitor(self.server, dbname)
        holder: psycopg.Connection | None = None
        dead: list[tuple[float, dict[str, int]]] = []
        try:
            plan = {"mode": "rate", "rate": rate, "duration": duration, "tick": self.settings.tick}
            plan.update(plan_extra or {})
            spawned = self._spawn_worker(adapter, dsn, tag)
            wproc, _ready, wstop, handled, wout = spawned
            pproc, pstart, pprog, pout = self._start_producer(adapter, dsn, plan, tag)
            self._await_ready(adapter, spawned)
            time.sleep(self.settings.warmup)  # worker warm-up; the producer connects meanwhile
            before = mon.snapshot()
            if hold_snapshot:
                holder = psycopg.connect(dsn)
                holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                holder.execute("SELECT count(*) FROM pg_class")  # takes the snapshot
            pstart.set()
            t0 = time.time()
            completions: dict[str, float] = {}
            last_poll = t0
            next_sample = t0
            window_end = t0 + duration
            released_at: float | None = None
            drained_at: float | None = None
            end = window_end + self.settings.grace
            while True:
                now = time.time()
                if holder is not None and hold_snapshot and now >= t0 + hold_snapshot:
                    holder.rollback()
                    holder.close()
                    holder = None
                    released_at = now
                if now >= next_sample:
                    dead.append((round(now - t0, 3), mon.dead_tuples()))
                    next_sample += self.settings.sample
                if adapter.poll_completions and now - last_poll > 1.0:
                    self._collect(adapter, mon, completions, last_poll - 10)
                    last_poll = now
                progress(min(now - t0, duration), duration)
                if not pproc.is_alive() and drained_at is None:
                    sent = int(pprog.value)
                    if int(handled.value) >= sent:
                        rem = self._remaining(adapter, mon)
                        if rem is None:
                            self._collect(adapter, mon, completions, last_poll - 10)
                            rem = sent - len(completions)
                        if rem <= 0:
                            drained_at = now
                if drained_at is not None and now >= max(window_end, drained_at) + recover:
                    break
                if drained_at is None and now >= end:
                    break
                if not wproc.is_alive():
                    break
                time.sleep(0.05)
            prod = self._producer_result(pproc, pout)
            wres = self._stop_worker(wproc, wstop, wout)
            if "error" in prod:
                raise RunError(f"{adapter_name} producer failed:\n{prod['error']}")
            if "error" in wres:
                raise RunError(f"{adapter_name} worker failed:\n{wres['error']}")
            time.sleep(self.settings.stats_settle)
            after = mon.snapshot()
            self._collect(adapter, mon, completions, None)
            completions.update(wres.get("done", {}))
            dead.append((round(time.time() - t0, 3), mon.dead_tuples()))
        finally:
            self._reap()
            if holder is not None:
                with contextlib.suppress(psycopg.Error):
                    holder.close()
            mon.close()
            self.server.drop_db(dbname)

        jobs = analyse_jobs(prod["batches"], wres["records"], completions)
        t0p = prod["t0"]
        wend = t0p + duration
        enq = jobs["enqueue_times"]
        starts = jobs["starts"]
        done_times = jobs["done_times"]
        sent = jobs["enqueued"]
        coverage = jobs["completed_seen"] / max(1, jobs["started"])
        # completions inside the window; fall back to handler starts if a system's
        # completion timestamps could not be read
        finish_times = done_times if coverage > 0.98 else starts
        completed_in_window = count_le(finish_times, wend)
        last_start = starts[-1] if starts else float("inf")
        last_done = done_times[-1] if done_times and coverage > 0.98 else last_start
        unstarted_at_end = count_le(enq, wend) - count_le(starts, wend)
        done_by_slack = count_le(finish_times, wend + DONE_SLACK)
        sustained = (
            sent >= ACHIEVED_FRACTION * rate * duration
            and unstarted_at_end <= max(5.0, rate * MAX_BACKLOG_SECONDS)
            and done_by_slack >= DONE_FRACTION * sent
        )
        phases: dict[str, Any] = {}
        if hold_snapshot:
            split = t0p + hold_snapshot
            phases = {
                "held_rate": (count_le(finish_times, split) - count_le(finish_times, t0p)) / hold_snapshot,
                "after_rate": (count_le(finish_times, wend) - count_le(finish_times, split))
                / max(1e-6, duration - hold_snapshot),
                "released_at": (released_at - t0) if released_at else None,
            }
        hot = [t for t in after["tables"] if any(t.startswith(p) for p in adapter.hot_tables)]
        # completions per second in the window shifted by the producers' transaction hold:
        # a job that arrives at t commits at t + hold (equals completion_rate without a hold)
        # (plus on average half the T/K a job waits for the next producer to become free)
        hold = float((plan_extra or {}).get("hold") or 0.0)
        shift = hold * (1 + 0.5 / max(1, int((plan_extra or {}).get("producers") or 1)))
        throughput = (count_le(finish_times, wend + shift) - count_le(finish_times, t0p + shift)) / duration
        extra: dict[str, Any] = {}
        if plan_extra:  # producers that hold transactions: commits land up to T late
            sustained = sustained and throughput >= 0.9 * rate
        if "enqueue_seconds" in prod:
            es, cs = prod["enqueue_seconds"], prod["commit_seconds"]
            extra = {
                "producer_plan": {k: v for k, v in plan.items() if k != "tick"},
                "enqueue_call_latency": summarize(es),
                "commit_latency": summarize(cs),
                "enqueue_latency": summarize([a + b for a, b in zip(es, cs, strict=True)]),
                "jobs_per_transaction": sent / max(1, len(es)),
                "leak": prod.get("leak") or {},
            }
        return {
            **extra,
            "throughput": throughput,
            "system": adapter_name,
            "rate": rate,
            "duration": duration,
            "enqueued": sent,
            "achieved_rate": sent / duration,
            "completed_in_window": completed_in_window,
            "completion_rate": completed_in_window / duration,
            "backlog_at_window_end": count_le(enq, wend) - completed_in_window,
            "unstarted_at_window_end": unstarted_at_end,
            "last_start_after_window": (last_start - wend) if starts else None,
            "last_done_after_window": (last_done - wend) if done_times else None,
            "drained": drained_at is not None,
            "sustained": bool(sustained),
            "started": jobs["started"],
            "duplicates": jobs["duplicates"],
            "completion_coverage": coverage,
            "start_latency": jobs["start_latency"],
            "completion_latency": jobs["completion_latency"] if coverage > 0.98 else None,
            "depth": depth_series(enq, starts, t0p, max(wend, last_start if starts else wend)),
            "dead_tuples": [
                (t, sum(d.values()), sum(v for k, v in d.items() if k in hot or _hot(adapter, k)))
                for t, d in dead
            ],
            "dead_tuples_by_table_final": dead[-1][1] if dead else {},
            "hold_snapshot": hold_snapshot,
            "phases": phases,
            "cost": cost(
                before,
                after,
                max(1, sent),
                mon_statements=after["monitor_statements"] - before["monitor_statements"],
                producer_commits=len(prod["batches"]),
            ),
            "producer_batches": len(prod["batches"]),
            "tables_after": after["tables"],
        }


def _hot(adapter: Adapter, table: str) -> bool:
    return any(table.startswith(p) for p in adapter.hot_tables)


def cost(
    a: dict[str, Any], b: dict[str, Any], jobs: int, mon_statements: int, producer_commits: int | None = None
) -> dict[str, Any]:
    """Per-job WAL and commits, and table churn, between two snapshots. With
    `producer_commits` (one per enqueue call), also the commits the worker side made."""
    commits = b["xact_commit"] - a["xact_commit"] - mon_statements
    ins = upd = dele = hot_upd = 0
    for name, t in b["tables"].items():
        p = a["tables"].get(name, {})
        ins += t["n_tup_ins"] - p.get("n_tup_ins", 0)
        upd += t["n_tup_upd"] - p.get("n_tup_upd", 0)
        dele += t["n_tup_del"] - p.get("n_tup_del", 0)
        hot_upd += t["n_tup_hot_upd"] - p.get("n_tup_hot_upd", 0)
    return {
        "jobs": jobs,
        "wal_bytes": b["wal_bytes"] - a["wal_bytes"],
        "wal_bytes_per_job": (b["wal_bytes"] - a["wal_bytes"]) / jobs,
        "commits": commits,
        "commits_per_job": commits / jobs,
        "worker_commits_per_job": None if producer_commits is None else (commits - producer_commits) / jobs,
        "rollbacks": b["xact_rollback"] - a["xact_rollback"],
        "tuples_inserted": ins,
        "tuples_updated": upd,
        "tuples_hot_updated": hot_upd,
        "tuples_deleted": dele,
        "dead_tuples_end": sum(t["n_dead_tup"] for t in b["tables"].values()),
        "total_bytes_end": sum(t["total_bytes"] for t in b["tables"].values()),
        "index_bytes_end": sum(t["index_bytes"] for t in b["tables"].values()),
        "vacuums": sum(t["vacuums"] for t in b["tables"].values())
        - sum(t.get("vacuums", 0) for t in a["tables"].values()),
    }
