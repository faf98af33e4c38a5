"""Run the stateful suites once per mutant of ringq_proof.mutants and print which invariant caught it.

    .venv/bin/python scripts/mutants.py                       # baseline + every mutant
    .venv/bin/python scripts/mutants.py cursor_after_commit   # some mutants
    .venv/bin/python scripts/mutants.py --search-seconds 300 --json out.json

Per mutant, two independent runs (each in its own pytest subprocess, RINGQ_MUTANT set):
  search  — the Hypothesis state machines (profile `mutants`, derandomised): the storage machine
            (invariants) for 2/3 of --search-seconds, then, if it found nothing, the refinement
            machine (real steps against the model) for the rest; a counterexample found by then
            counts, shrunk as far as it got;
  witness — the replayed scenarios (tests/stateful/test_scenarios.py), or the lock-order probe /
            chaos run for mutants that need concurrency.
A mutant is caught when either run reports an invariant violation; the baseline (no mutant) must
be clean. Exit status 0 when every mutant is caught and the baseline is clean.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from rich.console import Console
from rich.table import Table

from ringq.embedded import database_url
from ringq_proof.mutants import BY_NAME
from ringq_proof.mutants.runner import MutantResult, RunOutcome, run_mutants


def _cell(r: RunOutcome | None) -> str:
    if r is None:
        return "—"
    if r.failed:
        steps = f", {r.steps} steps" if r.steps is not None else ""
        where = "model machine, " if r.suite == "search_model" else ""
        return f"[green]{r.invariant}[/] ({where}{r.seconds:.0f}s{steps})"
    if r.detail.startswith("suite error"):
        return f"[red]error[/] {r.detail[:60]}"
    return f"[yellow]not caught[/] ({r.seconds:.0f}s)"


def render(results: list[MutantResult], console: Console) -> None:
    table = Table(title="ringq mutants", title_justify="left")
    for col in ("#", "mutant", "caught", "by invariant", "search (Hypothesis)", "witness", "TLA+ switch"):
        table.add_column(col)
    for r in results:
        caught = "[green]yes[/]" if r.caught else ("[green]clean[/]" if r.expected_clean else "[red]NO[/]")
        if r.expected_clean and r.caught:
            caught = "[red]FALSE ALARM[/]"
        table.add_row(
            str(r.number),
            r.mutant,
            caught,
            r.invariant or "—",
            _cell(r.search),
            _cell(r.witness),
            r.tla_switch or "—",
        )
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("mutants", nargs="*", help=f"names (default: all of {', '.join(BY_NAME)})")
    p.add_argument("--search-seconds", type=float, default=120.0, help="time budget of each search")
    p.add_argument("--no-search", action="store_true", help="witness runs only (fast)")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--exhaustive",
        action="store_true",
        help="catch each mutant by exhaustive replay of the model's graph instead (no witness, no search)",
    )
    p.add_argument(
        "--exhaustive-cfg",
        action="append",
        metavar="CFG",
        help="cfgs to replay, in order (default: SegmentedStorage_dlq, SegmentedStorage_retry)",
    )
    args = p.parse_args(argv)
    unknown = [m for m in args.mutants if m not in BY_NAME]
    if unknown:
        p.error(f"unknown mutant(s): {', '.join(unknown)}")
    url = os.environ.get("RINGQ_DATABASE_URL") or database_url()
    console = Console(width=max(150, Console().width))
    start = time.monotonic()
    if args.exhaustive:
        return _exhaustive(args, url, console, start)
    results = run_mutants(
        args.mutants or None,
        database_url=url,
        search_seconds=args.search_seconds,
        search=not args.no_search,
        include_baseline=not args.no_baseline,
        on_result=lambda r: console.print(
            f"{r.mutant}: {'caught by ' + str(r.invariant) if r.caught else 'not caught'}"
            f" (search {_cell(r.search)}, witness {_cell(r.witness)})"
        ),
    )
    render(results, console)
    console.print(f"{time.monotonic() - start:.0f}s in all")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.as_dict() for r in results], f, indent=2)
    return 0 if all(r.ok for r in results) else 1


def _exhaustive(args: argparse.Namespace, url: str, console: Console, start: float) -> int:
    from ringq_proof.exhaustive.mutants import CFGS, run_mutants_exhaustive

    results = run_mutants_exhaustive(
        args.mutants or None,
        url,
        cfgs=args.exhaustive_cfg or CFGS,
        include_baseline=not args.no_baseline,
        on_result=lambda r: console.print(
            f"{r.mutant}: {'caught' if r.caught else 'not caught'} in {r.seconds:.1f}s {r.message[:160]}"
        ),
    )
    table = Table(title="ringq mutants — exhaustive replay", title_justify="left")
    for col in ("#", "mutant", "exhaustive", "cfg", "kind", "at step", "time", "what differs / why not"):
        table.add_column(col, overflow="fold")
    for r in results:
        if r.expected_clean:
            verdict = "[red]FALSE ALARM[/]" if r.caught else "[green]clean[/]"
        elif r.caught:
            verdict = "[green]caught[/]"
        else:
            verdict = "[yellow]out of reach[/]" if r.reason else "[red]NOT caught[/]"
        where = f"{r.step} ({r.path_steps} steps)" if r.step else "—"
        why = r.message.split(" — ")[0] if r.caught else (r.reason or r.message)
        table.add_row(
            str(r.number), r.mutant, verdict, r.cfg or "—", r.kind or "—", where, f"{r.seconds:.1f}s", why
        )
    console.print(table)
    console.print(f"{time.monotonic() - start:.0f}s in all")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.as_dict() for r in results], f, indent=2)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
