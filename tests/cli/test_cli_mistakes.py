""" "One line, never a traceback" (issue 15), made true and kept true.

A Hypothesis property over every subcommand and option of `ringq.cli.app.build_parser()`: a bad
value (one the option's own type rejects, or a known-bad value for an untyped option), an unknown
flag or a value given to a flag exits non-zero with exactly one line on stderr, no traceback, and
writes nothing (the --schema it names is not created). Then one test per case the issue lists,
each failing on the code before the fix.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringq.aclient import AsyncQueue
from ringq.cli import main
from ringq.cli.app import build_parser
from ringq.client import Queue
from ringq.errors import DatabaseUnavailable, InvalidInput
from ringq.types import Failure, Job

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"
SAMPLE_APP_DIR = Path(__file__).parents[1] / "worker"
RINGQ = [sys.executable, "-c", "import sys; from ringq.cli import main; sys.exit(main())"]

# Commands the property does not run: a valid start serves forever (a bad value never reaches
# it, but a generated value that happens to be valid would).
NOT_RUN = {("dashboard",): "serves forever once started"}

# Untyped options and a value each that is wrong for every command that has the option.
KNOWN_BAD: dict[str, list[str]] = {
    "--schema": ["bad name!", "pg_catalog", "x" * 64, ""],
    "--database-url": ["not a url", "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=1"],
    "--app": ["no_colon", "no_such_module_xyz:registry", "json:dumps"],
    "--queue": ["a b", "", "x" * 300],
    "--steps": ["no_such_step"],
    "--config": ["no_such_config"],
    # Typed options: values that parse as their old type (int) but are still wrong.
    "--metrics-port": ["99999", "-5", "0", "65536"],
    "--queues": ["a b", "x" * 300],
    "--queue-slots": ["1", "0", "-3"],
    "--claim-slots": ["1", "0", "-3"],
}


@dataclass(frozen=True)
class Option:
    command: tuple[str, ...]
    flag: str
    action: argparse.Action


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


LEAVES = [(path, p) for path, p in _leaves(build_parser()) if path[:1] not in {k[:1] for k in NOT_RUN}]
OPTIONS = [
    Option(path, action.option_strings[-1], action)
    for path, p in LEAVES
    for action in p._actions
    if action.option_strings and not isinstance(action, argparse._HelpAction)
]


def _rejects(action: argparse.Action, value: str) -> bool:
    """Whether argparse itself refuses `value` for `action` (its type or choices)."""
    try:
        converted = action.type(value) if callable(action.type) else value
    except (argparse.ArgumentTypeError, ValueError, TypeError, OverflowError):
        return True
    return action.choices is not None and converted not in action.choices


FLAGS = [o for o in OPTIONS if o.action.nargs == 0]
SAMPLES = ["abc", "", "-5", "0", "-0", "99999", "1e400", "nan", "inf", "-inf", "1.5x", "0x10", " "]
# Commands that ignore an option (they run anyway, e.g. `demo` makes its own schema) or would run
# for minutes with a bad value of it (`verify` runs every default step): not fed that option.
IGNORED = {
    ("demo", "--schema"),
    ("verify", "--schema"),
    ("verify", "--database-url"),
    ("demo", "--database-url"),
}


def _typed(action: argparse.Action) -> bool:
    """The option's own type or choices reject some of SAMPLES (a lambda splitting text does not)."""
    return (action.type is not None or action.choices is not None) and any(
        _rejects(action, v) for v in SAMPLES
    )


POSITIONALS = [
    (path, action)
    for path, p in LEAVES
    for action in p._actions
    if not action.option_strings and action.type is not None and _typed(action)
]


VALUED = [
    o
    for o in OPTIONS
    if o.action.nargs != 0
    and (o.command[0], o.flag) not in IGNORED
    and (_typed(o.action) or o.flag in KNOWN_BAD)
]


BAD_TEXT = st.one_of(
    st.sampled_from(SAMPLES),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=12),
)


