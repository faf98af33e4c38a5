"""Each SQL invariant check stays silent on a healthy schema and names the rows of a corruption
made by hand; `ringq doctor` reports both, read-only, with the documented exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from ringq import ManualClock, Queue, install
from ringq.doctor import EXIT_ERROR, EXIT_OK, EXIT_VIOLATED, main
from ringq.invariants import CHECKS, run_checks


@dataclass
class History:
    """Three jobs of one lane: a completed, b running (claimed by w), c queued."""

    schema: str
    a: int
    b: int
    c: int
    lease_a: int
    lease_b: int


@pytest.fixture
def history(db_url: str, schema: str) -> Iterator[History]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        install(conn, schema, 2, 2)
    q = Queue(db_url, schema=schema, clock=ManualClock())
    try:
        a, b, c = (q.enqueue("t", {"i": i}, queue="q") for i in range(3))
        got = q.claim(worker="w", queues=["q"], limit=2)
        assert [g.job_id for g in got] == [a, b]
        q.complete(a, got[0].run_lease, {"ok": True})
        yield History(schema, a, b, c, got[0].run_lease, got[1].run_lease)
    finally:
        q.close()


def _run(conn: psycopg.Connection, schema: str, text: str, h: History) -> None:
    params = {"a": h.a, "b": h.b, "c": h.c, "la": h.lease_a, "lb": h.lease_b}
    conn.execute(sql.SQL(text).format(s=sql.Identifier(schema)), params)


CLAIM_COPY = """INSERT INTO {s}.claims (slot, job_id, run_lease, lane_id, lane_seq, ready_slot, attempt,
                                     worker, deadline, claimed_at)
    SELECT slot, job_id, {lease}, lane_id, {seq}, ready_slot, {attempt}, worker, deadline, claimed_at
    FROM {s}.claims WHERE job_id = %(b)s"""

CORRUPTIONS: dict[str, str] = {
    "ring_current_slot_open": "UPDATE {s}.slots SET state = 'sealed' WHERE ring = 'queue' AND slot = 0",
    "job_in_several_live_places": """INSERT INTO {s}.deferred (job_id, queue, priority, task, payload, attempt,
        max_attempts, run_at, enqueued_at) SELECT job_id, queue, priority, task, payload, attempt,
        max_attempts, enqueued_at, enqueued_at FROM {s}.ready WHERE job_id = %(c)s""",
    "job_nowhere": "DELETE FROM {s}.claims WHERE job_id = %(b)s",
    "finished_job_live": """INSERT INTO {s}.deferred (job_id, queue, priority, task, payload, attempt,
        max_attempts, run_at, enqueued_at) SELECT job_id, queue, priority, task, payload, attempt,
        max_attempts, enqueued_at, enqueued_at FROM {s}.ready WHERE job_id = %(a)s""",
    "completed_twice": """INSERT INTO {s}.done (slot, job_id, queue, run_lease, outcome, result, finished_at)
        SELECT slot, job_id, queue, run_lease, outcome, result, finished_at FROM {s}.done WHERE job_id = %(a)s""",
    "claimed_after_completion": CLAIM_COPY.replace("{lease}", "999")
    .replace("{seq}", "7")
    .replace("{attempt}", "2")
    .replace("%(b)s", "%(a)s"),
    "several_open_attempts": CLAIM_COPY.replace("{lease}", "998")
    .replace("{seq}", "lane_seq")
    .replace("{attempt}", "attempt"),
    "closure_without_claim": """INSERT INTO {s}.closures (slot, job_id, run_lease, lane_id, outcome, closed_at)
        SELECT 0, %(c)s, 997, lane_id, 'completed', now() FROM {s}.lanes LIMIT 1""",
    "attempt_closed_twice": """INSERT INTO {s}.closures (slot, job_id, run_lease, lane_id, outcome, closed_at)
        SELECT 1, job_id, run_lease, lane_id, 'rescued', closed_at FROM {s}.closures WHERE job_id = %(a)s""",
    "terminal_row_disagrees_with_closure": "UPDATE {s}.closures SET outcome = 'rescued' WHERE job_id = %(a)s",
    "closed_without_terminal_row": "DELETE FROM {s}.done WHERE job_id = %(a)s",
    "rows_in_pruned_slot": """INSERT INTO {s}.done (slot, job_id, queue, run_lease, outcome, finished_at)
        VALUES (1, %(c)s, 'q', NULL, 'cancelled', now())""",
    "open_attempt_lost_ready_row": "DELETE FROM {s}.ready WHERE job_id = %(b)s",
    "queued_row_missing": "DELETE FROM {s}.ready WHERE job_id = %(c)s",
    "claims_out_of_lane_order": "UPDATE {s}.claims SET lane_seq = 0 WHERE job_id = %(b)s",
    "claimed_beyond_cursor": "UPDATE {s}.lanes SET claim_seq = 1",
    "cancelled_row_claimed": """INSERT INTO {s}.cancels (job_id, slot, lane_id, lane_seq, cancelled_at)
        SELECT job_id, slot, lane_id, lane_seq, now() FROM {s}.ready WHERE job_id = %(b)s""",
    "lane_counters_match_rows": "UPDATE {s}.lanes SET next_seq = next_seq + 1",
    "row_in_foreign_lane": "UPDATE {s}.ready SET priority = 5 WHERE job_id = %(c)s",
    "attempt_over_limit": "UPDATE {s}.ready SET attempt = 99, max_attempts = 98 WHERE job_id = %(c)s",
    "attempt_not_counted": CLAIM_COPY.replace("{lease}", "996")
    .replace("{seq}", "lane_seq + 100")
    .replace("{attempt}", "3"),
}


def test_every_check_has_a_corruption_case() -> None:
    assert sorted(CORRUPTIONS) == sorted(c.name for c in CHECKS)


def test_healthy_history_passes_every_check(db_url: str, history: History) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        bad = [(r.check.name, r.rows) for r in run_checks(conn, history.schema) if not r.ok]
    assert bad == []


@pytest.mark.parametrize("check", sorted(CORRUPTIONS))
def test_check_names_the_corrupted_rows(db_url: str, history: History, check: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        _run(conn, history.schema, CORRUPTIONS[check], history)
        results = {r.check.name: r for r in run_checks(conn, history.schema)}
    assert results[check].rows, f"{check} did not notice: {CORRUPTIONS[check]}"


def test_doctor_exit_codes_and_json(
    db_url: str, history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--schema", history.schema, "--database-url", db_url]) == EXIT_OK
    assert "all invariants hold" in capsys.readouterr().out

    with psycopg.connect(db_url, autocommit=True) as conn:
        _run(conn, history.schema, CORRUPTIONS["queued_row_missing"], history)
    assert main(["--schema", history.schema, "--database-url", db_url, "--json"]) == EXIT_VIOLATED
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and "PruneSafety" in report["violated"]
    bad = [c for c in report["checks"] if not c["ok"]]
    assert any(c["check"] == "queued_row_missing" and c["rows"] for c in bad)


def test_doctor_one_line_errors(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--schema", "not_installed_here", "--database-url", db_url]) == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not installed" in err
    assert main(["--database-url", "postgresql://nobody@127.0.0.1:1/x"]) == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot connect" in err


def test_checks_run_in_a_read_only_transaction(
    db_url: str, history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that tried to write would be refused: the checks' transaction is READ ONLY."""
    import ringq.invariants as inv

    writer = inv.Check("TypeOK", "writer", "tries to write", "SELECT nextval('{s}.job_id_seq') AS n")
    monkeypatch.setattr(inv, "CHECKS", (*inv.CHECKS, writer))
    with psycopg.connect(db_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            inv.run_checks(conn, history.schema)
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("off",)  # session untouched
