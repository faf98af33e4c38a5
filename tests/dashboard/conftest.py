"""Fixtures for the dashboard tests: a seeded schema (tests/conftest.py gives the database and a
fresh schema per test), an in-process TestClient, and a real `ringq dashboard` server process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("starlette", reason="the dashboard extra (starlette, jinja2, uvicorn) is not installed")

from dashboard.seed import Seeded, seed
from ringq.dashboard.app import Settings, create_app

if TYPE_CHECKING:
    from starlette.testclient import TestClient

TOKEN = "correct-horse-battery-staple"


@pytest.fixture
def seeded(db_url: str, schema: str) -> Seeded:
    return seed(db_url, schema)


MakeClient = Callable[..., "TestClient"]


@pytest.fixture
def make_client(db_url: str, schema: str) -> Iterator[MakeClient]:
    """In-process clients (Starlette's TestClient, which needs httpx; only these tests skip without it)."""
    pytest.importorskip("httpx", reason="starlette's TestClient needs httpx (not in the dev extra?)")
    from starlette.testclient import TestClient

    clients: list[Any] = []

    def make(token: str | None = None, url: str | None = None, pool_timeout: float = 10.0) -> TestClient:
        settings = Settings(
            database_url=url or db_url,
            schema=schema,
            token=token,
            allowed_hosts=["testserver"],
            pool_timeout=pool_timeout,
        )
        client = TestClient(create_app(settings), base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    token: str | None
    log: list[str]


START = re.compile(r"ringq dashboard: (http://\S+/)")
CLI = [sys.executable, "-c", "import sys; from ringq.cli import main; sys.exit(main())"]


def start_server(db_url: str, schema: str, token: str | None, timeout: float = 30.0) -> Server:
    """`ringq dashboard --port 0` as a child process; its first stderr line names the URL."""
    env = dict(os.environ)
    env.pop("RINGQ_DASHBOARD_TOKEN", None)
    if token is not None:
        env["RINGQ_DASHBOARD_TOKEN"] = token
    process = subprocess.Popen(
        [*CLI, "dashboard", "--database-url", db_url, "--schema", schema, "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        found = START.search(line)
        if found:
            server = Server(found.group(1), process, token, [line])
            # Keep draining stderr so a chatty server never blocks on a full pipe.
            threading.Thread(target=_drain, args=(process, server.log), daemon=True).start()
            return server
    process.kill()
    rest = process.stderr.read()
    raise AssertionError(f"ringq dashboard did not start: {line}{rest}")


def _drain(process: subprocess.Popen[str], log: list[str]) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        log.append(line)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def serve(db_url: str, schema: str) -> Iterator[Callable[[str | None], Server]]:
    servers: list[Server] = []

    def run(token: str | None) -> Server:
        server = start_server(db_url, schema, token)
        servers.append(server)
        return server

    yield run
    for server in servers:
        stop_server(server)
