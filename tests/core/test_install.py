from __future__ import annotations

import threading

import psycopg
import pytest

from ringq import NotInstalled, Queue, SchemaVersionMismatch, install
from ringq.errors import InvalidInput
from ringq.install import SCHEMA_VERSION, InstallResult, installed_version
from ringq.sqlfiles import migrations


def _objects(conn: psycopg.Connection, schema: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        """SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s
           UNION ALL
           SELECT p.proname, 'f' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = %s ORDER BY 1, 2""",
        (schema, schema),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def test_install_creates_partitions_per_slot_and_is_idempotent(conn: psycopg.Connection, schema: str) -> None:
    created = install(conn, schema, queue_slots=3, claim_slots=5)
    assert created == InstallResult(schema, None, SCHEMA_VERSION, tuple(m.filename for m in migrations()))
    assert created.describe() == f"installed ringq schema {schema!r} version {SCHEMA_VERSION}"
    before = _objects(conn, schema)
    names = {name for name, _ in before}
    assert {"ready_0", "ready_2", "done_2", "claims_4", "closures_4", "heartbeats_4"} <= names
    assert "ready_3" not in names and "claims_5" not in names
    slots = conn.execute(
        f'SELECT ring, count(*) FROM "{schema}".slots GROUP BY ring ORDER BY ring'
    ).fetchall()
    assert slots == [("claim", 5), ("queue", 3)]

    again = install(conn, schema, queue_slots=3, claim_slots=5)  # a no-op
    assert again == InstallResult(schema, SCHEMA_VERSION, SCHEMA_VERSION)
    assert not again.created and not again.migrated
    install(conn, schema)  # other slot counts: the existing installation is kept
    assert _objects(conn, schema) == before
    assert installed_version(conn, schema) == SCHEMA_VERSION


def test_concurrent_installers_serialise(db_url: str, schema: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            with psycopg.connect(db_url, autocommit=True) as c:
                barrier.wait()
                install(c, schema)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(db_url) as c:
        assert c.execute(f'SELECT count(*) FROM "{schema}".meta').fetchone() == (1,)


def test_other_version_is_refused(conn: psycopg.Connection, schema: str) -> None:
    install(conn, schema)
    conn.execute(f'UPDATE "{schema}".meta SET version = version + 1')
    with pytest.raises(SchemaVersionMismatch, match=f"version {SCHEMA_VERSION + 1}, newer than this ringq"):
        install(conn, schema)
    conn.execute(f'UPDATE "{schema}".meta SET version = 0')  # below the baseline: not ringq's
    with pytest.raises(SchemaVersionMismatch, match="version 0"):
        install(conn, schema)


def test_install_rolls_back_entirely_on_failure(conn: psycopg.Connection, schema: str) -> None:
    with pytest.raises(InvalidInput):
        install(conn, schema, queue_slots=1)
    assert installed_version(conn, schema) is None
    assert _objects(conn, schema) == []


def test_queue_on_missing_or_foreign_schema(db_url: str, conn: psycopg.Connection, schema: str) -> None:
    q = Queue(db_url, schema=schema)
    try:
        with pytest.raises(NotInstalled):
            q.enqueue("t")
    finally:
        q.close()
    install(conn, schema)
    conn.execute(f'UPDATE "{schema}".meta SET version = 999')
    q = Queue(db_url, schema=schema)
    try:
        with pytest.raises(SchemaVersionMismatch):
            q.claim(worker="w")
    finally:
        q.close()


@pytest.mark.parametrize(
    "bad", ["", "1abc", "a-b", 'x"; drop', "a" * 64, None, "pg_catalog", "pg_ringq", "information_schema"]
)
def test_bad_schema_names_rejected(conn: psycopg.Connection, bad: object) -> None:
    with pytest.raises(InvalidInput, match="schema"):
        install(conn, bad)  # type: ignore[arg-type]
