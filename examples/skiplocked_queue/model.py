"""The Python twin of SkipLockedQueue.tla: same constants, variables and actions (the toolkit's
`ModelLike`). A state is an immutable NamedTuple; `observe` is what the database can show."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

Held = frozenset[tuple[str, int]]


class State(NamedTuple):
    status: tuple[str, ...]  # per job: absent | queued | running | deleted
    lease: tuple[int, ...]
    seq: tuple[int, ...]
    expired: frozenset[str]
    held: tuple[Held, ...]  # per worker
    next_lease: int
    next_seq: int
    stale: int  # ghost: completions by a worker that was not the current owner


class SkipLockedModel:
    transactions = frozenset({"Enqueue", "Claim", "Complete"})

    def __init__(
        self,
        jobs: tuple[str, ...] = ("j1", "j2"),
        workers: tuple[str, ...] = ("w1", "w2"),
        max_claims: int = 3,
        bug_no_owner_check: bool = False,
    ) -> None:
        self.jobs, self.workers, self.max_claims, self.bug = jobs, workers, max_claims, bug_no_owner_check
        self.invariants: Mapping[str, Callable[[Any], bool]] = {
            "TypeOK": lambda s: all(len(h) <= 1 for h in s.held),
            "CompletedByOwner": lambda s: s.stale == 0,
        }

    def init(self) -> State:
        n = len(self.jobs)
        return State(
            ("absent",) * n, (0,) * n, (0,) * n, frozenset(), (frozenset(),) * len(self.workers), 1, 1, 0
        )

    def successors(self, s: State) -> Iterator[tuple[str, dict[str, Any], State]]:
        for i, j in enumerate(self.jobs):
            if s.status[i] == "absent":
                yield (
                    "Enqueue",
                    {"j": j},
                    s._replace(
                        status=_set(s.status, i, "queued"),
                        seq=_set(s.seq, i, s.next_seq),
                        next_seq=s.next_seq + 1,
                    ),
                )
            if s.status[i] == "running" and j not in s.expired:
                yield "Expire", {"j": j}, s._replace(expired=s.expired | {j})
        claimable = [
            i
            for i, j in enumerate(self.jobs)
            if s.status[i] == "queued" or (s.status[i] == "running" and j in s.expired)
        ]
        for wi, w in enumerate(self.workers):
            if not s.held[wi] and claimable and s.next_lease <= self.max_claims:
                i = min(claimable, key=lambda k: s.seq[k])
                j = self.jobs[i]
                yield (
                    "Claim",
                    {"w": w},
                    s._replace(
                        status=_set(s.status, i, "running"),
                        lease=_set(s.lease, i, s.next_lease),
                        expired=s.expired - {j},
                        held=_set(s.held, wi, frozenset({(j, s.next_lease)})),
                        next_lease=s.next_lease + 1,
                    ),
                )
            for j, lease in s.held[wi]:
                i = self.jobs.index(j)
                dropped = s._replace(held=_set(s.held, wi, frozenset()))
                if s.status[i] == "running" and (s.lease[i] == lease or self.bug):
                    yield (
                        "Complete",
                        {"w": w},
                        dropped._replace(
                            status=_set(s.status, i, "deleted"),
                            expired=s.expired - {j},
                            stale=s.stale + (0 if s.lease[i] == lease else 1),
                        ),
                    )
                else:
                    yield "Complete", {"w": w}, dropped  # lease lost: the worker drops the job
                yield "Crash", {"w": w}, dropped

    def observe(self, s: State) -> dict[str, Any]:
        """What the database (and the workers' memory) shows: the spec's variables minus the ghost,
        the counters, and the lease/seq of rows that are gone."""
        present = [i for i, st in enumerate(s.status) if st in ("queued", "running")]
        return {
            "status": dict(zip(self.jobs, s.status, strict=True)),
            "lease": {self.jobs[i]: s.lease[i] for i in present},
            "seq": {self.jobs[i]: s.seq[i] for i in present},
            "expired": frozenset(s.expired),
            "held": dict(zip(self.workers, s.held, strict=True)),
        }


def _set(t: tuple[Any, ...], i: int, v: Any) -> tuple[Any, ...]:
    return (*t[:i], v, *t[i + 1 :])
