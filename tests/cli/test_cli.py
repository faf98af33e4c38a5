"""`ringq` commands: each happy path, and each user mistake as one line on stderr with a non-zero exit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringq.cli import main
from ringq.cli.app import _plugin
from ringq.client import Queue
from ringq.install import SCHEMA_VERSION
from ringq.types import Failure, Job

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"
SAMPLE_APP_DIR = Path(__file__).parents[1] / "worker"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


@pytest.fixture
def queue(db_url: str, installed: str) -> Iterator[Queue]:
    with Queue(db_url, schema=installed) as q:
        yield q


def db(db_url: str, schema: str) -> list[str]:
    return ["--database-url", db_url, "--schema", schema]


# -- install / stats ------------------------------------------------------------------------


def test_install_is_idempotent_and_stats_reports_the_queues(
    capsys: pytest.CaptureFixture[str], db_url: str, schema: str
) -> None:
    code, out, _ = run(capsys, "install", *db(db_url, schema), "--queue-slots", "3", "--claim-slots", "5")
    assert code == 0 and f"installed ringq schema '{schema}' version {SCHEMA_VERSION}" in out
    code, out, _ = run(capsys, "install", *db(db_url, schema))
    assert code == 0 and f"ringq schema '{schema}' is up to date (version {SCHEMA_VERSION})" in out
    with Queue(db_url, schema=schema) as q:
        q.enqueue("a", None, queue="mail")
        q.enqueue("b", None, queue="mail")
    code, out, _ = run(capsys, "stats", *db(db_url, schema), "--json")
    assert code == 0
    [row] = json.loads(out)
    assert row["queue"] == "mail" and row["queued"] == 2 and row["completed"] == 0
    code, out, _ = run(capsys, "stats", *db(db_url, schema))
    assert code == 0 and "mail" in out


def test_global_options_work_before_the_subcommand_too(
    capsys: pytest.CaptureFixture[str], db_url: str, installed: str
) -> None:
    code, out, _ = run(capsys, "--database-url", db_url, "--schema", installed, "stats", "--json")
    assert code == 0 and json.loads(out) == []


def test_install_rejects_a_ring_too_small(
    capsys: pytest.CaptureFixture[str], db_url: str, schema: str
) -> None:
    code, _, err = run(capsys, "install", *db(db_url, schema), "--queue-slots", "1")
    assert code == 2  # a usage error now (argparse type), still one line
    assert_one_line_error(err, "at least 2")


def test_commands_on_a_schema_without_ringq_say_so(
    capsys: pytest.CaptureFixture[str], db_url: str, schema: str
) -> None:
    for argv in (["stats"], ["cancel", "1"], ["dlq", "list"], ["worker", "--app", "json:dumps"]):
        code, _, err = run(capsys, *argv, *db(db_url, schema))
        assert code == 1, argv
        if argv[0] != "worker":  # --app is checked first
            assert_one_line_error(err, "not installed", f"ringq install --schema {schema}")


def test_an_unreachable_or_malformed_database_url_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "stats", "--database-url", UNREACHABLE)
    assert code == 2  # issue 15: an unreachable or bad DSN exits 2
    assert_one_line_error(err, "cannot connect to the database")
    code, _, err = run(capsys, "install", "--database-url", "not a url")
    assert code == 2
    assert_one_line_error(err, "invalid database URL")


def test_bad_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["cancel", "abc"], ["cancel", "0"], ["no-such-command"], ["demo", "--jobs", "-5"], []):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert_one_line_error(err, "ringq")


# -- cancel / dlq ---------------------------------------------------------------------------


def test_cancel_a_queued_job_and_the_mistakes_around_it(
    capsys: pytest.CaptureFixture[str], db_url: str, installed: str, queue: Queue
) -> None:
    job_id = queue.enqueue("t", None)
    code, out, _ = run(capsys, "cancel", str(job_id), *db(db_url, installed))
    assert code == 0 and f"job {job_id}: cancelled_queued" in out
    info = queue.job(job_id)
    assert info is not None and info.state == "cancelled"
    code, _, err = run(capsys, "cancel", str(job_id), *db(db_url, installed))
    assert code == 1
    assert_one_line_error(err, "ringq: error:")
    code, _, err = run(capsys, "cancel", "987654", *db(db_url, installed))
    assert code == 1
    assert_one_line_error(err, "987654")


def _dead_letter_all(queue: Queue) -> list[int]:
    """Claim every queued job and dead-letter it."""
    ids = []
    for claimed in queue.claim(worker="test", limit=10):
        failure = Failure(claimed.job_id, claimed.run_lease, "boom", "Traceback: here", dead_letter=True)
        assert queue.fail(failure) == "dlq"
        ids.append(claimed.job_id)
    return ids


def test_dlq_list_retry_and_purge(
    capsys: pytest.CaptureFixture[str], db_url: str, installed: str, queue: Queue
) -> None:
    code, out, _ = run(capsys, "dlq", "list", *db(db_url, installed))
    assert code == 0 and "empty" in out
    first = queue.enqueue("t1", {"n": 1}, queue="q1")
    assert _dead_letter_all(queue) == [first]
    code, out, _ = run(capsys, "dlq", "list", *db(db_url, installed), "--json")
    [entry] = json.loads(out)
    assert code == 0 and entry["job_id"] == first and entry["error"] == "boom" and entry["traceback"]
    code, out, _ = run(capsys, "dlq", "list", *db(db_url, installed))
    assert code == 0 and "t1" in out and "boom" in out

    code, _, err = run(capsys, "dlq", "retry", *db(db_url, installed))
    assert code == 1
    assert_one_line_error(err, "JOB_IDs", "--all")
    code, out, _ = run(capsys, "dlq", "retry", str(first), *db(db_url, installed))
    assert code == 0 and "re-enqueued 1" in out
    info = queue.job(first)
    assert info is not None and info.state == "queued"

    second = queue.enqueue("t2", None, queue="q1")
    assert sorted(_dead_letter_all(queue)) == [first, second]  # the retried job failed again
    code, out, _ = run(capsys, "dlq", "purge", "--queue", "q1", *db(db_url, installed))
    assert code == 0 and "purged 2" in out
    assert queue.dlq_list() == []


# -- worker ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ("json", "must look like 'module:registry'"),
        ("no_such_module_xyz:registry", "cannot import module 'no_such_module_xyz'"),
        ("json:no_such_attr", "has no attribute 'no_such_attr'"),
        ("json:dumps", "not a ringq Registry"),
        ("worker_sample_app:not_a_registry", "is a dict, not a ringq Registry"),
        ("worker_sample_app:registry", "cannot connect to the database"),  # a good app, no database
    ],
)
def test_a_bad_app_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, app: str, message: str
) -> None:
    monkeypatch.syspath_prepend(str(SAMPLE_APP_DIR))
    code, _, err = run(capsys, "worker", "--app", app, "--database-url", UNREACHABLE)
    assert code == (2 if "cannot connect" in message else 1)
    assert_one_line_error(err, message)


# -- demo / verify / plugins ----------------------------------------------------------------


def test_demo_processes_every_job_once_and_reports_latency(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    code, out, _ = run(capsys, "demo", "--jobs", "300", "--workers", "1", "--database-url", db_url, "--json")
    assert code == 0
    doc = json.loads(out[out.index("{") :])
    assert doc["ok"] and doc["completed"] == 300 and doc["duplicates"] == 0 and doc["missing"] == 0
    assert 0 < doc["p50_ms"] <= doc["p95_ms"] <= doc["p99_ms"] <= doc["max_ms"]
    assert doc["jobs_per_second"] > 0


def test_demo_against_an_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "demo", "--database-url", UNREACHABLE)
    assert code == 2
    assert_one_line_error(err, "cannot connect")


def test_verify_lists_steps_rejects_unknown_ones_and_runs_the_demo(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    code, out, _ = run(capsys, "verify", "--list")
    assert code == 0 and "demo" in out
    code, _, err = run(capsys, "verify", "--steps", "demo,nope")
    assert code == 1
    assert_one_line_error(err, "unknown verify step(s): nope")
    code, out, _ = run(capsys, "verify", "--steps", "demo", "--json", "--database-url", db_url)
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    [step] = doc["steps"]
    assert step["name"] == "demo" and step["ok"] and step["details"]["completed"] == step["details"]["jobs"]


def test_a_missing_plugin_module_is_skipped() -> None:
    assert _plugin("ringq.no_such_plugin_module") is None


# -- doctor (plugged in from ringq.doctor) ----------------------------------------------------


def test_doctor_is_a_ringq_command_clean_on_a_used_schema(
    capsys: pytest.CaptureFixture[str], db_url: str, queue: Queue, installed: str
) -> None:
    ids = queue.enqueue_many([Job("t", i) for i in range(3)])
    [first, *_] = queue.claim(worker="w", limit=2)
    queue.complete(first.job_id, first.run_lease, {"ok": True})
    code, out, err = run(capsys, "doctor", "--json", "--database-url", db_url, "--schema", installed)
    assert code == 0, err
    report = json.loads(out)
    assert report["schema"] == installed and report["ok"] is True and report["violated"] == []
    checked = {c["invariant"] for c in report["checks"]}
    assert {"NoLostJob", "SingleOpenAttempt", "PruneSafety", "ClaimOrder", "CountersMatch"} <= checked
    assert all(c["ok"] and c["rows"] == [] for c in report["checks"])
    assert len(ids) == 3


def test_doctor_on_a_schema_without_ringq_is_one_line_and_non_zero(
    capsys: pytest.CaptureFixture[str], db_url: str, schema: str
) -> None:
    code, _, err = run(capsys, "doctor", "--database-url", db_url, "--schema", schema)
    assert code != 0
    assert_one_line_error(err, "not installed")


def test_version_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import ringq
    from ringq.cli.app import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"ringq {ringq.__version__}"
