"""Bad input, fuzzed: every public call either succeeds correctly or raises a typed `RingqError`
(documented in `ringq.errors`), never a raw traceback from deep inside, and a rejected call writes
nothing (row counts before/after). Inputs that used to escape untyped are pinned at the bottom,
each with its reproducer in /tmp/ringq-bugs/ (and the report)."""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from psycopg import sql

from ringq import Completion, Failure, Job, Queue, RingqError, install
from ringq.cli import main as cli_main
from ringq.errors import InvalidInput

pytestmark = pytest.mark.chaos

TABLES = ("ready", "done", "claims", "closures", "heartbeats", "cancels", "deferred", "dlq", "dedup", "lanes")
# Long runs: --chaos-long or RINGQ_CHAOS_LONG=1 (read at import: Hypothesis settings are static).
LONG = "--chaos-long" in sys.argv or os.environ.get("RINGQ_CHAOS_LONG", "") not in ("", "0")
FUZZ = settings(
    max_examples=400 if LONG else 25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

SQLISH = [
    "x'; DROP TABLE ringq.ready; --",
    'x"; DROP SCHEMA public CASCADE; --',
    "Robert'); DELETE FROM lanes;--",
    "$$; SELECT pg_sleep(10); $$",
    "ringq.ready",
    "a b",
    "",
    "\x00",
    "\ud800",
    "é",
    "q" * 65,
    "pg_catalog",
    "%s",
    "{schema}",
]
WEIRD_STR = st.one_of(
    st.sampled_from(SQLISH),
    st.text(st.characters(exclude_categories=()), max_size=80),  # surrogates and NUL included
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, -1, 1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True),
)
DATETIMES = st.one_of(
    st.datetimes(),  # naive
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from(
        [
            datetime.max.replace(tzinfo=UTC),
            datetime.min.replace(tzinfo=UTC),
            datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=-11))),
        ]
    ),
)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    WEIRD_STR,
    DATETIMES,
    st.binary(max_size=10),
    st.just(object()),
    st.just({1, 2}),
    st.lists(st.integers(), max_size=3),
)
JSONISH = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(), WEIRD_STR
    ),
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(WEIRD_STR, kids, max_size=4)),
    max_leaves=20,
)


def deep(n: int) -> Any:
    x: Any = []
    for _ in range(n):
        x = [x]
    return x


PAYLOADS = st.one_of(
    JSONISH,
    JUNK,
    st.sampled_from(["x" * 20_000, deep(5_000), {"k\x00": 1}, [math.nan], Decimal("1.5"), 10**5000]),
)


def _has_surrogate(value: object) -> bool:
    return isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value)


@pytest.fixture(scope="module")
def fuzz_schema(db_url: str) -> Iterator[str]:
    name = f"f_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        install(conn, name)
    yield name
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def fq(db_url: str, fuzz_schema: str) -> Iterator[Queue]:
    q = Queue(db_url, schema=fuzz_schema, max_payload_bytes=10_000)
    yield q
    q.close()


def counts(db_url: str, schema: str) -> dict[str, int]:
    out: dict[str, int] = {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        for t in TABLES:
            query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(t))
            row = conn.execute(query).fetchone()
            out[t] = int(row[0]) if row else -1
    return out


def typed_or_ok(call: Callable[[], Any]) -> tuple[bool, Any]:
    """(True, result) or (False, the RingqError). Anything else propagates and fails the test."""
    try:
        return True, call()
    except RingqError as exc:
        assert str(exc), "a typed error must say what was wrong"
        return False, exc


@FUZZ
@given(
    task=st.one_of(st.just("t"), WEIRD_STR, JUNK),
    payload=PAYLOADS,
    queue=st.one_of(st.just("default"), WEIRD_STR, JUNK),
    priority=st.one_of(st.integers(0, 9), NUMBERS, JUNK),
    run_at=st.one_of(st.none(), DATETIMES, JUNK),
    delay=st.one_of(st.none(), NUMBERS, JUNK),
    max_attempts=st.one_of(st.just(3), NUMBERS, JUNK),
    dedup_key=st.one_of(st.none(), WEIRD_STR, JUNK),
    good_around=st.booleans(),
)
def test_enqueue_fuzz(db_url: str, fuzz_schema: str, fq: Queue, good_around: bool, **kw: Any) -> None:
    before = counts(db_url, fuzz_schema)
    try:
        job = Job(**kw)
    except TypeError:
        return  # the dataclass itself refused (not ringq's call)
    batch = [Job("t"), job, Job("t")] if good_around else [job]
    ok, result = typed_or_ok(lambda: fq.enqueue_many(batch))
    after = counts(db_url, fuzz_schema)
    if not ok:
        assert after == before, f"a rejected enqueue wrote rows: {before} -> {after}"
        return
    assert len(result) == len(batch) and all(isinstance(i, int) for i in result)
    for job_id in set(result):
        info = fq.job(job_id)
        assert info is not None and info.state in ("queued", "deferred"), info


