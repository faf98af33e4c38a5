"""Load the SQL in `ringq/sql/` and compose it for one schema.

Every file is a template whose placeholders are filled with `psycopg.sql` objects only:
`{schema}` (Identifier), `{schema_name}` (the name as a Literal, for advisory-lock keys and
`format('%I')`), `{job_id_seq}` / `{run_lease_seq}` (regclass literals). Schema names are
validated before they get here, so no user text is ever spliced into SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Generic, TypeVar

from psycopg import sql

from ringq.validation import check_schema

T = TypeVar("T")

# Transactions installed as functions, in install order (common.sql holds their helpers).
FUNCTION_FILES: tuple[str, ...] = (
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


@cache
def load(name: str) -> str:
    """The text of `ringq/sql/<name>`."""
    return resources.files("ringq.sql").joinpath(name).read_text(encoding="utf-8")


def placeholders(schema: str) -> dict[str, sql.Composable]:
    check_schema(schema)
    return {
        "schema": sql.Identifier(schema),
        "schema_name": sql.Literal(schema),
        "job_id_seq": sql.Literal(f'"{schema}".job_id_seq'),
        "run_lease_seq": sql.Literal(f'"{schema}".run_lease_seq'),
    }


def compose(name: str, schema: str, **extra: sql.Composable) -> sql.Composed:
    """`ringq/sql/<name>` with its placeholders filled for `schema`."""
    return sql.SQL(load(name)).format(**placeholders(schema), **extra)


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
