"""Schema migrations: a v1 schema (the frozen copy in tests/data/schema_v1/) with jobs in flight,
migrated by today's `install()`, finishes every job exactly once; the mechanism itself (order,
atomicity, idempotence, concurrency, a newer database refused) is tested with extra migrations
in a temporary directory."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ringq import Completion, Failure, ManualClock, Queue, SchemaVersionMismatch, install
from ringq.cli import main as cli_main
from ringq.client import check_version
from ringq.install import SCHEMA_VERSION, InstallResult, installed_version
from ringq.invariants import assert_invariants
from ringq.sqlfiles import (
    MigrationFilesInvalid,
    default_migrations_dir,
    latest_version,
    migrations,
)

# -- the frozen v1 schema ------------------------------------------------------------------

V1_DIR = Path(__file__).resolve().parents[1] / "data" / "schema_v1"
# v1's install order (ringq.sqlfiles.FUNCTION_FILES as it was).
V1_FUNCTION_FILES = (
    "common.sql",
    "enqueue.sql",
    "claim.sql",
    "complete.sql",
    "fail.sql",
    "heartbeat.sql",
    "rescue.sql",
    "cancel.sql",
    "promote.sql",
    "dlq_retry.sql",
    "rotate.sql",
    "prune.sql",
    "job.sql",
)
V1_ENQUEUE = (
    "SELECT {schema}.enqueue(%s, %s::text[], %s::text[], %s::int[], %s::text[], %s::int[], "
    "%s::timestamptz[], %s::text[])"
)
V1_CLAIM = "SELECT job_id, run_lease FROM {schema}.claim(%s, %s, %s::text[], %s, %s)"


def v1_sql(text: str, schema: str, **extra: sql.Composable) -> sql.Composed:
    """A v1 template composed with v1's placeholders."""
    return sql.SQL(text).format(
        schema=sql.Identifier(schema),
        schema_name=sql.Literal(schema),
        job_id_seq=sql.Literal(f'"{schema}".job_id_seq'),
        run_lease_seq=sql.Literal(f'"{schema}".run_lease_seq'),
        **extra,
    )


def v1_file(name: str, schema: str, **extra: sql.Composable) -> sql.Composed:
    return v1_sql((V1_DIR / name).read_text(encoding="utf-8"), schema, **extra)


def install_v1(conn: psycopg.Connection, schema: str, queue_slots: int = 3, claim_slots: int = 3) -> None:
    """What `install()` did at version 1 (no version table, meta.version = 1)."""
    with conn.transaction():
        conn.execute(v1_file("schema.sql", schema))
        for slot in range(queue_slots):
            conn.execute(
                v1_file(
                    "queue_partitions.sql",
                    schema,
                    slot=sql.Literal(slot),
                    ready_p=sql.Identifier(f"ready_{slot}"),
                    done_p=sql.Identifier(f"done_{slot}"),
                )
            )
        for slot in range(claim_slots):
            conn.execute(
                v1_file(
                    "claim_partitions.sql",
                    schema,
                    slot=sql.Literal(slot),
                    claims_p=sql.Identifier(f"claims_{slot}"),
                    closures_p=sql.Identifier(f"closures_{slot}"),
                    heartbeats_p=sql.Identifier(f"heartbeats_{slot}"),
                )
            )
        for name in V1_FUNCTION_FILES:
            conn.execute(v1_file(name, schema))
        conn.execute(
            v1_file("seed.sql", schema),
            {"version": 1, "queue_slots": queue_slots, "claim_slots": claim_slots},
        )


def v1_enqueue(
    conn: psycopg.Connection,
    schema: str,
    now: datetime,
    jobs: Sequence[tuple[str, Any, int, datetime | None]],
) -> list[int]:
    """Enqueue (task, payload, max_attempts, run_at) rows with v1's function."""
    row = conn.execute(
        v1_sql(V1_ENQUEUE, schema),
        (
            now,
            [t for t, _, _, _ in jobs],
            ["mig"] * len(jobs),
            [0] * len(jobs),
            [json.dumps(p) for _, p, _, _ in jobs],
            [m for _, _, m, _ in jobs],
            [r for _, _, _, r in jobs],
            [None] * len(jobs),
        ),
    ).fetchone()
    assert row is not None
    return list(row[0])