@FUZZ
@given(
    worker=st.one_of(st.just("w"), WEIRD_STR, JUNK),
    queues=st.one_of(st.none(), st.lists(st.one_of(WEIRD_STR, JUNK), max_size=3), JUNK),
    limit=st.one_of(st.integers(1, 5), NUMBERS, JUNK),
    lease=st.one_of(st.just(30.0), NUMBERS, JUNK),
)
def test_claim_fuzz(db_url: str, fuzz_schema: str, fq: Queue, **kw: Any) -> None:
    before = counts(db_url, fuzz_schema)
    ok, result = typed_or_ok(lambda: fq.claim(**kw))
    if not ok:
        assert counts(db_url, fuzz_schema) == before
        return
    for job in result:  # give the claimed attempts back so later examples see a quiet schema
        fq.complete(job.job_id, job.run_lease)


@FUZZ
@given(
    job_id=st.one_of(NUMBERS, JUNK),
    run_lease=st.one_of(NUMBERS, JUNK),
    result=PAYLOADS,
    error=st.one_of(WEIRD_STR, JUNK),
    retry_delay=st.one_of(st.none(), NUMBERS, JUNK),
    dead_letter=st.one_of(st.booleans(), JUNK),
    progress=st.one_of(st.none(), st.dictionaries(st.integers(), PAYLOADS, max_size=2)),
)
def test_finalise_fuzz(
    db_url: str,
    fuzz_schema: str,
    fq: Queue,
    job_id: Any,
    run_lease: Any,
    result: Any,
    error: Any,
    retry_delay: Any,
    dead_letter: Any,
    progress: Any,
) -> None:
    before = counts(db_url, fuzz_schema)
    typed_or_ok(lambda: fq.complete_many([Completion(job_id, run_lease, result)]))
    typed_or_ok(lambda: fq.fail_many([Failure(job_id, run_lease, error, None, retry_delay, dead_letter)]))
    typed_or_ok(lambda: fq.heartbeat([(job_id, run_lease)], progress=progress))
    # No attempt (job_id, run_lease) of these is open: nothing may be written, whatever the input.
    assert counts(db_url, fuzz_schema) == before


@FUZZ
@given(
    job_id=st.one_of(NUMBERS, JUNK),
    ids=st.one_of(st.none(), st.lists(st.one_of(NUMBERS, JUNK), max_size=3)),
    queue=st.one_of(st.none(), WEIRD_STR, JUNK),
    limit=st.one_of(st.integers(1, 10), NUMBERS, JUNK),
    ring=st.one_of(st.sampled_from(["queue", "claim"]), WEIRD_STR, JUNK),
)
def test_admin_fuzz(
    db_url: str, fuzz_schema: str, fq: Queue, job_id: Any, ids: Any, queue: Any, limit: Any, ring: Any
) -> None:
    before = counts(db_url, fuzz_schema)
    calls: list[Callable[[], Any]] = [
        lambda: fq.cancel(job_id),
        lambda: fq.job(job_id),
        lambda: fq.dlq_list(queue, limit),
        lambda: fq.dlq_retry(ids, queue=queue),
        lambda: fq.dlq_purge(ids, queue=queue),
        lambda: fq.promote(limit),
        lambda: fq.rescue(limit),
    ]
    for call in calls:
        typed_or_ok(call)
    if ring not in ("queue", "claim"):
        maintenance: list[Callable[[], Any]] = [lambda: fq.rotate(ring), lambda: fq.prune(ring)]
        for step in maintenance:
            ok, _ = typed_or_ok(step)
            assert not ok
    after = counts(db_url, fuzz_schema)
    # cancel of a random id may hit a real queued job of an earlier example: only `cancels` may grow.
    assert {k: v for k, v in after.items() if k != "cancels"} == {
        k: v for k, v in before.items() if k != "cancels"
    }


@FUZZ
@given(name=st.one_of(st.sampled_from(SQLISH), WEIRD_STR, JUNK))
@example(name="pg_catalog")
def test_sql_looking_schema_names_are_rejected_or_quoted(db_url: str, name: Any) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        schemas = conn.execute("SELECT count(*) FROM pg_namespace").fetchone()
        try:
            install(conn, name)
        except InvalidInput:
            pass
        else:  # accepted: it must be exactly that schema, quoted
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
        assert conn.execute("SELECT count(*) FROM pg_namespace").fetchone() == schemas
    with pytest.raises(InvalidInput) if not _valid_schema(name) else contextlib.nullcontext():
        Queue("postgresql://unused.invalid/x", schema=name).close()


