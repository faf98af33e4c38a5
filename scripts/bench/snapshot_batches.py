"""ADR 0011's measurement of the PgQ-style alternative: the cost of reading a new snapshot batch
while one transaction stays open (it pins the older snapshot's xmin).

    .venv/bin/python scripts/bench/snapshot_batches.py --database-url URL

A scratch table `(id, lane, xid)` indexed on `(lane, xid)`; one transaction inserts a row and
stays open; others commit N rows; then a batch = rows visible in the newer snapshot and not in
the older one is read, as a claim would. Prints the time per read and the buffers it touched.
"""

from __future__ import annotations

import argparse
import time

import psycopg

BATCH = (
    "SELECT id FROM {t} WHERE lane = 1 AND xid >= pg_snapshot_xmin(%s::pg_snapshot) "
    "AND NOT pg_visible_in_snapshot(xid, %s::pg_snapshot) "
    "AND pg_visible_in_snapshot(xid, %s::pg_snapshot) ORDER BY id LIMIT 32"
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--table", default="ringq_snapshot_batches_scratch")
    a = p.parse_args()
    q = BATCH.format(t=a.table)
    with psycopg.connect(a.database_url, autocommit=True) as c:
        c.execute(f"DROP TABLE IF EXISTS {a.table}")
        c.execute(
            f"CREATE TABLE {a.table} (id bigserial PRIMARY KEY, lane int, "
            "xid xid8 NOT NULL DEFAULT pg_current_xact_id())"
        )
        c.execute(f"CREATE INDEX ON {a.table} (lane, xid)")
        holder = psycopg.connect(a.database_url)
        holder.execute(f"INSERT INTO {a.table} (lane) VALUES (1)")  # stays open: pins xmin
        total = 0
        try:
            for step in (1000, 9000, 40000, 50000):
                for _ in range(step // 1000):
                    c.execute(f"INSERT INTO {a.table} (lane) SELECT 1 FROM generate_series(1, 1000)")
                total += step
                c.execute(f"ANALYZE {a.table}")
                lo = c.execute("SELECT pg_current_snapshot()").fetchone()[0]  # type: ignore[index]
                c.execute(f"INSERT INTO {a.table} (lane) SELECT 1 FROM generate_series(1, 10)")
                hi = c.execute("SELECT pg_current_snapshot()").fetchone()[0]  # type: ignore[index]
                t0 = time.perf_counter()
                for _ in range(50):
                    c.execute(q, (lo, lo, hi)).fetchall()
                ms = (time.perf_counter() - t0) * 1000 / 50
                row = c.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + q, (lo, lo, hi)).fetchone()
                plan = row[0][0]["Plan"] if row else {}
                print(
                    f"rows committed since the open transaction began: {total:>7,}: "
                    f"{ms:6.2f} ms per batch read, {plan.get('Shared Hit Blocks', '?')} buffers"
                )
        finally:
            holder.rollback()
            holder.close()
            c.execute(f"DROP TABLE IF EXISTS {a.table}")


if __name__ == "__main__":
    main()