def v1_claim(conn: psycopg.Connection, schema: str, now: datetime, limit: int) -> list[tuple[int, int]]:
    rows = conn.execute(v1_sql(V1_CLAIM, schema), (now, "v1-worker", ["mig"], limit, 30.0)).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows]


# -- extra migrations in a temporary directory ---------------------------------------------


def migrations_with(tmp_path: Path, *extra: tuple[str, str]) -> Path:
    """The shipped migrations plus `extra` (name, text) numbered after them, in `tmp_path`."""
    directory = tmp_path / "migrations"
    directory.mkdir(parents=True)
    for step in migrations():
        (directory / step.filename).write_text(step.text, encoding="utf-8")
    for offset, (name, text) in enumerate(extra, start=1):
        (directory / f"{SCHEMA_VERSION + offset:04d}_{name}.sql").write_text(text, encoding="utf-8")
    return directory


# A real step: a new column with a backfill, a new index, a new table.
NOTE_COLUMN = (
    "note",
    "ALTER TABLE {schema}.dlq ADD COLUMN note text;\n"
    "UPDATE {schema}.dlq SET note = 'migrated';\n"
    "CREATE INDEX dlq_task_idx ON {schema}.dlq (task);\n",
)
AUDIT_TABLE = (
    "audit",
    "CREATE TABLE {schema}.audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text);\n"
    "INSERT INTO {schema}.audit (what) VALUES ('created by a migration');\n",
)


def recorded(conn: psycopg.Connection, schema: str) -> list[tuple[int, str]]:
    rows = conn.execute(
        sql.SQL("SELECT version, name FROM {}.schema_migrations ORDER BY version").format(
            sql.Identifier(schema)
        )
    ).fetchall()
    return [(int(v), str(n)) for v, n in rows]


def shipped_names() -> list[tuple[int, str]]:
    return [(1, "baseline")] + [(m.version, m.name) for m in migrations()]


def accept_version(monkeypatch: pytest.MonkeyPatch, version: int) -> None:
    """Make the client's version check (wherever it lives) expect `version`."""
    monkeypatch.setattr(sys.modules[check_version.__module__], "SCHEMA_VERSION", version)


