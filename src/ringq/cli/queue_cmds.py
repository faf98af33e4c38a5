"""Operator commands on an installed queue: install, stats, cancel, dlq list|retry|purge."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ringq.cli.argtypes import positive_int
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


def cmd_install(args: argparse.Namespace) -> int:
    from ringq.install import install

    if args.queue_slots < 2 or args.claim_slots < 2:
        raise CliError("--queue-slots and --claim-slots must be at least 2")
    url = resolve_url(args.database_url)
    with connect(url) as conn:
        result = install(conn, schema=args.schema, queue_slots=args.queue_slots, claim_slots=args.claim_slots)
    lines = [result.describe()]
    if result.created:
        lines[0] += f" (queue slots {args.queue_slots}, claim slots {args.claim_slots})"
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
        console.print(table(f"dead-lettered jobs (schema {args.schema})", rows))
    else:
        console.print("the dead-letter queue is empty")
    return 0


def _selection(args: argparse.Namespace) -> tuple[list[int] | None, str | None]:
    if not args.job_ids and args.queue is None and not args.all:
        raise CliError("name the jobs: give JOB_IDs, --queue Q, or --all")
    return (list(args.job_ids) or None), args.queue


def cmd_dlq_retry(args: argparse.Namespace) -> int:
    ids, queue_name = _selection(args)
    with open_queue(args) as queue:
        n = queue.dlq_retry(ids, queue=queue_name)
    console.print(f"re-enqueued {n} dead-lettered job(s)")
    return 0


def cmd_dlq_purge(args: argparse.Namespace) -> int:
    ids, queue_name = _selection(args)
    with open_queue(args) as queue:
        n = queue.dlq_purge(ids, queue=queue_name)
    console.print(f"purged {n} dead-lettered job(s)")
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("install", parents=[common], help="create the ringq schema (idempotent)")
    p.add_argument("--queue-slots", type=int, default=4, help="slots in the queue ring (default 4)")
    p.add_argument("--claim-slots", type=int, default=4, help="slots in the claim ring (default 4)")
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
    p.add_argument("--queue", default=None)
    p.add_argument("--limit", type=positive_int, default=100)
    p.add_argument("--json", action="store_true", help="print JSON (full errors and tracebacks)")
    p.set_defaults(func=cmd_dlq_list)
    for action, func, verb in (("retry", cmd_dlq_retry, "re-enqueue"), ("purge", cmd_dlq_purge, "delete")):
        p = dlq_sub.add_parser(action, parents=[common], help=f"{verb} dead-lettered jobs")
        p.add_argument("job_ids", nargs="*", type=positive_int, metavar="JOB_ID")
        p.add_argument("--queue", default=None, help=f"{verb} every dead-lettered job of this queue")
        p.add_argument("--all", action="store_true", help=f"{verb} every dead-lettered job")
        p.set_defaults(func=func)
