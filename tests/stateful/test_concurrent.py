"""Concurrency under chaos: worker processes, a producer and a maintenance loop that rotates and
prunes every ~150 ms share one schema for a bounded time while the test SIGKILLs workers and
terminates backends at random. Afterwards the execution log must show no lost, duplicated or
unexpected job, and every SQL invariant must hold (tests/stateful/chaos.py).

Default suite: ~20 s of chaos. Longer: scripts/soak.py --seconds 600.
"""

from __future__ import annotations

import os

import pytest

from ringq.embedded import database_url
from ringq_proof import mutants

from .chaos import run_chaos

pytestmark = pytest.mark.stateful


def test_workers_under_chaos_lose_and_duplicate_nothing() -> None:
    seconds = float(os.environ.get("RINGQ_CHAOS_SECONDS", "20"))
    mutant = mutants.from_env()
    result = run_chaos(database_url(), seconds=seconds, workers=3, lease=1.0, seed=1, mutant=mutant)
    print(result.summary())
    if not result.ok:
        first = (
            next(iter(result.log.violations), None)
            or ("NoLostJob" if result.log.lost or not result.drained else None)
            or ("NoDuplicateCompletion" if result.log.duplicated else None)
            or (result.violations[0].check.invariant if result.violations else "unexpected")
        )
        mutants.write_report({"invariant": first, "message": result.summary()[:2000], "steps": None})
    assert result.enqueued > 0 and result.log.executed > 0, result.summary()
    assert result.kills + result.terminations > 0, result.summary()
    assert result.ok, result.summary()
