"""NOTIFY for LISTENing workers: one notification per statement that makes a row claimable now
(enqueue, promote, dlq retry, retries due now), none otherwise, none with ringq.notify = off."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from ringq import Failure, Job, ManualClock, Queue
from ringq.worker.wakeup import notify_channel


@pytest.fixture
def notes(db_url: str, installed: str) -> Iterator[Callable[[], list[str]]]:
    """Drain the notifications the schema's channel received since the last call."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        channel = notify_channel(installed)
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

        def drain() -> list[str]:
            got = [n.channel for n in conn.notifies(timeout=0.3)]
            assert set(got) <= {channel}
            return got

        yield drain


def test_enqueue_notifies_once_per_statement_only_when_claimable(
    queue: Queue, notes: Callable[[], list[str]]
) -> None:
    queue.enqueue("t")
    assert len(notes()) == 1
    queue.enqueue_many([Job("t", queue=f"q{i % 3}", priority=i % 2) for i in range(20)])
    assert len(notes()) == 1  # a batch: one notification, not one per row
    queue.enqueue("t", delay=60)
    queue.enqueue_many([Job("t", delay=60), Job("t", delay=120)])
    assert notes() == []  # deferred rows are announced by promote
    queue.enqueue_many([Job("t", delay=60), Job("t")])
    assert len(notes()) == 1
    queue.enqueue("t", dedup_key="k")
    notes()
    queue.enqueue("t", dedup_key="k")  # absorbed by the live job: nothing new to claim
    assert notes() == []


def test_promote_dlq_retry_and_retries_notify(
    queue: Queue, clock: ManualClock, notes: Callable[[], list[str]]
) -> None:
    queue.enqueue_many([Job("t", delay=10), Job("t", delay=10)])
    assert queue.promote() == 0
    assert notes() == []
    clock.advance(11)
    assert queue.promote() == 2
    assert len(notes()) == 1
    jobs = queue.claim(worker="w", limit=2)
    assert queue.fail(Failure(jobs[0].job_id, jobs[0].run_lease, "e", retry_delay=0)) == "retried"
    assert len(notes()) == 1  # a retry due now is claimable at once
    assert queue.fail(Failure(jobs[1].job_id, jobs[1].run_lease, "e", dead_letter=True)) == "dlq"
    assert notes() == []
    assert queue.dlq_retry() == 1
    assert len(notes()) == 1
    assert queue.dlq_retry() == 0
    assert notes() == []


def test_notify_can_be_turned_off(db_url: str, queue: Queue, notes: Callable[[], list[str]]) -> None:
    """`ringq.notify = off` (per session, or ALTER ROLE/DATABASE ... SET ringq.notify = off)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SET ringq.notify = off")
        queue.enqueue("t", conn=conn)
        assert notes() == []
        conn.execute("SET ringq.notify = on")
        queue.enqueue("t", conn=conn)
    assert len(notes()) == 1