@pytest.fixture
def clean_schema(db_url: str) -> Iterator[str]:
    """A schema name no test creates; asserted absent afterwards ("nothing written")."""
    name = f"t_mistake_{os.getpid()}"
    yield name
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def run_quiet(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_mistake(code: int, err: str, argv: list[str]) -> str:
    assert code != 0, f"{argv}: a mistake must exit non-zero"
    assert "Traceback" not in err, f"{argv}: {err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"{argv}: expected one line on stderr, got {err!r}"
    return lines[0]


def schema_exists(db_url: str, name: str) -> bool:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone() is not None


def _argv(
    command: tuple[str, ...], db_url: str, schema: str, extra: list[str], parser_flags: set[str]
) -> list[str]:
    """The command, the extra words, and (where the command has them and the test does not set
    them) a real database and the watched schema."""
    argv = [*command, *extra]
    given = set(extra)
    if "--database-url" in parser_flags and "--database-url" not in given:
        argv += ["--database-url", db_url]
    if "--schema" in parser_flags and "--schema" not in given:
        argv += ["--schema", schema]
    return argv


def _flags_of(command: tuple[str, ...]) -> set[str]:
    parser = dict(LEAVES)[command]
    return {s for a in parser._actions for s in a.option_strings}


# -- the property --------------------------------------------------------------------------------


def test_the_parser_walk_covers_every_command() -> None:
    commands = {c[0] for c, _ in LEAVES}
    assert {"install", "stats", "cancel", "dlq", "worker", "maintain", "demo", "verify", "db"} <= commands
    assert len(VALUED) >= 20 and len(FLAGS) >= 10, (len(VALUED), len(FLAGS))
    print(f"\n{len(LEAVES)} commands, {len(VALUED)} valued options, {len(FLAGS)} flags; not run: {NOT_RUN}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_bad_option_value_is_one_line_and_writes_nothing(
    data: st.DataObject, db_url: str, clean_schema: str
) -> None:
    option = data.draw(st.sampled_from(VALUED), label="option")
    if _typed(option.action):
        rejected = BAD_TEXT.filter(lambda v: _rejects(option.action, v))
        value = data.draw(st.one_of(rejected, st.sampled_from(KNOWN_BAD.get(option.flag) or ["abc"])))
    else:
        known = KNOWN_BAD[option.flag]
        if option.command == ("db", "url"):  # prints the URL it is given, without connecting
            known = [v for v in known if "://" not in v]
        value = data.draw(st.sampled_from(known), label="value")
    extra = [option.flag, value]
    if option.command == ("worker",) and option.flag != "--app":
        extra += ["--app", "worker_sample_app:registry"]
    argv = _argv(option.command, db_url, clean_schema, extra, _flags_of(option.command))
    sys.path.insert(0, str(SAMPLE_APP_DIR))
    try:
        code, _, err = run_quiet(argv)
    finally:
        sys.path.remove(str(SAMPLE_APP_DIR))
    assert_one_line_mistake(code, err, argv)
    assert not schema_exists(db_url, clean_schema), f"{argv} wrote schema {clean_schema}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_unknown_flag_or_a_value_given_to_a_flag_is_one_line(
    data: st.DataObject, db_url: str, clean_schema: str
) -> None:
    if data.draw(st.booleans(), label="unknown flag"):
        command = data.draw(st.sampled_from([c for c, _ in LEAVES]), label="command")
        words = [data.draw(st.sampled_from(["--no-such-flag", "--jsn", "-z", "--no-such=1"]), label="flag")]
    else:
        option = data.draw(st.sampled_from(FLAGS), label="flag")
        command, words = option.command, [f"{option.flag}=yes"]
    argv = _argv(command, db_url, clean_schema, words, _flags_of(command))
    code, _, err = run_quiet(argv)
    assert_one_line_mistake(code, err, argv)
    assert not schema_exists(db_url, clean_schema)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_bad_positional_is_one_line(data: st.DataObject, db_url: str, clean_schema: str) -> None:
    command, action = data.draw(st.sampled_from(POSITIONALS), label="positional")
    value = data.draw(BAD_TEXT.filter(lambda v: _rejects(action, v) and not v.startswith("-")), label="value")
    argv = _argv(command, db_url, clean_schema, [value], _flags_of(command))
    code, _, err = run_quiet(argv)
    assert_one_line_mistake(code, err, argv)
    assert not schema_exists(db_url, clean_schema)


# -- each case of the issue ----------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "-5", "65536", "abc"])
def test_worker_metrics_port_out_of_range(port: str) -> None:
    """Was: OverflowError (99999) / socket.gaierror (-5) tracebacks once the worker started."""
    code, _, err = run_quiet(["worker", "--app", "json:dumps", "--metrics-port", port])
    line = assert_one_line_mistake(code, err, ["--metrics-port", port])
    assert code == 2 and "--metrics-port" in line


