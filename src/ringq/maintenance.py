"""One-shot maintenance steps (promote, rescue, rotate, prune) as calls `Queue` runs.

The worker's leader loop calls them on a timer through `Queue`/`AsyncQueue`; each is one
transaction in one round trip. Exclusive locks are taken with NOWAIT / lock_timeout, so a busy
system makes a step fail fast with `MaintenanceBusy` (retry later) instead of queueing
behind workers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringq.backoff import Backoff
from ringq.errors import InvalidInput, MaintenanceBusy
from ringq.sqlfiles import Call, render
from ringq.types import Ring
from ringq.validation import check_limit, check_seconds


class RotateBlocked(MaintenanceBusy):
    """Rotate refused: the ring's next slot has not been pruned yet (prune it, then retry)."""


PROMOTE = "SELECT {schema}.promote(%s, %s)"
RESCUE = "SELECT {schema}.rescue(%s, %s::float8[], %s, %s)"
ROTATE = "SELECT {schema}.rotate(%s, %s)"
PRUNE = "SELECT {schema}.prune(%s, %s)"


def _scalar(rows: list[tuple[Any, ...]]) -> Any:
    return rows[0][0]


def _check_ring(ring: object) -> Ring:
    if ring not in ("queue", "claim"):
        raise InvalidInput(f"ring: expected 'queue' or 'claim', got {ring!r}")
    return ring


def promote_call(schema: str, now: datetime, limit: int = 10_000) -> Call[int]:
    """Move due deferred jobs into the current ready slot; returns how many moved."""
    return Call(render(PROMOTE, schema), (now, check_limit("limit", limit, 1_000_000)), _scalar)


def rescue_call(
    schema: str, now: datetime, backoff: Backoff, limit: int = 10_000, margin: float = 5.0
) -> Call[int]:
    """Close expired attempts as 'rescued' and retry / defer / dead-letter them; returns how many.

    `margin` (seconds) is the clock skew tolerated between deadline writers and the rescuer.
    """
    params = (now, backoff.as_sql(), check_limit("limit", limit, 1_000_000), check_seconds("margin", margin))
    return Call(render(RESCUE, schema), params, _scalar)


def rotate_call(schema: str, ring: str, lock_timeout_ms: int) -> Call[int]:
    """Seal the ring's current slot and open the next; returns the new current slot."""
    return Call(render(ROTATE, schema), (_check_ring(ring), lock_timeout_ms), _scalar)


def prune_call(schema: str, ring: str, lock_timeout_ms: int) -> Call[int | None]:
    """Truncate the ring's oldest sealed slot if its guard holds; returns it (None: nothing sealed)."""
    return Call(render(PRUNE, schema), (_check_ring(ring), lock_timeout_ms), _scalar)
