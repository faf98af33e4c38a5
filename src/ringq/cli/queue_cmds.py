"""Operator commands on an installed queue: install, stats, cancel, dlq list|retry|purge."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ringq.cli.argtypes import positive_int, slots
from ringq.cli.db import connect, require_installed, resolve_url
from ringq.cli.failure import CliError
from ringq.cli.render import console, table, to_json


@contextmanager
def open_queue(args: argparse.Namespace) -> Iterator[Any]:
    from ringq.client import Queue

    url = resolve_url(args.database_url)
    require_installed(url, args.schema)
    queue = Queue(url, schema=args.schema)
    try:
        yield queue
    finally:
        queue.close()


DEFAULT_SLOTS = 4


def _existing_slots(conn: Any, schema: str) -> tuple[int, int] | None:
    """(queue slots, claim slots) of an installed schema, or None when it has no ringq yet."""
    from psycopg import sql

    from ringq.install import installed_version

    if installed_version(conn, schema) is None:
        return None
    query = sql.SQL("SELECT queue_slots, claim_slots FROM {}.meta").format(sql.Identifier(schema))
    row = conn.execute(query).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def cmd_install(args: argparse.Namespace) -> int:
    from ringq.install import install

    queue_slots = DEFAULT_SLOTS if args.queue_slots is None else args.queue_slots
    claim_slots = DEFAULT_SLOTS if args.claim_slots is None else args.claim_slots
    url = resolve_url(args.database_url)
    with connect(url) as conn:
        existing = _existing_slots(conn, args.schema)
        asked = {"--queue-slots": (args.queue_slots, 0), "--claim-slots": (args.claim_slots, 1)}
        changed = [f for f, (v, i) in asked.items() if existing and v is not None and v != existing[i]]
        if existing and changed:
            # The rings' partitions are created at install; re-slotting a live ring is not supported.
            raise CliError(
                f"schema {args.schema!r} is already installed with queue slots {existing[0]} and claim "
                f"slots {existing[1]}; slot counts cannot be changed after install ({', '.join(changed)} "
                "not applied; nothing was changed)"
            )
        result = install(conn, schema=args.schema, queue_slots=queue_slots, claim_slots=claim_slots)
    lines = [result.describe()]
    if result.created:
        lines[0] += f" (queue slots {queue_slots}, claim slots {claim_slots})"
    lines += [f"  applied {name}" for name in result.applied]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with open_queue(args) as queue:
        rows = queue.stats()
    if args.json:
        print(to_json(rows))
    elif rows:
        console.print(table(f"ringq queues (schema {args.schema})", rows))
    else:
        console.print("no queues yet")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with open_queue(args) as queue:
        outcome = queue.cancel(args.job_id)
    console.print(f"job {args.job_id}: {outcome}")
    return 0


def cmd_dlq_list(args: argparse.Namespace) -> int:
    with open_queue(args) as queue:
        rows = queue.dlq_list(args.queue, limit=args.limit)
    if args.json:
        print(to_json(rows))
    elif rows:
        brief = [
            {
                "job_id": r.job_id,
                "queue": r.queue,
                "task": r.task,
                "attempts": f"{r.attempt}/{r.max_attempts}",
                "failed_at": r.failed_at,
                "error": r.error,
            }
            for r in rows
        ]
        title = f"dead-lettered jobs (schema {args.schema})"
        console.print(table(title, brief, caption="payloads and tracebacks: ringq dlq list --json"))
    else:
        console.print("the dead-letter queue is empty")
    return 0


def _selection(args: argparse.Namespace) -> tuple[list[int] | None, str | None]:
    if not args.job_ids and args.queue is None and not args.all:
        raise CliError("name the jobs: give JOB_IDs, --queue Q, or --all")
    return (list(dict.fromkeys(args.job_ids)) or None), args.queue


def _require_dead(queue: Any, ids: list[int] | None, queue_name: str | None) -> None:
    """Every named job is in the dead-letter queue (of `queue_name`, when given), else nothing is
    done and one line says which are not."""
    if not ids:
        return
    missing = []
    for job_id in ids:
        info = queue.job(job_id)
        if info is None:
            missing.append(f"{job_id} (no such job)")
        elif info.state != "dlq":
            missing.append(f"{job_id} ({info.state})")
        elif queue_name is not None and info.queue != queue_name:
            missing.append(f"{job_id} (dead-lettered in queue {info.queue!r}, not {queue_name!r})")
    if missing:
        raise CliError(f"not in the dead-letter queue: {', '.join(missing)}; nothing was changed")


def _dlq_act(args: argparse.Namespace, action: str, past: str) -> int:
    ids, queue_name = _selection(args)
    with open_queue(args) as queue:
        _require_dead(queue, ids, queue_name)
        n = getattr(queue, action)(ids, queue=queue_name)
    if ids and n != len(ids):
        raise CliError(
            f"{past} {n} of the {len(ids)} named job(s); the others were skipped (a retry whose "
            "dedup key another live job holds stays in the DLQ) or left the DLQ meanwhile"
        )
    console.print(f"{past} {n} dead-lettered job(s)")
    return 0


def cmd_dlq_retry(args: argparse.Namespace) -> int:
    return _dlq_act(args, "dlq_retry", "re-enqueued")


def cmd_dlq_purge(args: argparse.Namespace) -> int:
    return _dlq_act(args, "dlq_purge", "purged")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("install", parents=[common], help="create the ringq schema (idempotent)")
    p.add_argument(
        "--queue-slots",
        type=slots,
        default=None,
        help=f"slots in the queue ring, fixed at install (default: {DEFAULT_SLOTS})",
    )
    p.add_argument(
        "--claim-slots",
        type=slots,
        default=None,
        help=f"slots in the claim ring, fixed at install (default: {DEFAULT_SLOTS})",
    )
    p.set_defaults(func=cmd_install)

    p = subparsers.add_parser("stats", parents=[common], help="per-queue counters")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_stats)

    p = subparsers.add_parser("cancel", parents=[common], help="cancel a queued or running job")
    p.add_argument("job_id", type=positive_int, metavar="JOB_ID")
    p.set_defaults(func=cmd_cancel)

    dlq = subparsers.add_parser("dlq", help="inspect and act on the dead-letter queue")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", metavar="ACTION", parser_class=type(dlq))
    dlq_sub.required = True
    p = dlq_sub.add_parser("list", parents=[common], help="list dead-lettered jobs")
    p.add_argument("--queue", default=None, help="only this queue's jobs (default: every queue)")
    p.add_argument("--limit", type=positive_int, default=100, help="at most this many jobs")
    p.add_argument("--json", action="store_true", help="print JSON (full errors and tracebacks)")
    p.set_defaults(func=cmd_dlq_list)
    for action, func, verb in (("retry", cmd_dlq_retry, "re-enqueue"), ("purge", cmd_dlq_purge, "delete")):
        p = dlq_sub.add_parser(action, parents=[common], help=f"{verb} dead-lettered jobs")
        p.add_argument("job_ids", nargs="*", type=positive_int, metavar="JOB_ID")
        p.add_argument("--queue", default=None, help=f"{verb} every dead-lettered job of this queue")
        p.add_argument("--all", action="store_true", help=f"{verb} every dead-lettered job")
        p.set_defaults(func=func)
