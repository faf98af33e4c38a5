"""Least privilege: an owner role installs; the runtime role has no DDL rights and still runs
everything. The exact GRANTs are the ones documented in docs/failure-behaviour.md."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from chaos_helpers import RINGQ, Record, Tally, recording_registry

from ringq import Failure, Job, PermissionDenied, Queue, install
from ringq.aclient import AsyncQueue
from ringq.embedded import EmbeddedPostgres
from ringq.leader import LeaderSettings
from ringq.worker import Worker

pytestmark = pytest.mark.chaos

SCHEMA = "app_queue"
# Run by the owner after `ringq install` (the schema and every table in it are the owner's).
RUNTIME_GRANTS = f"""
GRANT USAGE ON SCHEMA {SCHEMA} TO ringq_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO ringq_runtime;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO ringq_runtime;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {SCHEMA} TO ringq_runtime;
"""
# Prune empties a slot with TRUNCATE: the runtime role that runs maintenance needs it as well.
MAINTENANCE_GRANT = f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA {SCHEMA} TO ringq_runtime;"


def role_url(server: EmbeddedPostgres, role: str) -> str:
    return f"postgresql://{role}@127.0.0.1:{server.port}/postgres"


@pytest.fixture(scope="module")
def roles(pg_server: EmbeddedPostgres) -> Iterator[tuple[str, str]]:
    with psycopg.connect(pg_server.url, autocommit=True) as su:
        su.execute("CREATE ROLE ringq_owner LOGIN")
        su.execute("CREATE ROLE ringq_runtime LOGIN")  # no CREATE anywhere, not a superuser
        su.execute("GRANT CREATE ON DATABASE postgres TO ringq_owner")
        su.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    owner, runtime = role_url(pg_server, "ringq_owner"), role_url(pg_server, "ringq_runtime")
    cli = subprocess.run(
        [
            *RINGQ,
            "install",
            "--database-url",
            owner,
            "--schema",
            SCHEMA,
            "--queue-slots",
            "3",
            "--claim-slots",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(RUNTIME_GRANTS)
    yield owner, runtime


def test_the_runtime_role_has_no_ddl_rights(roles: tuple[str, str]) -> None:
    _, runtime = roles
    with psycopg.connect(runtime, autocommit=True) as conn:
        for ddl in (
            f"CREATE TABLE {SCHEMA}.x (i int)",
            f"ALTER TABLE {SCHEMA}.lanes ADD COLUMN x int",
            f"DROP TABLE {SCHEMA}.dlq",
            "CREATE SCHEMA other",
            f"CREATE FUNCTION {SCHEMA}.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(ddl)
        install(conn, SCHEMA, queue_slots=3, claim_slots=3)  # already installed: a no-op, allowed
    cli = subprocess.run(
        [*RINGQ, "install", "--database-url", runtime, "--schema", "elsewhere"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 1 and "Traceback" not in cli.stderr
    assert "permission denied" in cli.stderr, cli.stderr


def test_every_runtime_call_works_without_ddl_and_prune_needs_truncate(
    roles: tuple[str, str], figures: Record
) -> None:
    owner, runtime = roles
    with Queue(runtime, schema=SCHEMA, rescue_margin=0.0) as queue:
        a, b, c = queue.enqueue_many([Job("t"), Job("t", dedup_key="k"), Job("t", delay=0.0)])
        queue.enqueue("t", delay=3600)
        jobs = queue.claim(worker="w", limit=3)
        assert {j.job_id for j in jobs} == {a, b, c}
        queue.heartbeat([(j.job_id, j.run_lease) for j in jobs], progress={a: {"p": 1}})
        queue.complete(jobs[0].job_id, jobs[0].run_lease, {"ok": True})
        assert queue.fail(Failure(jobs[1].job_id, jobs[1].run_lease, "boom", dead_letter=True)) == "dlq"
        assert queue.cancel(jobs[2].job_id) == "cancelled_running"
        assert queue.dlq_retry([jobs[1].job_id]) == 1
        [again] = queue.claim(worker="w", limit=1)
        queue.fail(Failure(again.job_id, again.run_lease, "boom", dead_letter=True))
        assert queue.dlq_purge(queue="default") == 1
        queue.promote()
        queue.rescue()
        assert queue.stats() and queue.job(a) is not None
        queue.rotate("queue")
        queue.rotate("claim")
        queue.rotate("queue")  # leaves slot 0 sealed with nothing live in it
        queue.rotate("claim")
        with pytest.raises(PermissionDenied) as denied:  # typed; the psycopg error is its __cause__
            queue.prune("claim")
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(MAINTENANCE_GRANT)
        assert queue.prune("claim") == 0
    figures(prune_without_truncate=f"{type(denied.value).__name__}: {denied.value}")


def test_a_worker_with_maintenance_runs_as_the_runtime_role(roles: tuple[str, str]) -> None:
    owner, runtime = roles
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(MAINTENANCE_GRANT)
    tally = Tally(sleep=0.0)
    registry = recording_registry(tally)

    async def main() -> dict[str, Any]:
        async with AsyncQueue(runtime, schema=SCHEMA) as queue:
            ids = await queue.enqueue_many([Job("work") for _ in range(200)])
            worker = Worker(
                queue,
                registry,
                concurrency=8,
                poll_interval=0.02,
                conninfo=runtime,
                listen=True,
                on_completed=tally.on_completed,
                leader_settings=LeaderSettings(
                    interval=0.05, rotate_interval=0.2, prune_interval=0.05, acquire_interval=0.1
                ),
            )
            task = asyncio.create_task(worker.run())
            while len(tally.completed_attempts) < len(ids):
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # a few rotate/prune rounds after the work
            await worker.stop(5)
            await task
            return {"ids": ids, "rotated": worker.leader.is_leader if worker.leader else None}

    res = asyncio.run(main())
    assert sorted(j for j, _ in tally.completed_attempts) == sorted(res["ids"])
    with psycopg.connect(owner, autocommit=True) as conn:
        row = conn.execute(f"SELECT generation FROM {SCHEMA}.ring_state WHERE ring = 'queue'").fetchone()
    assert row is not None and row[0] >= 3, "maintenance (rotate + prune) ran as the runtime role"
