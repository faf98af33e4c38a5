"""Every bad argument raises InvalidInput naming the argument, before anything is written."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ringq import AsyncQueue, Completion, Failure, InvalidInput, Job, Queue

from .helpers import count_all_rows

BAD_ENQUEUE: list[tuple[str, dict[str, Any]]] = [
    ("payload", {"payload": {"x": {1, 2}}}),
    ("payload", {"payload": Decimal("1.5")}),
    ("payload", {"payload": math.nan}),
    ("payload", {"payload": [math.inf]}),
    ("payload", {"payload": {"s": "a\x00b"}}),
    ("payload", {"payload": {"k\x00": 1}}),
    ("payload", {"payload": "x" * 2_000}),  # over max_payload_bytes=1000 below
    ("queue", {"queue": ""}),
    ("queue", {"queue": "q" * 65}),
    ("queue", {"queue": "bad queue"}),
    ("queue", {"queue": 7}),
    ("task", {"task": ""}),
    ("task", {"task": "t/x"}),
    ("task", {"task": "é"}),
    ("priority", {"priority": -1}),
    ("priority", {"priority": 10}),
    ("priority", {"priority": True}),
    ("priority", {"priority": 1.0}),
    ("max_attempts", {"max_attempts": 0}),
    ("max_attempts", {"max_attempts": 10**9}),
    ("max_attempts", {"max_attempts": False}),
    ("run_at", {"run_at": datetime(2030, 1, 1)}),
    ("run_at", {"run_at": "tomorrow"}),
    ("run_at/delay", {"run_at": datetime(2030, 1, 1, tzinfo=UTC), "delay": 1.0}),
    ("delay", {"delay": -1}),
    ("delay", {"delay": math.inf}),
    ("delay", {"delay": True}),
    ("dedup_key", {"dedup_key": 5}),
    ("dedup_key", {"dedup_key": ""}),
]


@pytest.fixture
def small_queue(db_url: str, installed: str, clock: Any) -> Any:
    q = Queue(db_url, schema=installed, clock=clock, max_payload_bytes=1000)
    yield q
    q.close()


@pytest.mark.parametrize(
    ("arg", "kwargs"), BAD_ENQUEUE, ids=[f"{a}-{i}" for i, (a, _) in enumerate(BAD_ENQUEUE)]
)
def test_bad_enqueue_rejected_and_nothing_written(
    small_queue: Queue, q_rows: Any, arg: str, kwargs: dict[str, Any]
) -> None:
    call: dict[str, Any] = {"task": "t", **kwargs}
    task = call.pop("task")
    with pytest.raises(InvalidInput, match=arg.split("/")[0]):
        small_queue.enqueue(task, **call)
    # A batch with one bad job writes none of the good ones either.
    good = Job("t", {"ok": True})
    bad = Job(**{"task": "t", **kwargs})
    with pytest.raises(InvalidInput):
        small_queue.enqueue_many([good, bad, good])
    assert count_all_rows(q_rows) == 0


def test_bad_claim_arguments(queue: Queue, q_rows: Any) -> None:
    queue.enqueue("t")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"worker": ""}, "worker"),
        ({"worker": "w", "limit": 0}, "limit"),
        ({"worker": "w", "limit": True}, "limit"),
        ({"worker": "w", "lease": 0}, "lease"),
        ({"worker": "w", "lease": -5}, "lease"),
        ({"worker": "w", "queues": "default"}, "queues"),
        ({"worker": "w", "queues": ["no such"]}, "queues"),
    ]
    for kwargs, arg in cases:
        with pytest.raises(InvalidInput, match=arg):
            queue.claim(**kwargs)
    assert q_rows("SELECT count(*) FROM {s}.claims") == [(0,)]


def test_bad_finalise_arguments(queue: Queue, q_rows: Any) -> None:
    queue.enqueue("t")
    [job] = queue.claim(worker="w")
    with pytest.raises(InvalidInput, match="result"):
        queue.complete(job.job_id, job.run_lease, result=object())
    with pytest.raises(InvalidInput, match="job_id"):
        queue.complete(True, job.run_lease)
    with pytest.raises(InvalidInput, match="items"):
        queue.complete_many([(job.job_id, job.run_lease)])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="error"):
        queue.fail(Failure(job.job_id, job.run_lease, error=None))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="delay"):
        queue.fail(Failure(job.job_id, job.run_lease, error="e", retry_delay=-1))
    with pytest.raises(InvalidInput, match="progress"):
        queue.heartbeat([(job.job_id, job.run_lease)], progress={job.job_id: math.nan})
    assert q_rows("SELECT count(*) FROM {s}.closures") == [(0,)]
    assert q_rows("SELECT count(*) FROM {s}.heartbeats") == [(0,)]
    queue.complete_many([Completion(job.job_id, job.run_lease, {"fine": 1})])
    assert q_rows("SELECT outcome FROM {s}.closures") == [("completed",)]


def test_bad_admin_arguments(queue: Queue) -> None:
    with pytest.raises(InvalidInput, match="ring"):
        queue.rotate("ready")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="ring"):
        queue.prune("x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="job_id"):
        queue.cancel(0)
    with pytest.raises(InvalidInput, match="queue"):
        queue.dlq_list(queue="a b")
    with pytest.raises(InvalidInput, match="job_ids"):
        queue.dlq_retry(["1"])  # type: ignore[list-item]


@pytest.mark.parametrize("delay", [1e12, 1e300, 100 * 365 * 86400 + 1])
def test_enqueue_huge_delay_is_invalid_input(queue: Queue, q_rows: Any, delay: float) -> None:
    """Bug enqueue-delay-overflow: a raw OverflowError from `now + timedelta(delay)`."""
    with pytest.raises(InvalidInput, match="delay"):
        queue.enqueue("t", delay=delay)
    assert count_all_rows(q_rows) == 0
    queue.enqueue("t", delay=100 * 365 * 86400)  # the bound itself is fine


def test_fail_huge_retry_delay_is_invalid_input(queue: Queue, q_rows: Any) -> None:
    """Bug fail-retry-delay-overflow: a raw psycopg DatetimeFieldOverflow from the deferred insert."""
    queue.enqueue("t")
    [job] = queue.claim(worker="w")
    for delay in (1e300, 1e12):
        with pytest.raises(InvalidInput, match="retry_delay"):
            queue.fail(Failure(job.job_id, job.run_lease, "e", retry_delay=delay))
    assert q_rows("SELECT count(*) FROM {s}.closures") == [(0,)]
    assert q_rows("SELECT count(*) FROM {s}.deferred") == [(0,)]
    assert queue.fail(Failure(job.job_id, job.run_lease, "e", retry_delay=60.0)) == "retried"


def test_lone_surrogates_in_identifiers_are_invalid_input(queue: Queue, q_rows: Any) -> None:
    """Bug surrogate-text-args: UnicodeEncodeError from psycopg's encoder."""
    with pytest.raises(InvalidInput, match="dedup_key"):
        queue.enqueue("t", dedup_key="\ud800")
    with pytest.raises(InvalidInput, match="worker"):
        queue.claim(worker="w\udfff")
    assert count_all_rows(q_rows) == 0


