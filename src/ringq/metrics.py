"""Prometheus metrics of a worker (and its maintenance leader).

Each `WorkerMetrics` owns a `CollectorRegistry` unless given one, so several workers in one
process (tests, the demo) never collide on metric names. Expose it with
`prometheus_client.start_http_server(port, registry=metrics.registry)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


@dataclass(frozen=True)
class TaskMetrics:
    """The labelled children of one task, looked up once (`labels()` is costly on the hot path)."""

    claimed: Any
    completed: Any
    failed: Any
    retried: Any
    dead_lettered: Any
    handler_duration: Any


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None, *, namespace: str = "ringq") -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r, ns = self.registry, namespace
        self.claimed = Counter("jobs_claimed", "Attempts claimed", ["task"], namespace=ns, registry=r)
        self.completed = Counter("jobs_completed", "Attempts completed", ["task"], namespace=ns, registry=r)
        self.failed = Counter(
            "jobs_failed",
            "Attempts that failed (handler error or timeout)",
            ["task"],
            namespace=ns,
            registry=r,
        )
        self.retried = Counter(
            "jobs_retried", "Failed attempts scheduled for retry", ["task"], namespace=ns, registry=r
        )
        self.dead_lettered = Counter(
            "jobs_dead_lettered",
            "Jobs moved to the dead-letter queue by this worker",
            ["task"],
            namespace=ns,
            registry=r,
        )
        self.lease_lost = Counter(
            "attempts_lease_lost",
            "Attempts whose result was discarded because the lease was lost",
            namespace=ns,
            registry=r,
        )
        self.rescued = Counter(
            "attempts_rescued",
            "Expired attempts rescued by this process's maintenance leader",
            namespace=ns,
            registry=r,
        )
        self.handler_duration = Histogram(
            "handler_duration_seconds",
            "Handler wall time",
            ["task"],
            buckets=_DURATION_BUCKETS,
            namespace=ns,
            registry=r,
        )
        self.in_flight = Gauge("jobs_in_flight", "Attempts running in this worker", namespace=ns, registry=r)
        self._tasks: dict[str, TaskMetrics] = {}
        self.queue_depth = Gauge(
            "queue_depth",
            "Jobs waiting to be claimed (queued + deferred) per queue",
            ["queue"],
            namespace=ns,
            registry=r,
        )

    def for_task(self, task: str) -> TaskMetrics:
        found = self._tasks.get(task)
        if found is None:
            found = self._tasks[task] = TaskMetrics(
                claimed=self.claimed.labels(task=task),
                completed=self.completed.labels(task=task),
                failed=self.failed.labels(task=task),
                retried=self.retried.labels(task=task),
                dead_lettered=self.dead_lettered.labels(task=task),
                handler_duration=self.handler_duration.labels(task=task),
            )
        return found

    def value(self, name: str, **labels: str) -> float:
        """Current value of one sample (`jobs_completed_total`, ...) — for tests and the demo."""
        got = self.registry.get_sample_value(name if name.startswith("ringq_") else f"ringq_{name}", labels)
        return float(got or 0.0)

    def set_queue_depths(self, depths: Iterable[tuple[str, float]]) -> None:
        for queue, depth in depths:
            self.queue_depth.labels(queue=queue).set(depth)


def queue_depths(stats: Iterable[Any]) -> list[tuple[str, float]]:
    """(queue, waiting jobs) from `Queue.stats()` rows; tolerant of which counters a row carries."""
    out: list[tuple[str, float]] = []
    for row in stats:
        waiting = sum(float(getattr(row, attr, 0) or 0) for attr in ("queued", "deferred"))
        out.append((str(row.queue), waiting))
    return out