@pytest.fixture
def extra_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Shipped migrations + two extra steps; the client accepts the version they lead to."""
    directory = migrations_with(tmp_path, NOTE_COLUMN, AUDIT_TABLE)
    accept_version(monkeypatch, SCHEMA_VERSION + 2)
    yield directory


# -- v1 jobs in flight survive the migration ----------------------------------------------


@pytest.mark.parametrize("which", ["shipped", "shipped+extra"])
def test_v1_jobs_in_flight_finish_exactly_once_after_migrating(
    db_url: str,
    conn: psycopg.Connection,
    schema: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    which: str,
) -> None:
    directory: Path | None = None
    target = SCHEMA_VERSION
    if which == "shipped+extra":
        directory = migrations_with(tmp_path, NOTE_COLUMN, AUDIT_TABLE)
        target = SCHEMA_VERSION + 2
        accept_version(monkeypatch, target)
    clock = ManualClock()
    install_v1(conn, schema)
    # v1: 12 jobs due now (two of them with one attempt only) and one deferred; 10 claimed.
    due = [("t", {"i": i}, 1 if i in (6, 7) else 5, None) for i in range(12)]
    ids = v1_enqueue(conn, schema, clock.now(), due)
    [deferred] = v1_enqueue(
        conn, schema, clock.now(), [("t", {"i": 12}, 5, clock.now() + timedelta(seconds=60))]
    )
    claimed = v1_claim(conn, schema, clock.now(), 10)
    assert [job_id for job_id, _ in claimed] == ids[:10]
    assert_invariants(conn, schema)

    result = install(conn, schema, queue_slots=5, claim_slots=5, migrations_dir=directory)
    assert result.from_version == 1 and result.to_version == target
    assert installed_version(conn, schema) == target
    assert_invariants(conn, schema)

    with Queue(db_url, schema=schema, clock=clock) as q:
        lease = dict(claimed)
        assert q.complete_many([Completion(i, lease[i], {"ok": i}) for i in ids[:4]]) == [None] * 4
        assert [q.fail(Failure(i, lease[i], "boom", retry_delay=0)) for i in ids[4:6]] == ["retried"] * 2
        assert [q.fail(Failure(i, lease[i], "boom")) for i in ids[6:8]] == ["dlq"] * 2
        clock.advance(60)  # the leases of ids[8:10] (never finished by v1's worker) expire
        assert q.rescue() == 2
        for _ in range(10):  # drain: backoffs pass, the deferred job comes due
            clock.advance(600)
            q.promote()
            batch = q.claim(worker="today", queues=["mig"], limit=100)
            if not batch and all(_terminal(q, i) for i in [*ids, deferred]):
                break
            assert q.complete_many([Completion(j.job_id, j.run_lease) for j in batch]) == [None] * len(batch)
        states = {i: _state(q, i) for i in [*ids, deferred]}
    assert states == {i: ("dlq" if i in ids[6:8] else "completed") for i in [*ids, deferred]}
    done = conn.execute(
        sql.SQL(
            "SELECT job_id, count(*) FROM {}.done WHERE outcome IN ('completed', 'failed', 'dlq') GROUP BY 1"
        ).format(sql.Identifier(schema))
    ).fetchall()
    assert dict(done) == {i: 1 for i in [*ids, deferred]}  # every job terminal exactly once
    assert_invariants(conn, schema)


def _state(q: Queue, job_id: int) -> str:
    info = q.job(job_id)
    assert info is not None
    return info.state


def _terminal(q: Queue, job_id: int) -> bool:
    return _state(q, job_id) in ("completed", "failed", "cancelled", "dlq")


# -- migrated == installed fresh -------------------------------------------------------------


def _shape(conn: psycopg.Connection, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Tables, columns, constraints, indexes, functions and triggers of `schema`, schema name elided."""

    def rows(query: str) -> list[tuple[Any, ...]]:
        found = conn.execute(query, {"s": schema}).fetchall()
        return sorted(tuple(str(v).replace(schema, "S") for v in r) for r in found)

    return {
        "relations": rows(
            """SELECT c.relname, c.relkind, c.relpersistence FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s"""
        ),
        "columns": rows(
            """SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
               FROM information_schema.columns WHERE table_schema = %(s)s"""
        ),
        "constraints": rows(
            """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
               FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %(s)s"""
        ),
        "indexes": rows("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s"),
        "functions": rows(
            """SELECT p.proname, pg_get_function_identity_arguments(p.oid), md5(replace(p.prosrc, %(s)s, 'S'))
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(s)s"""
        ),
        "triggers": rows(
            """SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
               JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %(s)s AND NOT t.tgisinternal"""
        ),
    }


def test_a_migrated_v1_schema_matches_a_fresh_install(db_url: str, conn: psycopg.Connection) -> None:
    a, b = "t_mig_fresh_" + _suffix(), "t_mig_old_" + _suffix()
    try:
        install(conn, a, queue_slots=3, claim_slots=3)
        install_v1(conn, b)
        install(conn, b)
        fresh, migrated = _shape(conn, a), _shape(conn, b)
        for part in fresh:
            assert fresh[part] == migrated[part], part
        assert recorded(conn, a) == recorded(conn, b) == shipped_names()
    finally:
        for name in (a, b):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


# -- the mechanism ------------------------------------------------------------------------------