def test_failure_text_with_lone_surrogates_is_recorded(queue: Queue, q_rows: Any) -> None:
    """Bug surrogate-text-args: a handler whose exception text holds a lone surrogate must still be
    able to record its failure; the text is sanitised ("?"), not rejected."""
    queue.enqueue("t", max_attempts=1)
    [job] = queue.claim(worker="w")
    outcome = queue.fail(Failure(job.job_id, job.run_lease, "bad \ud800 x", traceback="tb \udc80\x00"))
    assert outcome == "dlq"
    assert q_rows("SELECT error, traceback FROM {s}.dlq") == [("bad ? x", "tb ?\\0")]


def test_wrong_container_types_are_invalid_input(queue: Queue, q_rows: Any) -> None:
    """Bug non-sequence-args: ValueError/TypeError/AttributeError from unpacking and iteration."""
    queue.enqueue("t")
    [job] = queue.claim(worker="w")
    untyped: Any = queue  # the wrong types are the point
    attempt = (job.job_id, job.run_lease)
    cases: list[tuple[Any, str]] = [
        (lambda: untyped.heartbeat([(1,)]), "attempts"),
        (lambda: untyped.heartbeat("ab"), "attempts"),
        (lambda: untyped.heartbeat(5), "attempts"),
        (lambda: untyped.heartbeat([attempt], progress=[1]), "progress"),
        (lambda: untyped.complete_many(None), "items"),
        (lambda: untyped.complete_many(5), "items"),
        (lambda: untyped.fail_many(None), "items"),
        (lambda: untyped.dlq_retry(5), "job_ids"),
        (lambda: untyped.dlq_retry("12"), "job_ids"),
        (lambda: untyped.dlq_purge(5), "job_ids"),
    ]
    for call, arg in cases:
        with pytest.raises(InvalidInput, match=arg):
            call()
    assert q_rows("SELECT count(*) FROM {s}.closures") == [(0,)]
    assert q_rows("SELECT count(*) FROM {s}.heartbeats") == [(0,)]
    assert queue.heartbeat([attempt], progress={job.job_id: {"p": 1}}) == []


