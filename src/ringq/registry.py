"""Task registry: maps task names to handlers plus their per-task execution policy.

    registry = Registry()

    @registry.task("email.send", timeout=30, max_attempts=3)
    async def send(ctx: JobContext) -> dict:
        await ctx.progress({"step": "rendering"})
        return {"sent": ctx.payload["to"]}

Handlers take one `JobContext`; they may be `async def` or plain functions (run in a thread).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ringq.backoff import Backoff
from ringq.errors import InvalidInput

# Thread-safe: sync handlers call it from their worker thread.
ProgressSink = Callable[[int, int, dict[str, Any]], None]
Handler = Callable[["JobContext"], Any]
PayloadDecoder = Callable[[Any], Any]


@dataclass(frozen=True)
class TaskSpec:
    """A registered task: its handler and how the worker runs it."""

    name: str
    handler: Handler
    timeout: float | None = None
    # A cap on top of the job's own max_attempts (set at enqueue); None = the job's value rules.
    max_attempts: int | None = None
    # Retry delay policy for this task; None = the queue's default backoff (computed in the database).
    backoff: Backoff | None = None
    # Turns the stored payload into what the handler expects; an exception here dead-letters the job.
    decode: PayloadDecoder | None = None

    @cached_property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.handler)


@dataclass
class JobContext:
    """What a handler sees of the job it runs."""

    job_id: int
    run_lease: int
    task: str
    queue: str
    payload: Any
    attempt: int
    max_attempts: int
    priority: int = 0
    _progress_sink: ProgressSink | None = field(default=None, repr=False)

    async def progress(self, data: Mapping[str, Any]) -> None:
        """Record progress; it is written with the attempt's next heartbeat (within a second or so)."""
        self.report_progress(data)

    def report_progress(self, data: Mapping[str, Any]) -> None:
        """`progress` for sync handlers (safe to call from the handler's thread)."""
        if self._progress_sink is not None:
            self._progress_sink(self.job_id, self.run_lease, dict(data))


class Registry:
    """Task name → `TaskSpec`. One registry per application; workers are given it."""

    def __init__(self) -> None:
        self._tasks: dict[str, TaskSpec] = {}

    def task(
        self,
        name: str | None = None,
        *,
        timeout: float | None = None,
        max_attempts: int | None = None,
        backoff: Backoff | None = None,
        decode: PayloadDecoder | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator registering a handler under `name` (default: the function's qualified name)."""
        if timeout is not None and timeout <= 0:
            raise InvalidInput(f"timeout must be positive, got {timeout}")
        if max_attempts is not None and max_attempts < 1:
            raise InvalidInput(f"max_attempts must be >= 1, got {max_attempts}")

        def register(handler: Handler) -> Handler:
            task_name = name or f"{handler.__module__}.{handler.__qualname__}"
            self.add(
                TaskSpec(
                    name=task_name,
                    handler=handler,
                    timeout=timeout,
                    max_attempts=max_attempts,
                    backoff=backoff,
                    decode=decode,
                )
            )
            return handler

        return register

    def add(self, spec: TaskSpec) -> None:
        if spec.name in self._tasks:
            raise InvalidInput(f"task {spec.name!r} is already registered")
        self._tasks[spec.name] = spec

    def get(self, name: str) -> TaskSpec | None:
        return self._tasks.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    def __iter__(self) -> Iterator[TaskSpec]:
        return iter(self._tasks.values())

    def __len__(self) -> int:
        return len(self._tasks)

    def names(self) -> list[str]:
        return sorted(self._tasks)