def test_migrations_apply_in_order_once_and_are_recorded(
    conn: psycopg.Connection, schema: str, extra_dir: Path
) -> None:
    install_v1(conn, schema)
    result = install(conn, schema, migrations_dir=extra_dir)
    names = [m.filename for m in migrations(extra_dir)]
    assert result == InstallResult(schema, 1, SCHEMA_VERSION + 2, tuple(names))
    assert result.describe() == f"migrated ringq schema {schema!r} from version 1 to {SCHEMA_VERSION + 2}"
    assert recorded(conn, schema) == [
        *shipped_names(),
        (SCHEMA_VERSION + 1, "note"),
        (SCHEMA_VERSION + 2, "audit"),
    ]
    assert conn.execute(sql.SQL("SELECT what FROM {}.audit").format(sql.Identifier(schema))).fetchall() == [
        ("created by a migration",)
    ]

    again = install(conn, schema, migrations_dir=extra_dir)  # idempotent: nothing to do
    assert again == InstallResult(schema, SCHEMA_VERSION + 2, SCHEMA_VERSION + 2)
    assert again.describe() == f"ringq schema {schema!r} is up to date (version {SCHEMA_VERSION + 2})"
    assert len(recorded(conn, schema)) == SCHEMA_VERSION + 2


def test_a_migration_is_applied_step_by_step_from_any_version(
    conn: psycopg.Connection, schema: str, tmp_path: Path
) -> None:
    install_v1(conn, schema)
    first = migrations_with(tmp_path / "a", NOTE_COLUMN)
    both = migrations_with(tmp_path / "b", NOTE_COLUMN, AUDIT_TABLE)
    assert install(conn, schema, migrations_dir=first).to_version == SCHEMA_VERSION + 1
    result = install(conn, schema, migrations_dir=both)
    assert (result.from_version, result.to_version) == (SCHEMA_VERSION + 1, SCHEMA_VERSION + 2)
    assert result.applied == (f"{SCHEMA_VERSION + 2:04d}_audit.sql",)


def test_functions_are_recreated_from_the_code_after_migrating(
    conn: psycopg.Connection, schema: str, tmp_path: Path
) -> None:
    """A migration that alters nothing (a change of function bodies only) still brings the code's
    functions: install re-creates every function, keeping owner and grants, after migrating."""
    install(conn, schema)
    body = "SELECT prosrc FROM pg_proc WHERE oid = %s::regprocedure"
    signature = f'"{schema}".backoff_delay(integer, double precision[])'
    shipped = conn.execute(body, (signature,)).fetchone()
    conn.execute(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}.backoff_delay(p_attempt integer, p_backoff float8[]) "
            "RETURNS float8 LANGUAGE sql VOLATILE AS 'SELECT 0::float8'"
        ).format(sql.Identifier(schema))
    )
    assert conn.execute(body, (signature,)).fetchone() != shipped
    functions_only = migrations_with(
        tmp_path, ("functions_only", "-- new function bodies, no storage change\n")
    )
    assert install(conn, schema, migrations_dir=functions_only).migrated
    assert conn.execute(body, (signature,)).fetchone() == shipped


def test_a_failing_migration_changes_nothing(conn: psycopg.Connection, schema: str, tmp_path: Path) -> None:
    install_v1(conn, schema)
    broken = migrations_with(
        tmp_path, NOTE_COLUMN, ("broken", "ALTER TABLE {schema}.no_such_table ADD x int;")
    )
    with pytest.raises(psycopg.errors.UndefinedTable):
        install(conn, schema, migrations_dir=broken)
    assert installed_version(conn, schema) == 1
    found = conn.execute("SELECT to_regclass(%s)", (f'"{schema}".schema_migrations',)).fetchone()
    assert found == (None,)  # the whole run rolled back, the version table with it
    columns = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'dlq'",
        (schema,),
    ).fetchall()
    assert ("note",) not in columns


