"""Load the SQL in `ringq/sql/` and compose it for one schema.

Every file is a template whose placeholders are filled with `psycopg.sql` objects only:
`{schema}` (Identifier), `{schema_name}` (the name as a Literal, for advisory-lock keys and
`format('%I')`), `{job_id_seq}` / `{run_lease_seq}` (regclass literals). Schema names are
validated before they get here, so no user text is ever spliced into SQL.

`ringq/sql/migrations/NNNN_name.sql` are the numbered, forward-only schema migrations (templates
like the rest; see `migrations()` and `ringq.install`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Generic, TypeVar

from psycopg import sql

from ringq.validation import check_schema

T = TypeVar("T")

# Transactions installed as functions, in install order (common.sql holds their helpers).
FUNCTION_FILES: tuple[str, ...] = (
    "common.sql",
    "enqueue.sql",
    "enqueue_commit.sql",
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


@cache
def load(name: str) -> str:
    """The text of `ringq/sql/<name>`."""
    return resources.files("ringq.sql").joinpath(name).read_text(encoding="utf-8")


def closure_of(alias: str, schema_placeholder: str = "schema", *, same_slot: bool = True) -> str:
    """THE "is this attempt closed?" evidence, as SQL text: the closure row of the attempt named by
    the row alias `alias` (columns job_id, run_lease and, with `same_slot`, the claim slot). An
    attempt is open exactly when `NOT EXISTS (<this>)`. The SQL files use it through the
    placeholders `{closure_of_c}`, `{closure_of_cl}`, `{closure_of_e}` (see `placeholders`), the
    doctor's checks (ringq.invariants) call it directly."""
    where = f"x.job_id = {alias}.job_id AND x.run_lease = {alias}.run_lease"
    if same_slot:
        where += f" AND x.slot = {alias}.slot"
    return f"SELECT 1 FROM {{{schema_placeholder}}}.closures x WHERE {where}"


# The attempt aliases the SQL files name: claims rows `c` and `cl`; rescue's expired attempts `e`
# (gathered from claims and heartbeats: no slot column, the attempt's key alone).
_CLOSURE_ALIASES = {"c": True, "cl": True, "e": False}


def placeholders(schema: str) -> dict[str, sql.Composable]:
    check_schema(schema)
    ident = sql.Identifier(schema)
    return {
        "schema": ident,
        "schema_name": sql.Literal(schema),
        "job_id_seq": sql.Literal(f'"{schema}".job_id_seq'),
        "run_lease_seq": sql.Literal(f'"{schema}".run_lease_seq'),
        **{
            f"closure_of_{alias}": sql.SQL(closure_of(alias, same_slot=slot)).format(schema=ident)
            for alias, slot in _CLOSURE_ALIASES.items()
        },
    }


def compose(name: str, schema: str, **extra: sql.Composable) -> sql.Composed:
    """`ringq/sql/<name>` with its placeholders filled for `schema`."""
    return compose_text(load(name), schema, **extra)


def compose_text(text: str, schema: str, **extra: sql.Composable) -> sql.Composed:
    """A template given as text (a migration, a frozen older schema) composed for `schema`."""
    return sql.SQL(text).format(**placeholders(schema), **extra)


def or_replace(text: str) -> str:
    """A function file's text with every `CREATE FUNCTION` made `CREATE OR REPLACE FUNCTION`.

    The shipped files say `CREATE FUNCTION` (the mutants anchor on it); install re-creates the
    functions over an existing schema after migrating it, keeping their owner and grants.
    """
    return _CREATE_FUNCTION.sub("CREATE OR REPLACE FUNCTION", text)


_CREATE_FUNCTION = re.compile(r"\bCREATE\s+FUNCTION\b")

# The schema version of `schema.sql` + the partition files + `seed.sql`: migration 0002 is the
# first change on top of it. The baseline is never edited; a change is a new migration.
BASELINE_VERSION = 1

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$")

MigrationsDir = Traversable | str | os.PathLike[str]


@dataclass(frozen=True)
class Migration:
    """One forward-only step: `NNNN_name.sql` takes a schema from version NNNN-1 to NNNN."""

    version: int
    name: str
    text: str

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


class MigrationFilesInvalid(Exception):
    """The migration files themselves are wrong (a packaging or authoring mistake, not user input)."""


def default_migrations_dir() -> Traversable:
    return resources.files("ringq.sql").joinpath("migrations")


def migrations(directory: MigrationsDir | None = None) -> tuple[Migration, ...]:
    """The migrations in `directory` (default: the shipped `ringq/sql/migrations/`), in order.

    Files are `NNNN_name.sql`, numbered 0002, 0003, ... without gaps or repeats (0001 is the
    baseline, `schema.sql`); other files there (a README) are ignored, a missing directory
    holds none. A misnamed `.sql` file or a gap raises `MigrationFilesInvalid`.
    """
    if directory is None:
        return _shipped_migrations()
    return _read_migrations(directory if isinstance(directory, Traversable) else Path(directory))


@cache
def _shipped_migrations() -> tuple[Migration, ...]:
    return _read_migrations(default_migrations_dir())


def _read_migrations(directory: Traversable) -> tuple[Migration, ...]:
    if not directory.is_dir():
        return ()
    found: list[Migration] = []
    for entry in directory.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            raise MigrationFilesInvalid(
                f"{entry.name}: a migration is named NNNN_name.sql (four digits, lower-case name)"
            )
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=BASELINE_VERSION + 1):
        if migration.version != expected:
            raise MigrationFilesInvalid(
                f"{migration.filename}: expected migration {expected:04d} next "
                f"(migrations are numbered from {BASELINE_VERSION + 1:04d} without gaps or repeats)"
            )
    return tuple(found)


def latest_version(directory: MigrationsDir | None = None) -> int:
    """The schema version the migrations in `directory` lead to (the baseline when there are none)."""
    steps = migrations(directory)
    return steps[-1].version if steps else BASELINE_VERSION


def statement(template: str, schema: str) -> sql.Composed:
    """A one-line statement template (e.g. a function call) composed for `schema`."""
    return sql.SQL(template).format(**placeholders(schema))


@dataclass(frozen=True)
class Call(Generic[T]):
    """One round trip: a statement, its parameters, and how to read its rows.

    The sync `Queue` and the asyncio `AsyncQueue` run the same calls; only the I/O differs.
    """

    query: str
    params: Sequence[Any] | Mapping[str, Any]
    parse: Callable[[list[tuple[Any, ...]]], T]


@cache
def render(template: str, schema: str) -> str:
    """`statement(template, schema)` as a plain string, cached (a stable key for prepare)."""
    return statement(template, schema).as_string(None)
