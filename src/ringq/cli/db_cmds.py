"""`ringq db start|stop|status|url`: the project's embedded PostgreSQL in `.ringq/pg`.

Every ringq command without `--database-url`/`RINGQ_DATABASE_URL` uses the server running there,
or starts one for as long as it runs; `ringq db start` starts one that outlives the command.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import psycopg

from ringq.cli.db import EMBEDDED_DATA_DIR, first_line
from ringq.cli.failure import CliError
from ringq.cli.render import console, err_console
from ringq.client import public_location
from ringq.embedded import ENV_URL, project_server, running, stop_project_server


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def cmd_start(args: argparse.Namespace) -> int:
    server, started = project_server(EMBEDDED_DATA_DIR, detached=True)
    verb = "started" if started else "already running:"
    _say(f"ringq db: {verb} PostgreSQL at {server.url} (data in {EMBEDDED_DATA_DIR}, pid {server.pid})")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    stopped = stop_project_server(EMBEDDED_DATA_DIR)
    if stopped is None:
        _say(f"ringq db: no server running in {EMBEDDED_DATA_DIR}")
    else:
        _say(f"ringq db: stopped the PostgreSQL at {stopped.url} (pid {stopped.pid})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    found = running(EMBEDDED_DATA_DIR)
    if found is None:
        stale = (EMBEDDED_DATA_DIR / "postmaster.pid").exists()
        note = "; its postmaster died and left postmaster.pid (removed on start)" if stale else ""
        _say(f"ringq db: not running (data in {EMBEDDED_DATA_DIR}{note}); start it with: ringq db start")
        return 3  # pg_ctl status's code for "not running"
    owner = "ringq db start" if found.owner is None else f"process {found.owner}, stops when it exits"
    _say(f"ringq db: running at {found.url} (pid {found.pid}, data in {EMBEDDED_DATA_DIR}, owner: {owner})")
    return 0


def cmd_url(args: argparse.Namespace) -> int:
    """The DSN ringq commands here use: --database-url, else RINGQ_DATABASE_URL, else the
    project's running server (started detached when there is none: a URL must stay valid)."""
    explicit = args.database_url or os.environ.get(ENV_URL)
    if explicit:
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(explicit)
        except psycopg.Error as exc:
            raise CliError(f"invalid database URL: {first_line(exc)}", 2) from exc
        print(explicit)
        return 0
    found = running(EMBEDDED_DATA_DIR)
    if found is None:
        found, _ = project_server(EMBEDDED_DATA_DIR, detached=True)
        err_console.print(
            f"ringq db: started PostgreSQL at {public_location(found.url)} (stop it with: ringq db stop)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    print(found.url)
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    db = subparsers.add_parser(
        "db", help=f"the project's embedded PostgreSQL ({EMBEDDED_DATA_DIR}) shared by every ringq command"
    )
    sub = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=type(db))
    sub.required = True
    # No --schema here (a server has many); --database-url only where it means something.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging"
    )
    url_option = argparse.ArgumentParser(add_help=False)
    url_option.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="print this URL (checked) instead; so does $RINGQ_DATABASE_URL",
    )
    for name, func, text, parents in (
        ("start", cmd_start, "start it in the background (kept running until `ringq db stop`)", [verbose]),
        ("stop", cmd_stop, "stop it", [verbose]),
        ("status", cmd_status, "is it running, where, and who owns it (exit 3: not running)", [verbose]),
        ("url", cmd_url, "print the database URL ringq commands here use", [verbose, url_option]),
    ):
        p = sub.add_parser(name, parents=parents, help=text, description=text)
        p.set_defaults(func=func)