def test_worker_metrics_port_in_use(db_url: str, installed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: OSError: [Errno 98] traceback."""
    monkeypatch.syspath_prepend(str(SAMPLE_APP_DIR))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        argv = ["worker", "--app", "worker_sample_app:registry", "--database-url", db_url]
        code, _, err = run_quiet([*argv, "--schema", installed, "--metrics-port", str(port)])
    line = assert_one_line_mistake(code, err, argv)
    assert code == 2 and f"--metrics-port {port}" in line and "cannot listen" in line


def test_worker_queue_name_with_a_space_exits_at_once() -> None:
    """Was: the worker retried the validation error forever and exited 0 on SIGTERM."""
    started = time.monotonic()
    code, _, err = run_quiet(["worker", "--app", "json:dumps", "--queues", "a b"])
    line = assert_one_line_mistake(code, err, ["--queues", "a b"])
    assert code == 2 and "'a b'" in line and time.monotonic() - started < 5


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--jobs", "1", "--rate", "inf"],  # was: OverflowError traceback from the producer
        ["maintain", "--interval", "inf"],  # was: accepted, then a leader that never ticks
        ["worker", "--app", "json:dumps", "--lease", "inf"],
        ["verify", "--steps", ","],  # was: no step named = every default step (minutes)
    ],
    ids=["demo-rate-inf", "maintain-interval-inf", "worker-lease-inf", "verify-steps-empty"],
)
def test_non_finite_seconds_and_empty_step_lists_are_usage_errors(argv: list[str]) -> None:
    code, _, err = run_quiet(argv)
    assert_one_line_mistake(code, err, argv)
    assert code == 2


def test_install_with_other_slot_counts_on_an_existing_schema(db_url: str, installed: str) -> None:
    """Was: "installed ... (queue slots 8, claim slots 6)" while the database kept 4 and 4."""
    argv = [
        "install",
        "--database-url",
        db_url,
        "--schema",
        installed,
        "--queue-slots",
        "8",
        "--claim-slots",
        "6",
    ]
    code, out, err = run_quiet(argv)
    line = assert_one_line_mistake(code, err, argv)
    assert "queue slots 4 and claim slots 4" in line and "cannot be changed" in line and not out
    with psycopg.connect(db_url) as conn:
        row = conn.execute(f"SELECT queue_slots, claim_slots FROM {installed}.meta").fetchone()
    assert row == (4, 4)
    # The same counts again, or none, is the idempotent install it always was.
    code, out, _ = run_quiet(
        ["install", "--database-url", db_url, "--schema", installed, "--queue-slots", "4"]
    )
    assert code == 0 and "up to date" in out


@pytest.mark.parametrize("action", ["retry", "purge"])
def test_dlq_action_on_a_job_not_in_the_dlq(db_url: str, installed: str, action: str) -> None:
    """Was: "re-enqueued 0 dead-lettered job(s)" / "purged 0 ..." and exit 0."""
    with Queue(db_url, schema=installed) as queue:
        queued = queue.enqueue("t", None, queue="live")
        dead = queue.enqueue("t", None, queue="doomed")
        [claimed] = queue.claim(worker="w", queues=["doomed"], limit=10)
        assert queue.fail(Failure(claimed.job_id, claimed.run_lease, "boom", None, dead_letter=True)) == "dlq"
        state = "queued"
        db = ["--database-url", db_url, "--schema", installed]
        for ids, fragment in (
            (["9999"], "9999 (no such job)"),
            ([str(queued)], f"{queued} ({state})"),
            ([str(dead), "9999"], "9999 (no such job)"),
        ):
            code, out, err = run_quiet(["dlq", action, *ids, *db])
            line = assert_one_line_mistake(code, err, ids)
            assert "not in the dead-letter queue" in line and fragment in line and "0 job" not in out
        info = queue.job(dead)
        assert info is not None and info.state == "dlq"  # nothing was changed
        code, out, _ = run_quiet(["dlq", action, str(dead), *db])
        assert code == 0 and " 1 dead-lettered job(s)" in out


def test_an_unreachable_dsn_raises_database_unavailable_within_the_connect_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Was: 11 log lines and psycopg_pool.PoolTimeout after 30 s."""
    started = time.monotonic()
    with Queue("postgresql://postgres@127.0.0.1:1/x", connect_timeout=1.5) as queue:
        with pytest.raises(
            DatabaseUnavailable, match=r"cannot connect to the database at postgres@127\.0\.0\.1:1/x"
        ):
            queue.enqueue("t", None)
    assert time.monotonic() - started < 6
    assert not [r for r in caplog.records if r.name.startswith("psycopg.pool")]
    assert isinstance(DatabaseUnavailable("x"), psycopg.OperationalError)  # retry loops keep working
    with pytest.raises(InvalidInput, match="connect_timeout"):
        Queue(UNREACHABLE, connect_timeout=0)


def test_a_starved_pool_is_database_unavailable_not_a_pool_timeout(db_url: str, installed: str) -> None:
    """The server answers but no pooled connection frees up: a ringq error saying so."""
    with Queue(db_url, schema=installed, pool_size=1, connect_timeout=1) as queue:
        with queue._pool.connection():  # the only connection, held
            with pytest.raises(DatabaseUnavailable, match="no free pooled connection to postgres@"):
                queue.stats()
        assert queue.stats() == []  # and it works again once one is free


def test_async_queue_unreachable_dsn_raises_database_unavailable() -> None:
    async def attempt() -> DatabaseUnavailable:
        queue = AsyncQueue("postgresql://postgres:secret@127.0.0.1:1/x", connect_timeout=1)
        try:
            with pytest.raises(DatabaseUnavailable) as raised:
                await queue.stats()
        finally:
            await queue.close()
        return raised.value

    started = time.monotonic()
    error = asyncio.run(attempt())
    assert time.monotonic() - started < 6 and "secret" not in str(error)


def test_enqueue_many_names_the_bad_item(db_url: str, installed: str) -> None:
    """Was: "payload: ..." without saying which of the jobs."""
    jobs = [Job("t", {"n": i}) for i in range(5)]
    jobs[3] = Job("t", {"bad": object()})
    with Queue(db_url, schema=installed) as queue:
        with pytest.raises(InvalidInput, match=r"^jobs\[3\]\.payload: not JSON-serialisable"):
            queue.enqueue_many(jobs)
        with pytest.raises(InvalidInput, match=r"^jobs\[1\]\.queue: "):
            queue.enqueue_many([Job("t"), Job("t", queue="a b")])
        with pytest.raises(InvalidInput, match=r"^payload: "):  # one job: no index to give
            queue.enqueue("t", {"bad": object()})
        assert queue.stats() == []  # nothing written


def test_help_shows_the_defaults() -> None:
    """Was: no defaults in --help. Every option with a default names it."""
    missing = []
    for command, parser in LEAVES:
        text = " ".join(parser.format_help().split())
        for action in parser._actions:
            default = action.default
            if not action.option_strings or default in (None, False, argparse.SUPPRESS) or not action.help:
                continue
            if isinstance(action, argparse._HelpAction):
                continue
            shown = " ".join(map(str, default)) if isinstance(default, list | tuple) else str(default)
            help_text = " ".join(action.help.split())
            if "default" not in text.lower() or (shown not in text and "default" not in help_text.lower()):
                missing.append((command, action.option_strings[-1]))
    assert not missing, missing
    worker_help = " ".join(dict(LEAVES)[("worker",)].format_help().split())
    assert "(default: 10)" in worker_help and "(default: 0.5)" in worker_help


def _subprocess_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **extra}


