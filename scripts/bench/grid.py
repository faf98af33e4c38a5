"""Issue 18: every system at the settings its own documentation recommends.

Each cell is a system spec (`system[key=value,...]`, see `bench.adapters.parse_spec`) and the
place in that system's documentation the setting comes from. Every cell is one drain of the
same jobs on the same server; the systems' cells take turns. The c=16, one-process cells are
the equal-settings view (the harness's historical default).
"""

from __future__ import annotations

from typing import Any

from bench.adapters import parse_spec

# (spec, where the setting comes from)
CELLS: list[tuple[str, str]] = [
    ("ringq[c=16]", "ringq README, 'Workers': Worker(queue, registry, concurrency=N)"),
    ("ringq[c=64]", "ringq README, 'Workers': concurrency (claim-ahead up to 3 x concurrency)"),
    ("ringq[c=128]", "ringq README, 'Workers': concurrency"),
    ("ringq[c=64,procs=2]", "ringq README, 'CLI': one `ringq worker --concurrency N` per process"),
    ("ringq[c=128,procs=2]", "ringq README, 'CLI': one `ringq worker --concurrency N` per process"),
    ("raw[c=16]", "baseline (no documentation): 2 claim loops, batches of C/2"),
    ("raw[c=64]", "baseline (no documentation): 2 claim loops, batches of C/2"),
    ("pgqueuer", "equal settings: psycopg driver, batch_size=min(10, C/2)=8, max_concurrent_tasks=16"),
    (
        "pgqueuer[driver=asyncpg,batch=10]",
        "pgqueuer docs, 'Drivers' (from_asyncpg_connection); 'Performance Tuning' > 'Batch Size' (default 10)",
    ),
    (
        "pgqueuer[driver=asyncpg,batch=100]",
        "pgqueuer docs, 'Performance Tuning' > 'Batch Size' (raise it for short jobs); 'Drivers': asyncpg",
    ),
    (
        "pgqueuer[driver=asyncpgpool,batch=100]",
        "pgqueuer docs, 'Performance Tuning' > 'Connection Pooling' (AsyncpgPoolDriver, pool max_size 32)",
    ),
    ("pgqueuer[batch=100]", "pgqueuer docs, 'Performance Tuning' > 'Batch Size', psycopg driver"),
    (
        "pgqueuer[driver=asyncpg,batch=100,procs=2]",
        "pgqueuer docs, 'Performance Tuning' > 'Batch Size'; one `pgq run` per process",
    ),
    ("procrastinate[c=16]", "equal settings: run_worker_async(concurrency=16)"),
    (
        "procrastinate[c=30]",
        "procrastinate docs, 'Execute multiple jobs at the same time' (concurrency=30; pool max_size C + 2)",
    ),
    ("chancy[c=16]", "chancy docs, 'Queue': concurrency, eager_polling=True, polling_interval=1"),
    ("chancy[c=64]", "chancy docs, 'Queue': concurrency, eager_polling=True, polling_interval=1"),
    ("awa[c=16]", "equal settings: start([(queue, 16)])"),
    ("awa[c=32]", "awa-pg, 'AsyncClient.start': start([(queue, max_workers)])"),
    ("awa[c=64]", "awa-pg, 'AsyncClient.start': start([(queue, max_workers)])"),
]
CITATIONS = dict(CELLS)


def cells_for(systems: list[str]) -> list[str]:
    """The grid's cells of the selected systems, round-robin over systems (systems take turns)."""
    per: dict[str, list[str]] = {}
    for spec, _ in CELLS:
        base, _opts = parse_spec(spec)
        if base in systems:
            per.setdefault(base, []).append(spec)
    out: list[str] = []
    while any(per.values()):
        for base in systems:
            if per.get(base):
                out.append(per[base].pop(0))
    return out


def is_equal_settings(spec: str) -> bool:
    """The c=16, one-process cell of a system (pgqueuer's is its equal-settings default)."""
    base, opts = parse_spec(spec)
    if base == "pgqueuer":
        return not opts
    return opts.get("c") == "16" and opts.get("procs", "1") == "1"


def best_cells(grid: dict[str, dict[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per base system, its cell with the highest drain rate (failed cells skipped)."""
    best: dict[str, tuple[str, dict[str, Any]]] = {}
    for spec, run in grid.items():
        if "error" in run:
            continue
        base, _ = parse_spec(spec)
        if base not in best or run["drain_rate"] > best[base][1]["drain_rate"]:
            best[base] = (spec, run)
    return best
