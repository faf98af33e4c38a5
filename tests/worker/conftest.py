"""Fixtures for worker tests: a schema with ringq installed."""

from __future__ import annotations

import psycopg
import pytest

from ringq.install import install


@pytest.fixture
def installed(db_url: str, schema: str) -> str:
    with psycopg.connect(db_url, autocommit=True) as conn:
        install(conn, schema=schema, queue_slots=4, claim_slots=4)
    return schema
