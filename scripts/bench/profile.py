"""Where ringq's per-job time goes: py-spy on the worker process during a drain, plus the
top statements from pg_stat_statements for the same run."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.runner import Runner
from bench.server import Monitor


def _py_spy() -> str | None:
    cand = Path(sys.executable).with_name("py-spy")
    if cand.exists():
        return str(cand)
    return shutil.which("py-spy")


def summarize_collapsed(text: str, top: int = 25) -> dict[str, Any]:
    """Self and inclusive sample shares per function from py-spy's collapsed ("raw") stacks."""
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        self_c[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    share = (lambda c: round(100.0 * c / total, 1)) if total else (lambda c: 0.0)
    return {
        "samples": total,
        "self": [(f, share(c)) for f, c in self_c.most_common(top)],
        "inclusive": [(f, share(c)) for f, c in incl.most_common(top) if not f.startswith("<module>")],
    }


def profile_ringq(runner: Runner, n: int, out_dir: Path) -> dict[str, Any]:
    """One ringq drain of `n` jobs under py-spy, with pg_stat_statements reset for it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    spy = _py_spy()
    raw_path = out_dir / "ringq-worker.pyspy.txt"
    svg_path = out_dir / "ringq-worker.svg"
    procs: list[subprocess.Popen[bytes]] = []
    statements: list[dict[str, Any]] = []
    result: dict[str, Any] = {"py_spy": spy is not None}

    def on_pid(pid: int) -> None:
        if spy is None:
            return
        for fmt, path in (("raw", raw_path), ("flamegraph", svg_path)):
            procs.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        "250",
                        "--format",
                        fmt,
                        "--output",
                        str(path),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )

    def before_drop(mon: Monitor) -> None:
        with mon.server.admin() as admin:
            rows = admin.execute(
                "SELECT calls, total_exec_time, rows, shared_blks_hit + shared_blks_read, wal_bytes, "
                "left(regexp_replace(query, '\\s+', ' ', 'g'), 200) FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = %s) "
                "ORDER BY total_exec_time DESC LIMIT 15",
                (mon.dbname,),
            ).fetchall()
        for calls, ms, nrows, blks, wal, q in rows:
            statements.append(
                {
                    "calls": int(calls),
                    "total_ms": float(ms),
                    "rows": int(nrows),
                    "blocks": int(blks),
                    "wal_bytes": int(wal),
                    "query": q,
                }
            )

    with runner.server.admin() as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")
    runner.on_worker_pid, runner.before_drop = on_pid, before_drop
    try:
        drain = runner.drain("ringq", n, lambda _a, _b: None)
    finally:
        runner.on_worker_pid, runner.before_drop = None, None
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(20)
            if p.poll() is None:
                os.kill(p.pid, signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(10)
            err = (p.stderr.read().decode(errors="replace") if p.stderr else "").strip()
            if p.returncode not in (0, None) and err:
                result.setdefault("py_spy_errors", []).append(err[-400:])
    time.sleep(0.1)
    result["drain"] = {k: drain[k] for k in ("n", "drain_rate", "enqueue_rate", "cost")}
    if raw_path.exists():
        result["py_spy_summary"] = summarize_collapsed(raw_path.read_text(errors="replace"))
        result["py_spy_raw"] = str(raw_path)
    if svg_path.exists():
        result["flamegraph"] = str(svg_path)
    total_ms = sum(s["total_ms"] for s in statements) or 1.0
    for s in statements:
        s["per_job_ms"] = s["total_ms"] / n
        s["share"] = round(100 * s["total_ms"] / total_ms, 1)
    result["statements"] = statements
    return result
