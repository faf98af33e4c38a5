"""`install()`: create or migrate a ringq schema — idempotent, advisory-locked, versioned, atomic.

Versions: 1 is the baseline (`sql/schema.sql`, the partition files, `sql/seed.sql`); every later
version is one forward-only migration, `sql/migrations/NNNN_name.sql` (see `ringq.sqlfiles`).
`SCHEMA_VERSION` is the highest migration number, so adding a migration is adding its file.

`install()` runs in one transaction under an advisory lock per schema:
  - no ringq in the schema: create the baseline, then apply every migration;
  - an older version: apply the migrations above it, in order;
  - the same version: change nothing (the slot counts of the existing installation are kept);
  - a newer version (the database was migrated by a newer ringq): refuse.
After migrating, every function is re-created (`CREATE OR REPLACE`, keeping owner and grants)
from the code's SQL files, so the functions always match the code; a change of function bodies
alone is therefore a migration too (a file holding only a comment). Each applied version is recorded in
`{schema}.schema_migrations(version, name, applied_at)` and `{schema}.meta.version` is kept in
step with it (the client checks `meta.version` on connect).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from ringq.errors import SchemaVersionMismatch
from ringq.sqlfiles import (
    BASELINE_VERSION,
    FUNCTION_FILES,
    MigrationsDir,
    compose,
    compose_text,
    latest_version,
    load,
    migrations,
    or_replace,
)
from ringq.validation import check_schema

# The storage version this code reads and writes: the highest shipped migration number.
SCHEMA_VERSION = latest_version()

_INSTALL_LOCK = "SELECT pg_advisory_xact_lock(hashtext('ringq.install'), hashtext(%s))"
_META_EXISTS = "SELECT to_regclass(%s) IS NOT NULL"

# The version table, created when a schema is installed or first migrated (schemas installed
# before it existed have only meta.version); the baseline row takes the installation's time.
_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO {schema}.schema_migrations (version, name, applied_at)
SELECT {baseline}, 'baseline', installed_at FROM {schema}.meta
ON CONFLICT (version) DO NOTHING
"""
_RECORD = "INSERT INTO {schema}.schema_migrations (version, name) VALUES (%s, %s)"
_SET_VERSION = "UPDATE {schema}.meta SET version = %s"


@dataclass(frozen=True)
class InstallResult:
    """What `install()` did: the version it found (None: not installed) and the one it left."""

    schema: str
    from_version: int | None
    to_version: int
    applied: tuple[str, ...] = ()  # migration files applied, in order

    @property
    def created(self) -> bool:
        return self.from_version is None

    @property
    def migrated(self) -> bool:
        return self.from_version is not None and self.from_version != self.to_version

    def describe(self) -> str:
        if self.from_version is None:
            return f"installed ringq schema {self.schema!r} version {self.to_version}"
        if self.from_version != self.to_version:
            return (
                f"migrated ringq schema {self.schema!r} from version {self.from_version} to {self.to_version}"
            )
        return f"ringq schema {self.schema!r} is up to date (version {self.to_version})"


def version_mismatch(schema: str, found: int, needed: int = SCHEMA_VERSION) -> SchemaVersionMismatch:
    """The error for a schema at storage version `found` when the code needs `needed`."""
    if found < needed:
        return SchemaVersionMismatch(
            f"schema {schema!r} holds ringq storage version {found}, this ringq needs version "
            f"{needed}; run `ringq install --schema {schema}` (or ringq.install()) to migrate it"
        )
    return SchemaVersionMismatch(
        f"schema {schema!r} holds ringq storage version {found}, newer than this ringq "
        f"(version {needed}); it was migrated by a newer ringq: upgrade ringq to use it"
    )


def _check_slots(arg: str, value: object) -> int:
    from ringq.errors import InvalidInput

    if not isinstance(value, int) or isinstance(value, bool) or not 2 <= value <= 64:
        raise InvalidInput(f"{arg}: expected an int in 2..64, got {value!r}")
    return value


def installed_version(conn: psycopg.Connection, schema: str) -> int | None:
    """The version recorded in `schema.meta`, or None when ringq is not installed there."""
    check_schema(schema)
    row = conn.execute(_META_EXISTS, (f'"{schema}".meta',)).fetchone()
    if row is None or not row[0]:
        return None
    version = conn.execute(sql.SQL("SELECT version FROM {}.meta").format(sql.Identifier(schema))).fetchone()
    return None if version is None else int(version[0])


def install(
    conn: psycopg.Connection,
    schema: str = "ringq",
    queue_slots: int = 4,
    claim_slots: int = 4,
    *,
    migrations_dir: MigrationsDir | None = None,
) -> InstallResult:
    """Create ringq's tables and functions in `schema`, or migrate them, in one transaction.

    Re-running on an installed schema of the current version changes nothing (the slot counts
    of the existing installation are kept). An older schema is migrated forward, a newer one
    raises `SchemaVersionMismatch`. Concurrent installers serialise on an advisory lock.
    `migrations_dir` replaces the shipped migrations (tests); returns what was done.
    """
    check_schema(schema)
    _check_slots("queue_slots", queue_slots)
    _check_slots("claim_slots", claim_slots)
    steps = migrations(migrations_dir)
    target = steps[-1].version if steps else BASELINE_VERSION
    with conn.transaction():
        conn.execute(_INSTALL_LOCK, (schema,))
        found = installed_version(conn, schema)
        if found == target:
            return InstallResult(schema, found, target)
        if found is not None and found < BASELINE_VERSION:
            raise SchemaVersionMismatch(
                f"schema {schema!r} records ringq storage version {found}, which no ringq wrote; "
                "refusing to change it"
            )
        if found is not None and found > target:
            raise version_mismatch(schema, found, target)
        if found is None:
            _create_baseline(conn, schema, queue_slots, claim_slots)
        conn.execute(compose_text(_VERSION_TABLE, schema, baseline=sql.Literal(BASELINE_VERSION)))
        applied: list[str] = []
        for step in steps:
            if step.version <= (found or BASELINE_VERSION):
                continue
            conn.execute(compose_text(step.text, schema))
            conn.execute(compose_text(_RECORD, schema), (step.version, step.name))
            applied.append(step.filename)
        for name in FUNCTION_FILES:
            conn.execute(compose_text(or_replace(load(name)), schema))
        conn.execute(compose_text(_SET_VERSION, schema), (target,))
    return InstallResult(schema, found, target, tuple(applied))


def _create_baseline(conn: psycopg.Connection, schema: str, queue_slots: int, claim_slots: int) -> None:
    """Version 1's tables, partitions and seed rows (its functions come after the migrations)."""
    conn.execute(compose("schema.sql", schema))
    for slot in range(queue_slots):
        conn.execute(
            compose(
                "queue_partitions.sql",
                schema,
                slot=sql.Literal(slot),
                ready_p=sql.Identifier(f"ready_{slot}"),
                done_p=sql.Identifier(f"done_{slot}"),
            )
        )
    for slot in range(claim_slots):
        conn.execute(
            compose(
                "claim_partitions.sql",
                schema,
                slot=sql.Literal(slot),
                claims_p=sql.Identifier(f"claims_{slot}"),
                closures_p=sql.Identifier(f"closures_{slot}"),
                heartbeats_p=sql.Identifier(f"heartbeats_{slot}"),
            )
        )
    conn.execute(
        compose("seed.sql", schema),
        {"version": BASELINE_VERSION, "queue_slots": queue_slots, "claim_slots": claim_slots},
    )
