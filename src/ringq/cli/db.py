"""Where the CLI's database comes from, and the pre-flight checks that turn a wrong URL or a
missing installation into one clear sentence instead of a pool timeout or a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from ringq.cli.failure import CliError
from ringq.embedded import ENV_URL, project_server

# Data directory of the embedded server used when no URL is given (kept between runs).
EMBEDDED_DATA_DIR = Path(".ringq/pg")
CONNECT_TIMEOUT = 5


def resolve_url(explicit: str | None) -> str:
    """`--database-url`, else `RINGQ_DATABASE_URL`, else the project's embedded server in
    `.ringq/pg`: the running one (`ringq db start`, or another command's), else one started for
    as long as this command runs."""
    if explicit:
        return explicit
    if os.environ.get(ENV_URL):
        return os.environ[ENV_URL]
    return project_server(EMBEDDED_DATA_DIR)[0].url


def connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.OperationalError as exc:
        raise CliError(f"cannot connect to the database: {first_line(exc)}", 2) from exc
    except psycopg.ProgrammingError as exc:  # malformed conninfo
        raise CliError(f"invalid database URL: {first_line(exc)}", 2) from exc


def require_installed(url: str, schema: str) -> None:
    from ringq.install import installed_version

    with connect(url) as conn:
        version = installed_version(conn, schema)
    if version is None:
        raise CliError(f"ringq is not installed in schema {schema!r}; run: ringq install --schema {schema}")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
