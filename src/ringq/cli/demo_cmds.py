"""`ringq demo` (throughput + latency on a throw-away schema) and `ringq verify` (named steps)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ringq.cli.argtypes import positive_float, positive_int, step_names
from ringq.cli.db import connect, resolve_url
from ringq.cli.failure import CliError
from ringq.cli.render import console
from ringq.errors import InvalidInput


def cmd_demo(args: argparse.Namespace) -> int:
    from ringq_proof.demo import run_demo

    url = resolve_url(args.database_url)
    connect(url).close()  # fail fast, in one line, on an unreachable database
    console.print(
        f"ringq demo: {args.jobs} no-op jobs, {args.workers} worker process(es) × concurrency {args.concurrency}"
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task("completed", total=args.jobs)
        result = run_demo(
            url,
            jobs=args.jobs,
            workers=args.workers,
            concurrency=args.concurrency,
            rate=args.rate,
            timeout=args.timeout,
            on_progress=lambda n: progress.update(bar, completed=n),
        )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        table = Table(title="ringq demo", title_justify="left", show_header=False)
        table.add_column("metric")
        table.add_column("value", justify="right")
        table.add_row("jobs completed", f"{result.completed}/{result.jobs}")
        table.add_row("duplicates / lost", f"{result.duplicates} / {result.missing}")
        table.add_row("elapsed", f"{result.seconds:.2f} s")
        table.add_row("throughput", f"{result.jobs_per_second:,.0f} jobs/s")
        # Unpaced, latency includes waiting behind whatever backlog the producer builds up.
        table.add_row(
            "enqueue pacing",
            f"{args.rate:,.0f} jobs/s" if args.rate else "unpaced (one producer, batches of 500)",
        )
        for name, value in (("p50", result.p50_ms), ("p95", result.p95_ms), ("p99", result.p99_ms)):
            table.add_row(f"latency {name} (enqueue → completed)", f"{value:.1f} ms")
        table.add_row("latency max", f"{result.max_ms:.1f} ms")
        console.print(table)
    if not result.ok:
        raise CliError(
            "demo did not complete every job exactly once" + (" (timed out)" if result.timed_out else "")
        )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from ringq_proof.verify import VerifyContext, registered_steps, run_step, select

    if args.list:
        for s in registered_steps():
            console.print(f"[bold]{s.name}[/]  {s.description}" + ("" if s.default else "  (opt-in)"))
        return 0
    try:
        steps = select(args.steps)
    except InvalidInput as exc:
        raise CliError(str(exc)) from exc
    if args.exhaustive:
        from ringq_proof.exhaustive.verify_step import exhaustive_step

        steps = [*(steps if args.steps else []), exhaustive_step(args.exhaustive)]
    ctx = VerifyContext(database_url_option=args.database_url)
    results = []
    for s in steps:
        if not args.json:
            console.print(f"[dim]running {s.name}…[/]")
        results.append(run_step(s, ctx))
    ok = all(r.ok for r in results)
    if args.json:
        doc: dict[str, Any] = {"ok": ok, "steps": [r.as_dict() for r in results]}
        print(json.dumps(doc, indent=2, default=str))
    else:
        table = Table(title="ringq verify", title_justify="left")
        table.add_column("step")
        table.add_column("result")
        table.add_column("time", justify="right")
        table.add_column("summary", overflow="fold")
        for r in results:
            table.add_row(
                r.name, "[green]PASS[/]" if r.ok else "[red]FAIL[/]", f"{r.seconds:.1f} s", r.summary
            )
        console.print(table)
    return 0 if ok else 1


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("demo", parents=[common], help="run N no-op jobs and report throughput/latency")
    p.add_argument("--jobs", type=positive_int, default=10_000)
    p.add_argument("--workers", type=positive_int, default=2, help="worker processes (default 2)")
    p.add_argument(
        "--concurrency", type=positive_int, default=256, help="concurrency per worker process (default 256)"
    )
    p.add_argument("--rate", type=positive_float, default=None, help="pace enqueues at this many jobs/s")
    p.add_argument("--timeout", type=positive_float, default=600.0, help="give up after this many seconds")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_demo)

    p = subparsers.add_parser("verify", parents=[common], help="run the named verification steps")
    p.add_argument(
        "--steps", type=step_names, default=None, help="comma-separated (default: the default steps)"
    )
    p.add_argument("--list", action="store_true", help="list the registered steps")
    p.add_argument(
        "--exhaustive",
        metavar="CFG",
        default=None,
        help="replay every transition of CFG's model graph on the database (e.g. SegmentedStorage_dlq)",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_verify)
