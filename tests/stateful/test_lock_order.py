"""NoDeadlock on the real SQL: every transaction that locks several lane rows takes them in
lane_id order (spec/MAPPING.md, lock order step 3), checked by a deterministic probe instead
of hoping a stress run hits the deadlock window:

1. connection X locks the LOWER lane row (SELECT ... FOR UPDATE) and keeps its transaction open;
2. connection Y runs the transaction under test, which needs both lanes, and blocks on X;
3. connection Z tries the HIGHER lane row with NOWAIT. In lane_id order Y waits for the lower
   row before touching the higher one, so Z gets it; a transaction that locks in reverse order
   already holds the higher row while it waits — the half of a waits-for cycle — and Z fails.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg import sql

from ringq.embedded import database_url
from ringq_proof import mutants

from .harness import Crash, Harness

pytestmark = pytest.mark.stateful

Setup = Callable[[Harness], Callable[[], object]]


def _two_lane_attempts(h: Harness) -> list[tuple[int, int]]:
    h.enqueue(1, 0, None, Crash.NONE)
    h.enqueue(1, 1, None, Crash.NONE)
    got = h.claim("w1", 2, Crash.NONE)
    assert len(got) == 2
    return [(c.job_id, c.run_lease) for c in got]


def setup_fail(h: Harness) -> Callable[[], object]:
    keys = _two_lane_attempts(h)

    def run() -> object:
        from ringq.client import fail_call
        from ringq.types import Failure

        from .harness import BACKOFF

        items = [Failure(j, r, "boom", retry_delay=1.0) for j, r in keys]
        return h.run("w2", fail_call(h.schema, h.clock.now(), items, BACKOFF))

    return run


def setup_enqueue(h: Harness) -> Callable[[], object]:
    h.enqueue(1, 0, None, Crash.NONE)  # create both lanes
    h.enqueue(1, 1, None, Crash.NONE)

    def run() -> object:
        from ringq.client import enqueue_call
        from ringq.types import Job

        jobs = [Job("t", {}, queue="q", priority=p) for p in (1, 0)]
        return h.run("w2", enqueue_call(h.schema, h.clock.now(), jobs, 1_000_000))

    return run


def setup_rescue(h: Harness) -> Callable[[], object]:
    _two_lane_attempts(h)
    h.clock.advance(31)
    return lambda: h.rescue(Crash.NONE)


def setup_promote(h: Harness) -> Callable[[], object]:
    h.enqueue(1, 1, 5.0, Crash.NONE)
    h.enqueue(1, 0, 5.0, Crash.NONE)
    h.enqueue(1, 0, None, Crash.NONE)  # make sure both lanes exist
    h.enqueue(1, 1, None, Crash.NONE)
    h.clock.advance(6)
    return lambda: h.promote(Crash.NONE)


def setup_dlq_retry(h: Harness) -> Callable[[], object]:
    keys = _two_lane_attempts(h)
    for k in keys:
        h.fail("w1", k, True, Crash.NONE)

    def run() -> object:
        from ringq.admin import dlq_retry_call

        return h.run("maintenance", dlq_retry_call(h.schema, h.clock.now(), None, "q"))

    return run


# rescue is not probed here: it locks its lanes SKIP LOCKED (issue 13), so it never waits for a
# lane at all (test_rescue_never_waits_for_a_lane below).
CASES: dict[str, Setup] = {
    "fail": setup_fail,
    "enqueue": setup_enqueue,
    "promote": setup_promote,
    "dlq_retry": setup_dlq_retry,
}


@contextlib.contextmanager
def harness() -> Iterator[Harness]:
    h = Harness(database_url(), f"lo_{uuid.uuid4().hex[:12]}", mutant=mutants.from_env())
    try:
        yield h
    finally:
        h.close()


def _waiting(admin: psycopg.Connection, app: str) -> bool:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
        (app,),
    ).fetchone()
    return bool(row and row[0])


def probe(h: Harness, run: Callable[[], object], who_app: str) -> str | None:
    """None when the transaction waits for the lower lane holding nothing else; else the problem."""
    lanes = [r[0] for r in h.q("SELECT lane_id FROM {s}.lanes ORDER BY lane_id")]
    assert len(lanes) >= 2, lanes
    low, high = lanes[0], lanes[1]
    lanes_tbl = sql.SQL("{}.lanes").format(sql.Identifier(h.schema))
    x = psycopg.connect(h.url)
    z = psycopg.connect(h.url)
    outcome: list[object] = []
    t = threading.Thread(target=lambda: outcome.append(_capture(run)), daemon=True)
    try:
        x.execute(sql.SQL("SELECT 1 FROM {} WHERE lane_id = %s FOR UPDATE").format(lanes_tbl), (low,))
        t.start()
        deadline = time.monotonic() + 10
        while not _waiting(h.admin, who_app):
            if not t.is_alive() or time.monotonic() > deadline:
                return f"the transaction never waited for lane {low} (outcome {outcome})"
            time.sleep(0.02)
        try:
            z.execute(
                sql.SQL("SELECT 1 FROM {} WHERE lane_id = %s FOR UPDATE NOWAIT").format(lanes_tbl), (high,)
            )
        except pg_errors.LockNotAvailable:
            return (
                f"it holds lane {high} while waiting for lane {low}: lanes locked out of lane_id "
                "order (half of a waits-for cycle)"
            )
        finally:
            z.rollback()
        return None
    finally:
        x.rollback()
        t.join(timeout=10)
        x.close()
        z.close()
        if outcome and isinstance(outcome[0], BaseException):
            raise outcome[0]


def _capture(run: Callable[[], object]) -> object:
    try:
        return run()
    except BaseException as exc:
        return exc


@pytest.mark.parametrize("name", sorted(CASES))
def test_multi_lane_transactions_lock_lanes_in_order(name: str) -> None:
    with harness() as h:
        run = CASES[name](h)
        who = "maintenance" if name in ("rescue", "promote", "dlq_retry") else "w2"
        problem = probe(h, run, f"ringq-stateful-{h.schema}-{who}")
        if problem:
            mutants.write_report({"invariant": "NoDeadlock", "message": f"{name}: {problem}", "steps": None})
        assert problem is None, f"NoDeadlock: {name}: {problem}"


def test_rescue_never_waits_for_a_lane() -> None:
    """Rescue takes the lanes of the expired attempts SKIP LOCKED: with the lower lane held, it
    rescues the attempt of the higher lane without waiting (no waits-for edge at all), and the
    held lane's attempt on the next call."""
    with harness() as h:
        run = setup_rescue(h)
        low = h.q("SELECT min(lane_id) FROM {s}.lanes")[0][0]
        lanes_tbl = sql.SQL("{}.lanes").format(sql.Identifier(h.schema))
        with psycopg.connect(h.url) as x:
            x.execute(sql.SQL("SELECT 1 FROM {} WHERE lane_id = %s FOR UPDATE").format(lanes_tbl), (low,))
            first = run()
            x.rollback()
        second = run()
        problem = None if (first, second) == (1, 1) else f"rescued {first} then {second}, not 1 then 1"
        if problem:
            mutants.write_report({"invariant": "NoDeadlock", "message": f"rescue: {problem}", "steps": None})
        assert problem is None, f"NoDeadlock: rescue: {problem}"
