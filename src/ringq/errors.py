"""Typed errors a caller can catch. Every user mistake raises one of these, never a raw traceback."""

from __future__ import annotations


class RingqError(Exception):
    """Base class of every error ringq raises on purpose."""


class InvalidInput(RingqError, ValueError):
    """An argument was rejected before anything was written."""


class NotInstalled(RingqError):
    """The schema has no ringq installation (run `ringq install`)."""


class SchemaVersionMismatch(RingqError):
    """The schema was installed by a different ringq version."""


class AttemptClosed(RingqError):
    """The attempt (job_id, run_lease) is no longer open: another closer won.

    `closure` names the outcome that closed it (completed, failed, retried, cancelled,
    rescued, dlq) when known.
    """

    def __init__(self, job_id: int, run_lease: int, closure: str | None, message: str = "") -> None:
        self.job_id = job_id
        self.run_lease = run_lease
        self.closure = closure
        super().__init__(
            message
            or f"attempt (job_id={job_id}, run_lease={run_lease}) is already closed"
            + (f" ({closure})" if closure else "")
        )


class LeaseLost(AttemptClosed):
    """A stale worker tried to finalise or heartbeat an attempt it no longer holds
    (rescued after its deadline, or cancelled). Nothing was changed."""


class JobNotFound(RingqError):
    """No job with that id exists (or it was pruned)."""


class PruneBlocked(RingqError):
    """Prune refused a slot because it still holds live rows, or could not take its lock in time."""


class MaintenanceBusy(RingqError):
    """A maintenance step could not take its exclusive lock without waiting (NOWAIT / lock_timeout)."""


class PermissionDenied(RingqError):
    """The database role lacks a privilege the call needs (e.g. prune needs TRUNCATE on the
    schema's tables); nothing was changed. The grants are in docs/failure-behaviour.md."""
