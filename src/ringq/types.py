"""Values that cross the API boundary (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

JobState = Literal["queued", "deferred", "running", "completed", "failed", "cancelled", "dlq"]
FailOutcome = Literal["retried", "dlq"]
CancelOutcome = Literal["cancelled_queued", "cancelled_deferred", "cancelled_running"]
Ring = Literal["queue", "claim"]


@dataclass(frozen=True)
class Job:
    """A job to enqueue (`enqueue_many`)."""

    task: str
    payload: Any = None
    queue: str = "default"
    priority: int = 0  # 0 (most urgent) .. 9
    run_at: datetime | None = None  # must be timezone-aware
    delay: float | None = None  # seconds; exclusive with run_at
    max_attempts: int = 5
    dedup_key: str | None = None


@dataclass(frozen=True)
class ClaimedJob:
    """One attempt handed to a worker; only (job_id, run_lease) may finalise it."""

    job_id: int
    run_lease: int
    queue: str
    task: str
    payload: Any  # decoded JSON
    priority: int
    attempt: int  # 1-based, counted in the database
    max_attempts: int
    deadline: datetime
    claim_slot: int
    ready_slot: int
    lane_seq: int


@dataclass(frozen=True)
class Completion:
    job_id: int
    run_lease: int
    result: Any = None


@dataclass(frozen=True)
class Failure:
    job_id: int
    run_lease: int
    error: str
    traceback: str | None = None
    retry_delay: float | None = None  # None -> default backoff; ignored when exhausted
    dead_letter: bool = False  # True -> straight to DLQ (undecodable payload, unknown task)


@dataclass(frozen=True)
class JobInfo:
    """Where a job is now (`Queue.job`)."""

    job_id: int
    state: JobState
    queue: str
    task: str | None
    priority: int | None
    attempt: int | None
    max_attempts: int | None
    payload: Any
    result: Any
    error: str | None
    run_lease: int | None  # the open attempt's lease when running, the closing one when terminal
    run_at: datetime | None  # when deferred


@dataclass(frozen=True)
class QueueStats:
    queue: str
    queued: int
    deferred: int
    running: int
    completed: int
    cancelled: int
    dlq: int  # jobs currently in the dead-letter queue

    @property
    def pending(self) -> int:
        return self.queued + self.deferred


@dataclass(frozen=True)
class DlqEntry:
    job_id: int
    queue: str
    task: str
    payload: Any
    priority: int
    attempt: int
    max_attempts: int
    error: str | None
    traceback: str | None
    failed_at: datetime
