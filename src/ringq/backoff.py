"""Exponential backoff: `retry_delay()` is the one formula; `Backoff` is the retry policy of jobs.

    retry_delay(step) = min(cap, base * factor ** step)

Jobs: delay(attempt) = retry_delay(attempt - 1) * (1 - jitter * U),  U ~ uniform[0, 1). The same
formula is `backoff_delay()` in `sql/common.sql` (fail and rescue run it in their own
transaction, where the attempt number lives); `Backoff.delay` is its Python twin for callers and
tests. The worker waits `reconnect_delay(failures)` between tries against a database that went
away, and its idle claim wait grows by the same formula.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ringq.errors import InvalidInput

# Waits between tries against a database that went away: 0.1 s doubling to 5 s.
RECONNECT_BASE, RECONNECT_CAP = 0.1, 5.0


def retry_delay(step: int, *, base: float, cap: float, factor: float = 2.0) -> float:
    """min(cap, base * factor ** step) for step >= 0 (a negative step counts as 0); never overflows."""
    try:
        grown = base * float(factor) ** max(step, 0)
    except OverflowError:  # factor ** step is past any float: so is the delay, unless base is 0
        grown = cap if base > 0 else 0.0
    return min(cap, grown)


def reconnect_delay(failures: int) -> float:
    """The wait after `failures` failed tries in a row against the database: 0.1 s doubling to 5 s."""
    return retry_delay(failures, base=RECONNECT_BASE, cap=RECONNECT_CAP)


@dataclass(frozen=True)
class Backoff:
    base: float = 1.0  # seconds before the 2nd attempt
    factor: float = 2.0
    cap: float = 300.0
    jitter: float = 0.1  # fraction of the delay randomly taken off (spreads retry storms)

    def __post_init__(self) -> None:
        values = (self.base, self.factor, self.cap, self.jitter)
        if not (
            all(isinstance(v, int | float) and math.isfinite(v) for v in values)
            and self.base >= 0
            and self.factor >= 1
            and self.cap >= 0
            and 0 <= self.jitter <= 1
        ):
            raise InvalidInput(
                "backoff: need finite numbers with base >= 0, factor >= 1, cap >= 0 and "
                f"0 <= jitter <= 1, got {self}"
            )

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The (lowest, highest) delay after failed attempt number `attempt` (1-based)."""
        high = retry_delay(attempt - 1, base=self.base, cap=self.cap, factor=self.factor)
        return high * (1 - self.jitter), high

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        low, high = self.bounds(attempt)
        u = (rng or random).random()
        return high - (high - low) * u

    def as_sql(self) -> list[float]:
        """The parameter array `backoff_delay(attempt, p_backoff)` expects."""
        return [float(self.base), float(self.factor), float(self.cap), float(self.jitter)]
