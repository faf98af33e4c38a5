"""Helpers shared across test directories. Importable as `support` from any test: tests/ is on
sys.path because tests/conftest.py lives there (pytest's prepend import mode)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        await asyncio.sleep(0.05)


@contextmanager
def runtime_role_without_truncate(db_url: str, schema: str) -> Iterator[str]:
    """A fresh NOLOGIN role with every runtime grant on `schema` except TRUNCATE (so prune is
    denied); dropped afterwards. Sessions use it through SET ROLE."""
    role = f"r_{uuid.uuid4().hex[:12]}"
    ident, s = sql.Identifier(role), sql.Identifier(schema)
    with psycopg.connect(db_url, autocommit=True) as su:
        su.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(ident))
        for grant in (
            "GRANT USAGE ON SCHEMA {s} TO {r}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
            "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {s} TO {r}",
        ):
            su.execute(sql.SQL(grant).format(s=s, r=ident))
    try:
        yield role
    finally:
        with psycopg.connect(db_url, autocommit=True) as su:
            su.execute(sql.SQL("DROP OWNED BY {}").format(ident))
            su.execute(sql.SQL("DROP ROLE {}").format(ident))
