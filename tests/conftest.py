"""Shared fixtures: one real PostgreSQL per test process, one schema per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from ringq.embedded import database_url
from ringq.install import install
from stateful.profiles import register as register_stateful_profiles

# `--hypothesis-profile=deep|mutants` (tests/ is on sys.path while this conftest loads).
register_stateful_profiles()


def pytest_addoption(parser: pytest.Parser) -> None:
    # Registered here: pytest takes options only from the root conftest.
    parser.addoption(
        "--chaos-long",
        action="store_true",
        default=False,
        help="run the long variants of tests/chaos (minutes per test); also RINGQ_CHAOS_LONG=1",
    )


@pytest.fixture(scope="session")
def db_url() -> str:
    """`RINGQ_DATABASE_URL`, or an embedded PostgreSQL 18 started for this test process: in a
    temporary directory, with a watchdog that stops it and removes the directory when this
    process ends, even by SIGKILL (tests/cli/test_cli_db.py)."""
    return database_url()


@pytest.fixture
def schema(db_url: str) -> Iterator[str]:
    """A fresh, uniquely named schema, dropped after the test (tests may run in parallel)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def installed(db_url: str, schema: str) -> str:
    """`schema` with ringq installed (default slot counts); returns the schema name."""
    with psycopg.connect(db_url, autocommit=True) as c:
        install(c, schema)
    return schema


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as c:
        yield c
