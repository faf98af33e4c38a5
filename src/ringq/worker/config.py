"""`WorkerConfig`: the worker's knobs in one frozen value, checked (InvalidInput) when it is made.

A bad knob is refused up front: it must never turn into a worker that starts and then logs
errors forever. The meaning of each knob is in `Worker`'s docstring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ringq.errors import InvalidInput
from ringq.leader import LeaderSettings
from ringq.validation import check_count, check_interval, check_lease, check_name

# One claim statement takes at most this many attempts (the claim's check_limit bound).
MAX_CLAIM_LIMIT = 10_000
# Upper bound for the idle/poll knobs: a "bounded poll" that is an hour long bounds nothing.
MAX_POLL = 3600.0


@dataclass(frozen=True)
class WorkerConfig:
    queues: Sequence[str] | None = None  # kept as a tuple, or None for every queue
    concurrency: int = 10
    claim_batch: int | None = None  # None: concurrency + prefetch
    prefetch: int | None = None  # None: 3 x concurrency
    lease: float = 30.0
    poll_interval: float = 0.5
    flush_interval: float = 0.002
    flush_batch: int = 200
    maintenance: bool = True
    leader_settings: LeaderSettings | None = None
    conninfo: str | None = None
    name: str | None = None  # None: host:pid:random
    listen: bool | None = None  # None: on when a DSN is known
    listen_poll_interval: float | None = None  # None: poll_interval
    listen_health_interval: float = 5.0

    def __post_init__(self) -> None:
        check_count("concurrency", self.concurrency)
        if self.claim_batch is not None:
            check_count("claim_batch", self.claim_batch)
        if self.prefetch is not None:
            check_count("prefetch", self.prefetch, minimum=0)
        check_lease(self.lease)  # the same bound the claim applies: finite, positive, at most a week
        check_interval("poll_interval", self.poll_interval, MAX_POLL)
        check_interval("listen_health_interval", self.listen_health_interval, MAX_POLL)
        if self.listen_poll_interval is not None:
            check_interval("listen_poll_interval", self.listen_poll_interval, MAX_POLL)
        check_interval("flush_interval", self.flush_interval, MAX_POLL, allow_zero=True)
        check_count("flush_batch", self.flush_batch)
        if self.queues is not None:
            if isinstance(self.queues, str):
                raise InvalidInput("queues: expected a sequence of queue names, got a str")
            for i, name in enumerate(self.queues):
                check_name(f"queues[{i}]", name)
        object.__setattr__(self, "queues", tuple(self.queues) if self.queues else None)

    @property
    def ahead(self) -> int:
        """Claimed attempts kept ready beyond the free slots while handlers are short."""
        return 3 * self.concurrency if self.prefetch is None else self.prefetch

    @property
    def claim_limit(self) -> int:
        """The most one claim asks for."""
        return min(self.claim_batch or self.concurrency + self.ahead, MAX_CLAIM_LIMIT)

    @property
    def listening_poll_interval(self) -> float:
        """The idle poll while the LISTEN connection is healthy."""
        return self.listen_poll_interval or self.poll_interval
