"""The Postgres lock behaviour LockOrder.tla assumes, checked on a real server.

The spec's conflict table and request kinds are only as good as these facts: a second inserter of
an uncommitted unique key waits (so two creators of the same two lanes in opposite orders
deadlock — the open finding recorded in correctness/suite.toml), SKIP LOCKED passes a locked row
over, NOWAIT fails at once with 55P03, and ACCESS SHARE blocks ACCESS EXCLUSIVE.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, sql


@pytest.fixture
def lanes(db_url: str, schema: str) -> Iterator[tuple[str, sql.Composed]]:
    with psycopg.connect(db_url, autocommit=True) as c:
        c.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        c.execute(
            sql.SQL(
                "CREATE TABLE {}.lanes (lane_id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                " queue text NOT NULL, priority int NOT NULL, UNIQUE (queue, priority))"
            ).format(sql.Identifier(schema))
        )
    yield db_url, sql.SQL("{}.lanes").format(sql.Identifier(schema))


def test_creating_two_lanes_in_opposite_orders_deadlocks(lanes: tuple[str, sql.Composed]) -> None:
    url, table = lanes
    insert = sql.SQL(
        "INSERT INTO {} (queue, priority) VALUES (%s, 0) ON CONFLICT (queue, priority) DO NOTHING"
    ).format(table)
    with psycopg.connect(url) as a, psycopg.connect(url) as b:
        a.execute(insert, ("qa",))
        b.execute(insert, ("qb",))
        outcome: dict[str, BaseException | None] = {}

        def a_creates_qb() -> None:
            try:
                a.execute(insert, ("qb",))
                outcome["a"] = None
            except psycopg.Error as exc:
                outcome["a"] = exc

        waiter = threading.Thread(target=a_creates_qb)
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive(), "a second inserter of an uncommitted key must wait"
        try:
            b.execute(insert, ("qa",))
            outcome["b"] = None
        except psycopg.Error as exc:
            outcome["b"] = exc
        waiter.join(10)
        # Postgres's deadlock detector aborts one of the two (whichever checks first); the
        # other then goes on.
        errors_seen = [e for e in outcome.values() if e is not None]
        assert len(outcome) == 2 and len(errors_seen) == 1, outcome
        assert isinstance(errors_seen[0], errors.DeadlockDetected)


def test_skip_locked_passes_over_and_nowait_fails(lanes: tuple[str, sql.Composed]) -> None:
    url, table = lanes
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(sql.SQL("INSERT INTO {} (queue, priority) VALUES ('q', 0)").format(table))
    with psycopg.connect(url) as holder, psycopg.connect(url) as other:
        holder.execute(sql.SQL("SELECT 1 FROM {} FOR UPDATE").format(table))
        skipped = other.execute(sql.SQL("SELECT lane_id FROM {} FOR UPDATE SKIP LOCKED").format(table))
        assert skipped.fetchall() == []
        with pytest.raises(errors.LockNotAvailable):
            other.execute(sql.SQL("SELECT 1 FROM {} FOR UPDATE NOWAIT").format(table))


def test_a_reader_makes_lock_table_access_exclusive_nowait_fail(lanes: tuple[str, sql.Composed]) -> None:
    url, table = lanes
    with psycopg.connect(url) as reader, psycopg.connect(url) as pruner:
        reader.execute(sql.SQL("SELECT count(*) FROM {}").format(table))  # ACCESS SHARE until commit
        with pytest.raises(errors.LockNotAvailable):
            pruner.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT").format(table))
