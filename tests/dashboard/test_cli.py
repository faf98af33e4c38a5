"""`ringq dashboard` on the command line: mistakes are one line on stderr and a non-zero exit,
never a traceback; a good start serves the pages."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Callable

import psycopg
import pytest

from dashboard.conftest import TOKEN, Server
from dashboard.seed import Seeded
from ringq import install
from ringq.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["dashboard", *argv])
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("port", ["99999", "-5", "http", "65536"])
def test_bad_port_is_a_usage_error(capsys: pytest.CaptureFixture[str], port: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["dashboard", "--port", port])
    assert exit_.value.code == 2
    assert "--port" in one_line(capsys.readouterr().err)


def test_port_in_use(capsys: pytest.CaptureFixture[str], db_url: str, schema: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        install(conn, schema)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run_cli(capsys, "--database-url", db_url, "--schema", schema, "--port", str(port))
    assert code == 2
    assert one_line(err) == f"ringq: error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_bad_host(capsys: pytest.CaptureFixture[str], db_url: str, schema: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        install(conn, schema)
    code, err = run_cli(
        capsys, "--database-url", db_url, "--schema", schema, "--host", "no.such.host.invalid"
    )
    assert code == 2
    assert "cannot listen on 'no.such.host.invalid'" in one_line(err)


def test_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(
        capsys, "--database-url", "postgresql://postgres:hunter2@127.0.0.1:1/x", "--port", "0"
    )
    assert code == 2  # the CLI's code for an unreachable database
    line = one_line(err)
    assert "cannot connect to the database" in line and "hunter2" not in line


def test_not_installed(capsys: pytest.CaptureFixture[str], db_url: str, schema: str) -> None:
    code, err = run_cli(capsys, "--database-url", db_url, "--schema", schema, "--port", "0")
    assert code == 1
    assert f"ringq install --schema {schema}" in one_line(err)


def test_bad_schema_and_empty_token(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, err = run_cli(capsys, "--database-url", db_url, "--schema", "no such schema", "--port", "0")
    assert code == 2 and "schema" in one_line(err)
    code, err = run_cli(capsys, "--database-url", db_url, "--token", " ", "--port", "0")
    assert code == 2 and "--token must not be empty" in one_line(err)


def test_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["dashboard", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "127.0.0.1" in out and "8321" in out and "RINGQ_DASHBOARD_TOKEN" in out


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def post(url: str, data: bytes = b"scope=all") -> int:
    request = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_command_serves_on_loopback(seeded: Seeded, serve: Callable[[str | None], Server]) -> None:
    server = serve(None)
    assert server.url.startswith("http://127.0.0.1:")
    assert "read-only" in server.log[0] and "postgres" in server.log[0]
    status, html = get(server.url)
    assert status == 200 and 'data-queue="email"' in html
    assert post(server.url + "dlq/retry") == 403


def test_the_token_comes_from_the_environment(seeded: Seeded, serve: Callable[[str | None], Server]) -> None:
    server = serve(TOKEN)
    assert "actions need the token" in server.log[0] and TOKEN not in server.log[0]
    status, html = get(server.url + "dlq")
    assert status == 200 and "Log in" in html
    assert post(server.url + "dlq/retry") == 403


def test_schema_of_another_storage_version(
    capsys: pytest.CaptureFixture[str], db_url: str, schema: str
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        install(conn, schema)
        conn.execute(f'UPDATE "{schema}".meta SET version = version + 100')
    code, err = run_cli(capsys, "--database-url", db_url, "--schema", schema, "--port", "0")
    assert code == 1
    assert "storage version" in one_line(err)


def test_missing_extra_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # `import uvicorn` now fails
    code, err = run_cli(capsys, "--port", "0")
    assert code == 1
    assert "pip install 'ringq[dashboard]'" in one_line(err)
