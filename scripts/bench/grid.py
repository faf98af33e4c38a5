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
    ("ringq[c=16]", "ringq README, 'Worker': Worker(queue, registry, concurrency=N)"),
    ("ringq[c=64]", "ringq README, 'Worker': concurrency (claims up to concurrency + 3x prefetch)"),
    ("ringq[c=128]", "ringq README, 'Worker': concurrency"),
    ("ringq[c=64,procs=2]", "ringq README, 'Worker': one `ringq worker` per process, N processes"),
    ("ringq[c=128,procs=2]", "ringq README, 'Worker': one `ringq worker` per process, N processes"),
    ("raw[c=16]", "baseline (no documentation): 2 claim loops x C/2 per batch"),
    ("raw[c=64]", "baseline (no documentation): 2 claim loops x C/2 per batch"),
    ("pgqueuer", "equal settings: psycopg driver, batch_size=min(10, C/2)=8, max_concurrent_tasks=16"),
    (
        "pgqueuer[driver=asyncpg,batch=10]",
        "pgqueuer docs, 'QueueManager.run' (batch_size default 10) and 'Drivers' (asyncpg)",
    ),
    (
        "pgqueuer[driver=asyncpg,batch=100]",
        "pgqueuer docs, 'QueueManager.run': batch_size; 'Drivers': asyncpg",
    ),
    ("pgqueuer[batch=100]", "pgqueuer docs, 'QueueManager.run': batch_size (psycopg driver)"),
    (
        "pgqueuer[driver=asyncpg,batch=100,procs=2]",
        "pgqueuer docs, 'QueueManager.run' / `pgq run --batch-size`: one runner per process",
    ),
    (
        "procrastinate[c=16]",
        "procrastinate docs, 'Launch a worker': --concurrency / run_worker_async(concurrency=)",
    ),
    ("procrastinate[c=64]", "procrastinate docs, 'Launch a worker': concurrency (pool max_size = C + 2)"),
    ("chancy[c=16]", "chancy docs, 'Queue': concurrency, eager_polling=True, polling_interval=1"),
    ("chancy[c=64]", "chancy docs, 'Queue': concurrency, eager_polling=True, polling_interval=1"),
    ("awa[c=16]", "equal settings: start([(queue, 16)])"),
    ("awa[c=32]", "awa docs, 'AsyncClient.start': start([(queue, max_workers)])"),
    ("awa[c=64]", "awa docs, 'AsyncClient.start': start([(queue, max_workers)])"),
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
