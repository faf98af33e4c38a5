"""Fixtures for the queue-core tests: an installed schema, a manual clock, a Queue over both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ringq import ManualClock, Queue


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def queue(db_url: str, installed: str, clock: ManualClock) -> Iterator[Queue]:
    q = Queue(db_url, schema=installed, clock=clock)
    yield q
    q.close()


Query = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture
def q_rows(conn: psycopg.Connection, installed: str) -> Query:
    """Run a query with `{s}` standing for the test schema; returns all rows."""

    def run(query: str, *params: Any) -> list[tuple[Any, ...]]:
        composed = sql.SQL(query).format(s=sql.Identifier(installed))
        cur = conn.execute(composed, params or None)
        return cur.fetchall() if cur.description else []

    return run
