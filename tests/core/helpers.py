"""Helpers shared by the core tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TABLES = ("ready", "done", "claims", "closures", "heartbeats", "cancels", "deferred", "dlq", "dedup")


def count_all_rows(q_rows: Any) -> int:
    """Rows in every data table of the test schema (lanes excluded: created on first use)."""
    return sum(q_rows(f"SELECT count(*) FROM {{s}}.{table}")[0][0] for table in TABLES)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