def _valid_schema(name: Any) -> bool:
    from ringq.validation import SCHEMA_RE

    # PostgreSQL reserves pg_* and information_schema for system schemas: ringq refuses them too.
    return (
        isinstance(name, str)
        and bool(SCHEMA_RE.fullmatch(name))
        and not name.startswith("pg_")
        and name != "information_schema"
    )


ARG = st.one_of(
    st.sampled_from(["1", "0", "-1", "99999999999999999999999", "1e3", "nan", "inf", "--all", "x y"]),
    WEIRD_STR.filter(lambda s: "\x00" not in s and not _has_surrogate(s)),  # argv cannot carry these
)


@FUZZ
@given(
    command=st.sampled_from(
        [
            ["stats"],
            ["stats", "--json"],
            ["cancel"],
            ["dlq", "list", "--queue"],
            ["dlq", "list", "--limit"],
            ["dlq", "retry"],
            ["dlq", "purge", "--queue"],
            ["install", "--queue-slots"],
            ["--schema"],
            ["worker", "--app"],
            ["worker", "--app", "chaos_app:registry", "--lease"],
            ["worker", "--app", "chaos_app:registry", "--concurrency"],
            ["worker", "--app", "chaos_app:registry", "--poll-interval"],
        ]
    ),
    args=st.lists(ARG, min_size=1, max_size=2),
)
def test_cli_arguments_fuzz(db_url: str, fuzz_schema: str, command: list[str], args: list[str]) -> None:
    argv = [*command, *args]
    if command[0] != "--schema":
        argv += ["--database-url", db_url, "--schema", fuzz_schema]
    else:
        argv += ["stats", "--database-url", db_url]
    if command[0] == "worker":
        # never actually serve: a bad value must fail fast; a good one would run until a signal
        assume(not _plausible_worker_value(command, args))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli_main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    text = err.getvalue()
    assert "Traceback" not in text, f"{argv}: {text}"
    assert code in (0, 1, 2), (argv, code, text)
    if code:
        assert text.strip(), f"{argv}: failed silently"


def _plausible_worker_value(command: list[str], args: list[str]) -> bool:
    if len(command) < 4:
        return False
    try:
        value = float(args[0])
    except ValueError:
        return False
    if command[-1] == "--concurrency":  # any positive int is a valid concurrency
        return len(args) == 1 and value >= 1
    return len(args) == 1 and math.isfinite(value) and 0 < value <= 3600


# -- formerly untyped errors (reproducers in /tmp/ringq-bugs/), now typed ----------------------

BUGS: list[tuple[str, Callable[[Queue], Any]]] = [
    ("enqueue-delay-overflow", lambda fq: fq.enqueue("t", delay=1e12)),
    ("enqueue-delay-overflow", lambda fq: fq.enqueue("t", delay=1e300)),
    ("surrogate-text-args", lambda fq: fq.enqueue("t", dedup_key="\ud800")),
    ("surrogate-text-args", lambda fq: fq.claim(worker="\ud800")),
    ("non-sequence-args", lambda fq: fq.heartbeat([(1,)])),  # type: ignore[list-item]
    ("non-sequence-args", lambda fq: fq.heartbeat([(1, 1)], progress=[1])),  # type: ignore[arg-type]
    ("non-sequence-args", lambda fq: fq.complete_many(None)),  # type: ignore[arg-type]
    ("non-sequence-args", lambda fq: fq.dlq_retry(5)),  # type: ignore[arg-type]
    (
        "queue-constructor-args",
        lambda fq: Queue("postgresql://x.invalid/x", maintenance_lock_timeout=math.inf),
    ),
    (
        "queue-constructor-args",
        lambda fq: Queue("postgresql://x.invalid/x", maintenance_lock_timeout=math.nan),
    ),
]


@pytest.mark.parametrize(("bug", "call"), BUGS, ids=[f"{b}-{i}" for i, (b, _) in enumerate(BUGS)])
def test_known_untyped_errors(
    db_url: str, fuzz_schema: str, fq: Queue, bug: str, call: Callable[[Queue], Any]
) -> None:
    before = counts(db_url, fuzz_schema)
    try:
        call(fq)
    except RingqError:
        pass
    assert counts(db_url, fuzz_schema) == before


def test_fail_with_an_overflowing_retry_delay(db_url: str, fuzz_schema: str, fq: Queue) -> None:
    """Bug fail-retry-delay-overflow (fixed): InvalidInput, and nothing is written."""
    [job_id] = fq.enqueue_many([Job("t", queue="overflow")])
    [job] = fq.claim(worker="w", queues=["overflow"], limit=1)
    before = counts(db_url, fuzz_schema)
    with pytest.raises(RingqError):
        fq.fail(Failure(job.job_id, job.run_lease, "e", retry_delay=1e300))
    assert counts(db_url, fuzz_schema) == before
    fq.complete(job.job_id, job.run_lease)
    assert job_id
