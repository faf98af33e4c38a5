"""Registry, backoff and log formatting: the pieces of the worker that need no database."""

from __future__ import annotations

import io
import json
import logging

import pytest

from ringq.errors import InvalidInput
from ringq.logs import JsonLinesFormatter, KeyValueFormatter, configure, get_logger, unconfigure
from ringq.registry import JobContext, Registry


def test_task_decorator_registers_async_and_sync_handlers() -> None:
    registry = Registry()

    @registry.task("a", timeout=2.5, max_attempts=3)
    async def a(ctx: JobContext) -> int:
        return 1

    @registry.task()
    def b(ctx: JobContext) -> int:
        return 2

    spec_a = registry.get("a")
    assert spec_a is not None and spec_a.is_async and spec_a.timeout == 2.5 and spec_a.max_attempts == 3
    (spec_b,) = [s for s in registry if s.name != "a"]
    assert not spec_b.is_async and spec_b.name.endswith("b")
    assert "a" in registry and len(registry) == 2


def test_duplicate_and_invalid_registrations_are_rejected() -> None:
    registry = Registry()
    registry.task("x")(lambda ctx: None)
    with pytest.raises(InvalidInput, match="already registered"):
        registry.task("x")(lambda ctx: None)
    with pytest.raises(InvalidInput, match="timeout"):
        registry.task("y", timeout=0)
    with pytest.raises(InvalidInput, match="max_attempts"):
        registry.task("y", max_attempts=0)


def test_progress_from_a_context_reaches_the_sink() -> None:
    got: list[tuple[int, int, dict[str, object]]] = []
    ctx = JobContext(1, 9, "t", "default", None, 1, 5, _progress_sink=lambda j, r, d: got.append((j, r, d)))
    ctx.report_progress({"step": 1})
    assert got == [(1, 9, {"step": 1})]


def test_key_value_formatter_renders_extra_fields() -> None:
    record = logging.LogRecord("ringq.worker", logging.INFO, __file__, 1, "job failed", None, None)
    record.job_id = 7
    record.error = "boom bang"
    line = KeyValueFormatter().format(record)
    assert line.endswith('ringq.worker job failed job_id=7 error="boom bang"')
    doc = json.loads(JsonLinesFormatter().format(record))
    assert doc["message"] == "job failed" and doc["job_id"] == 7 and doc["level"] == "INFO"


def test_configure_routes_ringq_logs_to_the_given_stream() -> None:
    stream = io.StringIO()
    configure(logging.INFO, stream=stream)
    try:
        get_logger("worker").info("hello", extra={"n": 3})
    finally:
        unconfigure()
    assert "ringq.worker hello n=3" in stream.getvalue()
