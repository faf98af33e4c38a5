"""Retry backoff: exponential with jitter, computed in SQL from these four numbers.

delay(attempt) = min(cap, base * factor ** (attempt - 1)) * (1 - jitter * U),  U ~ uniform[0, 1)

The same formula is `backoff_delay()` in `sql/common.sql` (fail and rescue run it in their own
transaction, where the attempt number lives); `Backoff.delay` is its Python twin for callers
and tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ringq.errors import InvalidInput


@dataclass(frozen=True)
class Backoff:
    base: float = 1.0  # seconds before the 2nd attempt
    factor: float = 2.0
    cap: float = 300.0
    jitter: float = 0.1  # fraction of the delay randomly taken off (spreads retry storms)

    def __post_init__(self) -> None:
        if not (self.base >= 0 and self.factor >= 1 and self.cap >= 0 and 0 <= self.jitter <= 1):
            raise InvalidInput(
                f"backoff: need base >= 0, factor >= 1, cap >= 0 and 0 <= jitter <= 1, got {self}"
            )

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The (lowest, highest) delay after failed attempt number `attempt` (1-based)."""
        high = min(self.cap, self.base * self.factor ** max(attempt - 1, 0))
        return high * (1 - self.jitter), high

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        low, high = self.bounds(attempt)
        u = (rng or random).random()
        return high - (high - low) * u

    def as_sql(self) -> list[float]:
        """The parameter array `backoff_delay(attempt, p_backoff)` expects."""
        return [float(self.base), float(self.factor), float(self.cap), float(self.jitter)]
