"""`install()`: create (or verify) a ringq schema — idempotent, advisory-locked, versioned, atomic."""

from __future__ import annotations

import psycopg
from psycopg import sql

from ringq.errors import SchemaVersionMismatch
from ringq.sqlfiles import FUNCTION_FILES, compose
from ringq.validation import check_schema

# Bump when the tables or functions change incompatibly; an existing schema of another
# version is never altered in place.
SCHEMA_VERSION = 1

_INSTALL_LOCK = "SELECT pg_advisory_xact_lock(hashtext('ringq.install'), hashtext(%s))"
_META_EXISTS = "SELECT to_regclass(%s) IS NOT NULL"


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
    conn: psycopg.Connection, schema: str = "ringq", queue_slots: int = 4, claim_slots: int = 4
) -> None:
    """Create ringq's tables and functions in `schema`, in one transaction.

    Re-running on an installed schema of the same version changes nothing (the slot counts of
    the existing installation are kept). Concurrent installers serialise on an advisory lock.
    A schema installed by another version raises `SchemaVersionMismatch`.
    """
    check_schema(schema)
    _check_slots("queue_slots", queue_slots)
    _check_slots("claim_slots", claim_slots)
    with conn.transaction():
        conn.execute(_INSTALL_LOCK, (schema,))
        version = installed_version(conn, schema)
        if version == SCHEMA_VERSION:
            return
        if version is not None:
            raise SchemaVersionMismatch(
                f"schema {schema!r} holds ringq storage version {version}, but this ringq needs "
                f"version {SCHEMA_VERSION}; migrate it or install into another schema"
            )
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
        for name in FUNCTION_FILES:
            conn.execute(compose(name, schema))
        conn.execute(
            compose("seed.sql", schema),
            {"version": SCHEMA_VERSION, "queue_slots": queue_slots, "claim_slots": claim_slots},
        )