def test_concurrent_installers_migrate_once(
    db_url: str, conn: psycopg.Connection, schema: str, extra_dir: Path
) -> None:
    install_v1(conn, schema)
    results: list[InstallResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            with psycopg.connect(db_url, autocommit=True) as c:
                barrier.wait()
                results.append(install(c, schema, migrations_dir=extra_dir))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.migrated for r in results) == [False, False, False, True]
    assert all(r.to_version == SCHEMA_VERSION + 2 for r in results)
    assert len(recorded(conn, schema)) == SCHEMA_VERSION + 2


def test_a_database_newer_than_the_code_is_refused(
    db_url: str, conn: psycopg.Connection, schema: str, tmp_path: Path
) -> None:
    install(conn, schema, migrations_dir=migrations_with(tmp_path, NOTE_COLUMN))
    with pytest.raises(SchemaVersionMismatch, match=f"version {SCHEMA_VERSION + 1}, newer than this ringq"):
        install(conn, schema)
    assert installed_version(conn, schema) == SCHEMA_VERSION + 1
    with Queue(db_url, schema=schema) as q, pytest.raises(SchemaVersionMismatch, match="upgrade ringq"):
        q.stats()


def test_the_client_on_an_older_schema_says_to_run_ringq_install(
    db_url: str, conn: psycopg.Connection, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_v1(conn, schema)
    accept_version(monkeypatch, SCHEMA_VERSION + 1)
    with Queue(db_url, schema=schema) as q, pytest.raises(SchemaVersionMismatch, match="ringq install"):
        q.stats()


def test_ringq_install_reports_the_versions(
    capsys: pytest.CaptureFixture[str], db_url: str, conn: psycopg.Connection, schema: str
) -> None:
    install_v1(conn, schema)
    assert cli_main(["install", "--database-url", db_url, "--schema", schema]) == 0
    out = capsys.readouterr().out
    if SCHEMA_VERSION == 1:
        assert f"ringq schema '{schema}' is up to date (version 1)" in out
    else:
        assert f"migrated ringq schema '{schema}' from version 1 to {SCHEMA_VERSION}" in out
        assert all(f"applied {m.filename}" in out for m in migrations())
    assert cli_main(["install", "--database-url", db_url, "--schema", schema]) == 0
    assert f"ringq schema '{schema}' is up to date (version {SCHEMA_VERSION})" in capsys.readouterr().out

    conn.execute(sql.SQL("UPDATE {}.meta SET version = version + 1").format(sql.Identifier(schema)))
    assert cli_main(["install", "--database-url", db_url, "--schema", schema]) == 1
    err = capsys.readouterr().err
    assert "newer than this ringq" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# -- the migration files ------------------------------------------------------------------


def test_schema_version_is_the_highest_shipped_migration() -> None:
    assert SCHEMA_VERSION == latest_version() == max([1, *(m.version for m in migrations())])
    assert [m.version for m in migrations()] == list(range(2, SCHEMA_VERSION + 1))
    shipped = (
        [e.name for e in default_migrations_dir().iterdir() if e.name.endswith(".sql")]
        if (default_migrations_dir().is_dir())
        else []
    )
    assert sorted(shipped) == [m.filename for m in migrations()]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["0002_a.sql", "0004_b.sql"], "expected migration 0003 next"),
        (["0002_a.sql", "0002_b.sql"], "expected migration 0003 next"),
        (["0001_a.sql"], "expected migration 0002 next"),
        (["2_a.sql"], "NNNN_name.sql"),
        (["0002_Bad-Name.sql"], "NNNN_name.sql"),
    ],
)
def test_misnumbered_or_misnamed_migration_files_are_rejected(
    tmp_path: Path, files: list[str], message: str
) -> None:
    for name in files:
        (tmp_path / name).write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(MigrationFilesInvalid, match=message):
        migrations(tmp_path)


def test_other_files_and_a_missing_directory_hold_no_migrations(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    assert migrations(tmp_path) == ()
    assert migrations(tmp_path / "absent") == ()
    assert latest_version(tmp_path) == 1