def test_dlq_list_at_80_columns_does_not_break_words(db_url: str, installed: str) -> None:
    """Was: `job_i d` and other headers split across lines at 80 columns."""
    with Queue(db_url, schema=installed) as queue:
        queue.enqueue("send_welcome_email", {"user": 42, "text": "x " * 200}, queue="emails")
        for claimed in queue.claim(worker="w", limit=10):
            error = "ValueError: the address of user 42 bounced " * 4
            queue.fail(Failure(claimed.job_id, claimed.run_lease, error, "Traceback ...", dead_letter=True))
    proc = subprocess.run(
        [*RINGQ, "dlq", "list", "--database-url", db_url, "--schema", installed],
        capture_output=True,
        text=True,
        env=_subprocess_env(COLUMNS="80", LINES="50", TERM="dumb"),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    table = "\n".join(lines)
    for word in ("job_id", "queue", "task", "attempts", "failed_at", "error", "send_welcome_email", "emails"):
        assert word in table, (word, table)


def test_stats_json_into_a_closed_pipe_is_not_a_traceback(db_url: str, installed: str) -> None:
    """Was: `ringq stats --json | head` ended in a BrokenPipeError traceback."""
    with Queue(db_url, schema=installed) as queue:
        queue.enqueue_many([Job("t", None, queue=f"q{i}") for i in range(200)])
    proc = subprocess.Popen(
        [*RINGQ, "stats", "--json", "--database-url", db_url, "--schema", installed],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_subprocess_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first byte (as `head` after its lines)
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert code == 128 + signal.SIGPIPE


def test_model_list_without_the_toolkit_extra_is_one_line() -> None:
    """Was: a ModuleNotFoundError traceback from building the parser."""
    script = (
        "import sys\n"
        "for m in ('networkx', 'tree_sitter', 'tree_sitter_tlaplus', 'hypothesis'):\n"
        "    sys.modules[m] = None  # as in a venv without ringq[toolkit]\n"
        "from ringq.cli import main\n"
        "sys.exit(main(['model', 'list']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=_subprocess_env(),
        timeout=60,
        check=False,
    )
    line = assert_one_line_mistake(proc.returncode, proc.stderr, ["model", "list"])
    assert "pip install 'ringq[toolkit]'" in line
