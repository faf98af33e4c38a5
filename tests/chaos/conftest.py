"""Chaos fixtures: a PostgreSQL server per test module that the tests may restart, and a figures
file (`.ringq/chaos-figures.json`) every test writes its measurements to.

`--chaos-long` (or RINGQ_CHAOS_LONG=1) runs the long variants. The option itself is registered in
`tests/conftest.py` (pytest only loads `pytest_addoption` from the root conftest); reading it with
a default keeps this file working before that lands.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chaos_helpers import DEADLOCK_TIMEOUT_MS, Record, drop_schema, fresh_schema

from ringq.embedded import ENV_URL, EmbeddedPostgres

FIGURES = Path(__file__).resolve().parents[2] / ".ringq" / "chaos-figures.json"


@pytest.fixture(scope="session")
def chaos_long(request: pytest.FixtureRequest) -> bool:
    try:
        flag = bool(request.config.getoption("--chaos-long"))
    except ValueError:  # option not registered (yet)
        flag = False
    return flag or os.environ.get("RINGQ_CHAOS_LONG", "") not in ("", "0")


@pytest.fixture(scope="module")
def pg_server() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL 18 of this module's own: restartable, its log readable. Never the shared one."""
    if os.environ.get(ENV_URL):
        pytest.skip(
            f"{ENV_URL} is set: these tests restart/inspect their own server and cannot do that to an "
            "external one"
        )
    server = EmbeddedPostgres.temporary(
        log_lock_waits="on",
        deadlock_timeout=f"{DEADLOCK_TIMEOUT_MS}ms",
        log_min_messages="warning",
        max_connections="200",
        shared_buffers="64MB",
    )
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def pg_schema(pg_server: EmbeddedPostgres) -> Iterator[str]:
    """A ringq schema on the module's own server (4 + 4 slots)."""
    name = fresh_schema(pg_server.url)
    yield name
    drop_schema(pg_server.url, name)


@pytest.fixture
def figures(request: pytest.FixtureRequest, chaos_long: bool) -> Record:
    """`figures(key=value, ...)`: merge this test's numbers into `.ringq/chaos-figures.json`
    (under the test's node id, with " [long]" appended for --chaos-long runs)."""
    key = request.node.nodeid + (" [long]" if chaos_long else "")

    def record(**values: Any) -> None:
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        with open(FIGURES.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
            except json.JSONDecodeError:
                data = {}
            entry = data.setdefault(key, {})
            entry.update(values)
            entry["recorded_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            FIGURES.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        print(f"\n[chaos figures] {request.node.name}: {json.dumps(values, default=str)}")

    return record