BAD_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("maintenance_lock_timeout", {"maintenance_lock_timeout": math.inf}),
    ("maintenance_lock_timeout", {"maintenance_lock_timeout": math.nan}),
    ("maintenance_lock_timeout", {"maintenance_lock_timeout": "1"}),
    ("maintenance_lock_timeout", {"maintenance_lock_timeout": 0}),
    ("maintenance_lock_timeout", {"maintenance_lock_timeout": 3600}),
    ("pool_size", {"pool_size": "4"}),
    ("pool_size", {"pool_size": 0}),
    ("clock", {"clock": 5}),
    ("backoff", {"backoff": 5}),
]


@pytest.mark.parametrize(
    ("arg", "kwargs"), BAD_OPTIONS, ids=[f"{a}-{i}" for i, (a, _) in enumerate(BAD_OPTIONS)]
)
def test_bad_constructor_options(db_url: str, installed: str, arg: str, kwargs: dict[str, Any]) -> None:
    """Bug queue-constructor-args: OverflowError/ValueError/TypeError, or AttributeError on first use."""
    with pytest.raises(InvalidInput, match=arg):
        Queue(db_url, schema=installed, **kwargs)
    with pytest.raises(InvalidInput, match=arg):
        AsyncQueue(db_url, schema=installed, **kwargs)


@pytest.mark.parametrize(
    "payload",
    [{1: "a", "1": "b"}, {"x": [{True: 1, "true": 2}]}, {None: 1, "null": 2}, {1.5: 1, "1.5": 2}],
)
def test_json_key_collisions_rejected(queue: Queue, q_rows: Any, payload: Any) -> None:
    """Bug json-key-collision: {1: "a", "1": "b"} was stored as {"1": "b"} without a word."""
    with pytest.raises(InvalidInput, match="payload"):
        queue.enqueue("t", payload)
    assert count_all_rows(q_rows) == 0


def test_non_str_json_keys_become_strings(queue: Queue) -> None:
    """Documented: non-str keys that do not collide follow JSON's rules and come back as strings."""
    job_id = queue.enqueue("t", {1: "a", "2": "b", None: [{False: 0}]})
    info = queue.job(job_id)
    assert info is not None and info.payload == {"1": "a", "2": "b", "null": [{"false": 0}]}


def test_every_custom_sqlstate_the_sql_raises_is_one_error_class() -> None:
    """The SQLSTATEs RQnnn raised by the storage functions are exactly the `sqlstate` attributes of
    the error classes, and translation is the lookup those attributes build."""
    import re
    from importlib import resources
    from types import SimpleNamespace

    import ringq.client  # noqa: F401  (registers RotateBlocked's SQLSTATE with the calls)
    from ringq import JobAlreadyTerminal, JobNotFound, PruneBlocked, RotateBlocked
    from ringq.errors import BY_SQLSTATE, RingqError, translate

    sql_dir = resources.files("ringq.sql")
    raised = {
        code
        for entry in sql_dir.iterdir()
        if entry.name.endswith(".sql")
        for code in re.findall(r"ERRCODE\s*=\s*'(RQ\d{3})'", entry.read_text(encoding="utf-8"))
    }
    assert raised == set(BY_SQLSTATE)
    expected: dict[str, type[RingqError]] = {
        "RQ001": PruneBlocked,
        "RQ002": RotateBlocked,
        "RQ003": JobAlreadyTerminal,
        "RQ004": JobNotFound,
        "RQ005": InvalidInput,
    }
    assert BY_SQLSTATE == expected

    def db_error(code: str, hint: str | None = None) -> Any:  # what translate reads of a psycopg.Error
        return SimpleNamespace(sqlstate=code, diag=SimpleNamespace(message_primary="m", message_hint=hint))

    for code, cls in expected.items():
        assert cls.sqlstate == code
        assert type(translate(db_error(code))) is cls
    terminal = translate(db_error("RQ003", "cancelled"))
    assert isinstance(terminal, JobAlreadyTerminal) and terminal.outcome == "cancelled"
    assert translate(db_error("23505")) is None  # unique_violation: not one of ours
