"""`ringq doctor`: check the storage invariants of a live ringq schema, read-only.

Every check of `ringq.invariants` runs in one READ ONLY, REPEATABLE READ transaction (one
consistent snapshot, nothing written, no locks beyond a reader's): safe on production.

Exit status: 0 all invariants hold, 1 at least one is violated, 2 the check could not run
(database unreachable, schema not installed, bad arguments).

    ringq doctor --schema ringq
    ringq doctor --schema ringq --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ringq.invariants import CHECKS, DB_CHECKABLE, LOG_CHECKABLE, CheckResult, run_checks
from ringq.validation import check_schema

CONNECT_TIMEOUT = 5
EXIT_OK, EXIT_VIOLATED, EXIT_ERROR = 0, 1, 2


class DoctorError(Exception):
    """The checks could not run; the message is one line for the operator."""


@dataclass
class DoctorReport:
    schema: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def violated(self) -> list[str]:
        return sorted({r.check.invariant for r in self.results if not r.ok})

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "ok": self.ok,
            "violated": self.violated,
            "seconds": round(self.seconds, 3),
            "checks": [r.as_dict() for r in self.results],
            "not_checked_here": {k: v for k, v in LOG_CHECKABLE.items() if k not in DB_CHECKABLE},
        }


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def diagnose(url: str, schema: str) -> DoctorReport:
    """Run every invariant check on `schema`; raises DoctorError when it cannot."""
    try:
        check_schema(schema)
    except ValueError as exc:
        raise DoctorError(str(exc)) from exc
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.OperationalError as exc:
        raise DoctorError(f"cannot connect to the database: {_first_line(exc)}") from exc
    except psycopg.ProgrammingError as exc:
        raise DoctorError(f"invalid database URL: {_first_line(exc)}") from exc
    with conn:
        meta = f"{sql.Identifier(schema).as_string(conn)}.meta"
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (meta,)).fetchone()
        if not (row and row[0]):
            raise DoctorError(f"ringq is not installed in schema {schema!r} (no {schema}.meta table)")
        start = time.monotonic()
        try:
            results = run_checks(conn, schema)
        except psycopg.Error as exc:
            raise DoctorError(f"a check failed to run: {_first_line(exc)}") from exc
        return DoctorReport(schema, results, time.monotonic() - start)


def render(report: DoctorReport, out: Any = None, limit: int = 10) -> None:
    """A rich report: one line per invariant, then the offending rows of each violated check."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out or sys.stdout)
    table = Table(title=f"ringq doctor — schema {report.schema}", title_justify="left")
    table.add_column("invariant")
    table.add_column("status")
    table.add_column("checks")
    table.add_column("what the database shows")
    by_inv: dict[str, list[CheckResult]] = {}
    for r in report.results:
        by_inv.setdefault(r.check.invariant, []).append(r)
    for inv, results in by_inv.items():
        bad = [r for r in results if not r.ok]
        status = (
            "[green]ok[/]" if not bad else f"[bold red]VIOLATED[/] ({sum(len(r.rows) for r in bad)} rows)"
        )
        table.add_row(inv, status, str(len(results)), DB_CHECKABLE.get(inv, ""))
    console.print(table)
    for r in report.results:
        if r.ok:
            continue
        console.print(f"[bold red]{r.check.invariant}[/] / {r.check.name}: {r.check.description}")
        rows = Table(show_header=True, header_style="bold")
        cols = list(r.rows[0].keys())
        for c in cols:
            rows.add_column(c)
        for row in r.rows[:limit]:
            rows.add_row(*(str(row.get(c)) for c in cols))
        console.print(rows)
        if len(r.rows) > limit:
            console.print(f"  … {len(r.rows) - limit} more rows (--json shows all)")
    verdict = (
        "[green]all invariants hold[/]"
        if report.ok
        else f"[bold red]violated: {', '.join(report.violated)}[/]"
    )
    console.print(f"{verdict}  ({len(report.results)} checks in {report.seconds:.2f}s, read-only)")
    only_log = [k for k in LOG_CHECKABLE if k not in DB_CHECKABLE]
    console.print(f"[dim]not checkable from the rows (execution-log only): {', '.join(only_log)}[/]")


def _resolve_url(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("RINGQ_DATABASE_URL"):
        return os.environ["RINGQ_DATABASE_URL"]
    from ringq.cli.db import resolve_url  # the embedded server the other commands use

    return resolve_url(None)


def run(args: argparse.Namespace) -> int:
    try:
        url = _resolve_url(getattr(args, "database_url", None))
        report = diagnose(url, getattr(args, "schema", None) or "ringq")
    except DoctorError as exc:
        sys.stderr.write(f"ringq doctor: error: {exc}\n")
        return EXIT_ERROR
    if args.json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    else:
        render(report)
    return EXIT_OK if report.ok else EXIT_VIOLATED


def _add_arguments(p: argparse.ArgumentParser, suppress: bool) -> None:
    default: Any = argparse.SUPPRESS if suppress else None
    p.add_argument("--schema", default=default if suppress else "ringq", help="ringq schema (default: ringq)")
    p.add_argument(
        "--database-url",
        default=default,
        help="PostgreSQL URL (default: $RINGQ_DATABASE_URL, else the embedded server in .ringq/pg)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable report")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `doctor` to the `ringq` command line (ringq.cli.app PLUGINS)."""
    p = subparsers.add_parser(
        "doctor",
        help="check the storage invariants of a schema (read-only, safe on production)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    _add_arguments(p, suppress=True)
    p.set_defaults(func=run)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ringq doctor", description="check a ringq schema's invariants (read-only)"
    )
    _add_arguments(p, suppress=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args)


__all__ = ["CHECKS", "DoctorError", "DoctorReport", "diagnose", "main", "register", "render", "run"]

if __name__ == "__main__":
    raise SystemExit(main())
