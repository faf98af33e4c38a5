"""Typed errors a caller can catch. Every user mistake raises one of these, never a raw traceback.

An error the storage functions raise on purpose (`RAISE ... USING ERRCODE = 'RQ00n'`) is the
class whose `sqlstate` names that code; `translate()` turns a database error into its typed
error with one lookup in the table those attributes build (`BY_SQLSTATE`), plus the few standard
PostgreSQL conditions that mean "not installed", "no permission" or "lock busy".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import psycopg as _psycopg

if TYPE_CHECKING:
    import psycopg

# SQLSTATE -> the RingqError class raised with it (filled as the classes are defined).
BY_SQLSTATE: dict[str, type[RingqError]] = {}


class RingqError(Exception):
    """Base class of every error ringq raises on purpose."""

    sqlstate: ClassVar[str | None] = None
    """The custom SQLSTATE the storage functions raise this error with, when they do."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "sqlstate" in cls.__dict__ and cls.sqlstate is not None:
            register(cls, cls.sqlstate)

    @classmethod
    def from_database(cls, message: str, hint: str | None) -> RingqError:
        """The error for a database error of this class's `sqlstate` (its message and hint)."""
        return cls(message)


def register(cls: type[RingqError], sqlstate: str) -> None:
    """Make `cls` the translation of `sqlstate` (a class body saying `sqlstate = ...` does this)."""
    known = BY_SQLSTATE.get(sqlstate)
    if known is not None and known is not cls:
        raise TypeError(f"SQLSTATE {sqlstate} already stands for {known.__qualname__}")
    cls.sqlstate = sqlstate
    BY_SQLSTATE[sqlstate] = cls


class InvalidInput(RingqError, ValueError):
    """An argument was rejected before anything was written."""

    sqlstate = "RQ005"  # enqueue refuses a caller transaction (conn=) that is not READ COMMITTED

    @classmethod
    def from_database(cls, message: str, hint: str | None) -> RingqError:
        return cls(f"conn: {message}")


class DatabaseUnavailable(RingqError, _psycopg.OperationalError):
    """No connection to the database within the connect timeout (`Queue(..., connect_timeout=S)`):
    a wrong or unreachable DSN, a server that is down, or a pool with no free connection. Also a
    `psycopg.OperationalError`, so code that retries on connection trouble keeps doing so."""


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


class PruneBlocked(RingqError):
    """Prune refused a slot because it still holds live rows, or could not take its lock in time."""

    sqlstate = "RQ001"


class JobAlreadyTerminal(RingqError):
    """The job already finished (completed, cancelled, dead-lettered); `outcome` says how, or is
    'pruned' when its terminal row went with its queue slot (retention) and only its attempts remain."""

    sqlstate = "RQ003"

    def __init__(self, message: str, outcome: str | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome

    @classmethod
    def from_database(cls, message: str, hint: str | None) -> RingqError:
        return cls(message, hint)  # cancel.sql puts the outcome in the HINT


class JobNotFound(RingqError):
    """No job with that id exists (or it was pruned)."""

    sqlstate = "RQ004"


class MaintenanceBusy(RingqError):
    """A maintenance step could not take its exclusive lock without waiting (NOWAIT / lock_timeout)."""


class PermissionDenied(RingqError):
    """The database role lacks a privilege the call needs (e.g. prune needs TRUNCATE on the
    schema's tables); nothing was changed. The grants are in docs/failure-behaviour.md."""


def _not_installed(message: str) -> RingqError:
    return NotInstalled(f"ringq is not installed here ({message}); run ringq.install() first")


# Standard PostgreSQL conditions (not raised by ringq's functions) that mean one of our errors.
POSTGRES_SQLSTATES: dict[str, Callable[[str], RingqError]] = {
    "55P03": lambda m: MaintenanceBusy(f"could not take a lock without waiting: {m}"),  # lock_not_available
    "42883": _not_installed,  # undefined_function
    "3F000": _not_installed,  # invalid_schema_name
    "42P01": _not_installed,  # undefined_table
    "42501": lambda m: PermissionDenied(  # insufficient_privilege
        f"{m}; the ringq runtime role needs the grants in docs/failure-behaviour.md (prune needs TRUNCATE)"
    ),
}


def translate(exc: psycopg.Error) -> RingqError | None:
    """The typed error a database error stands for (None: not one of ours)."""
    state = exc.sqlstate or ""
    message = exc.diag.message_primary or str(exc)
    ours = BY_SQLSTATE.get(state)
    if ours is not None:
        return ours.from_database(message, exc.diag.message_hint)
    standard = POSTGRES_SQLSTATES.get(state)
    return None if standard is None else standard(message)
