"""A role without a privilege gets the typed `PermissionDenied`, not a raw psycopg error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import ConnectionPool

from ringq import PermissionDenied, Queue, RingqError
from support import runtime_role_without_truncate


@pytest.fixture
def no_truncate_queue(db_url: str, installed: str, clock: Any) -> Iterator[Queue]:
    """A Queue whose sessions run as a role with every runtime grant except TRUNCATE."""
    with runtime_role_without_truncate(db_url, installed) as role:
        ident = sql.Identifier(role)

        def as_role(conn: psycopg.Connection) -> None:
            conn.execute(sql.SQL("SET ROLE {}").format(ident))

        pool = ConnectionPool(
            db_url, min_size=1, max_size=2, kwargs={"autocommit": True}, configure=as_role, open=True
        )
        try:
            yield Queue(pool, schema=installed, clock=clock)
        finally:
            pool.close()


def test_prune_without_truncate_raises_permission_denied(no_truncate_queue: Queue, q_rows: Any) -> None:
    q = no_truncate_queue
    q.enqueue("t")  # the other grants suffice for the runtime calls
    for _ in range(2):
        q.rotate("queue")
        q.rotate("claim")
    slots = q_rows("SELECT ring, slot, state FROM {s}.slots ORDER BY 1, 2")
    with pytest.raises(PermissionDenied, match="TRUNCATE") as denied:
        q.prune("claim")
    assert isinstance(denied.value, RingqError)
    assert isinstance(denied.value.__cause__, psycopg.errors.InsufficientPrivilege)
    assert q_rows("SELECT ring, slot, state FROM {s}.slots ORDER BY 1, 2") == slots  # nothing changed
