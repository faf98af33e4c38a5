"""ringq: a durable Postgres job queue with segmented, append-only storage."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

from ringq.aclient import AsyncQueue
from ringq.admin import JobAlreadyTerminal
from ringq.backoff import Backoff
from ringq.client import Queue
from ringq.clock import Clock, ManualClock, SystemClock
from ringq.errors import (
    AttemptClosed,
    DatabaseUnavailable,
    InvalidInput,
    JobNotFound,
    LeaseLost,
    MaintenanceBusy,
    NotInstalled,
    PermissionDenied,
    PruneBlocked,
    RingqError,
    SchemaVersionMismatch,
)
from ringq.install import SCHEMA_VERSION, install
from ringq.maintenance import RotateBlocked
from ringq.types import ClaimedJob, Completion, DlqEntry, Failure, Job, JobInfo, QueueStats

try:
    __version__ = _dist_version("ringq")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "SCHEMA_VERSION",
    "AsyncQueue",
    "AttemptClosed",
    "Backoff",
    "ClaimedJob",
    "Clock",
    "Completion",
    "DatabaseUnavailable",
    "DlqEntry",
    "Failure",
    "InvalidInput",
    "Job",
    "JobAlreadyTerminal",
    "JobInfo",
    "JobNotFound",
    "LeaseLost",
    "MaintenanceBusy",
    "ManualClock",
    "NotInstalled",
    "PermissionDenied",
    "PruneBlocked",
    "Queue",
    "QueueStats",
    "RingqError",
    "RotateBlocked",
    "SchemaVersionMismatch",
    "SystemClock",
    "__version__",
    "install",
]
