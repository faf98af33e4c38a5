"""Run one claimed attempt through its handler and turn what happened into an outcome.

The outcome is a value (never an exception) so the runtime decides in one place what is
written: a completion, a retryable failure, or a dead letter. A cancelled attempt (lease lost
or shutdown) produces no outcome at all: it stays open in the database for rescue.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ringq.registry import JobContext, ProgressSink, Registry, TaskSpec
from ringq.types import ClaimedJob

# Tracebacks are stored with the failure; keep the tail (the frames nearest the error).
TRACEBACK_LIMIT = 4000


@dataclass(frozen=True)
class Succeeded:
    result: Any


@dataclass(frozen=True)
class Errored:
    """A handler error or timeout: retried with backoff unless the attempts are exhausted."""

    error: str
    traceback: str | None
    dead_letter: bool = False


@dataclass(frozen=True)
class Poisoned:
    """The job can never succeed here (unknown task, undecodable payload): dead-letter it now."""

    error: str


Outcome = Succeeded | Errored | Poisoned


def traceback_summary(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))
    return text if len(text) <= TRACEBACK_LIMIT else "…" + text[-TRACEBACK_LIMIT:]


def describe(exc: BaseException) -> str:
    msg = str(exc)
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def attempts_exhausted(job: ClaimedJob, spec: TaskSpec | None) -> bool:
    """The task's own cap (if stricter than the job's) ends retries early."""
    return spec is not None and spec.max_attempts is not None and job.attempt >= spec.max_attempts


async def run_attempt(
    job: ClaimedJob,
    registry: Registry,
    progress: ProgressSink,
    executor: Executor | None,
    on_duration: Callable[[str, float], None] | None = None,
) -> Outcome:
    spec = registry.get(job.task)
    if spec is None:
        return Poisoned(f"unknown task {job.task!r}: no handler is registered for it in this worker")
    try:
        payload = spec.decode(job.payload) if spec.decode is not None else job.payload
    except Exception as exc:
        return Poisoned(f"payload could not be decoded for task {job.task!r}: {describe(exc)}")
    ctx = JobContext(
        job_id=job.job_id,
        run_lease=job.run_lease,
        task=job.task,
        queue=job.queue,
        payload=payload,
        attempt=job.attempt,
        max_attempts=job.max_attempts,
        priority=job.priority,
        _progress_sink=progress,
    )
    started = time.perf_counter()
    deadline = asyncio.timeout(spec.timeout)
    try:
        async with deadline:
            if spec.is_async:
                result = await spec.handler(ctx)
            else:
                # A sync handler that overruns its timeout keeps its thread until it returns:
                # Python cannot kill threads. Its result is discarded; the attempt fails on time.
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(executor, functools.partial(spec.handler, ctx))
    except asyncio.CancelledError:
        raise  # lease lost or shutdown: no outcome, no duration
    except Exception as exc:
        _observe(on_duration, job.task, started)
        if isinstance(exc, TimeoutError) and deadline.expired():
            error = f"TimeoutError: task {job.task!r} exceeded its timeout of {spec.timeout}s"
        else:  # includes a TimeoutError the handler raised itself
            error = describe(exc)
        return Errored(error, traceback_summary(exc), dead_letter=attempts_exhausted(job, spec))
    _observe(on_duration, job.task, started)
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return Errored(
            f"result of task {job.task!r} is not JSON-serialisable: {describe(exc)}",
            None,
            dead_letter=attempts_exhausted(job, spec),
        )
    return Succeeded(result)


def _observe(on_duration: Callable[[str, float], None] | None, task: str, started: float) -> None:
    if on_duration is not None:
        on_duration(task, time.perf_counter() - started)
