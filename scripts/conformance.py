#!/usr/bin/env python3
"""Run the built-in checker over the tlaplus/Examples conformance corpus and compare with TLC.

    scripts/conformance.py --examples /tmp/tlaplus-examples [--tier core] [--only ID]
                           [--json OUT] [--timeout S] [--corpus FILE] [--jobs N]
                           [--backend builtin|tlc|auto] [--workers N]

Each corpus entry runs in its own subprocess (this script with ``--run-one``) under a
per-entry timeout, so one hang or crash costs one row, not the table. An entry matches when
the verdict (outcome and violated name) agrees with TLC's and, for passing models, the
distinct and generated state counts are exact. Depth is compared with the corpus' caveat:
manifest depths were recorded with several TLC workers, which can over-report by up to 2.
Violation counts depend on exploration order, so they are shown against TLC's -workers 1
numbers as a sanity band only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "tla-corpus.json"
DEPTH_TOLERANCE = 2


@dataclass
class Row:
    id: str
    tier: str
    expected_outcome: str
    expected_violated: str | None
    got_outcome: str
    got_violated: str | None
    expected_distinct: int | None
    got_distinct: int | None
    expected_generated: int | None
    got_generated: int | None
    expected_depth: int | None
    got_depth: int | None
    seconds: float
    verdict_ok: bool
    counts_ok: bool | None
    depth_ok: bool | None
    match: bool
    note: str = ""


def expected_outcome(entry: dict[str, Any]) -> str:
    """Map the corpus' expected_result (+ violation kind, exit code) to a CheckResult outcome."""
    result = entry["expected_result"]
    if result == "success":
        return "ok"
    if result == "liveness failure":
        return "property_violated"
    kind = (entry.get("violation") or {}).get("kind", "")
    if kind.startswith("invariant"):
        return "invariant_violated"
    if kind == "deadlock":
        return "deadlock"
    if kind.startswith("action"):
        return "action_property_violated"
    return {11: "deadlock", 12: "invariant_violated", 13: "property_violated"}.get(
        entry.get("tlc_exit_code", 12), "invariant_violated"
    )


def expected_violated(entry: dict[str, Any]) -> str | None:
    """The violated invariant/property name, from TLC's expected error line or the violation note."""
    violation = entry.get("violation") or {}
    line = violation.get("expected_tlc_line", "")
    for pattern in (
        r"Invariant (\S+) is violated",
        r"Action property (\S+) is violated",
        r"Temporal property (\S+) was violated",
    ):
        if m := re.search(pattern, line):
            return m.group(1)
    if entry["expected_result"] == "liveness failure" and (
        m := re.match(r"\s*(\w+)", violation.get("name", ""))
    ):
        return m.group(1)
    return None


def names_agree(outcome: str, expected: str | None, got: str | None) -> bool:
    """Names must match when both are known; only a temporal verdict may come unnamed."""
    if expected is None:
        return True
    if got is None:
        return outcome == "property_violated"
    return got == expected


def run_one(
    spec: Path, cfg: Path | None, max_states: int | None, backend: str, workers: int = 1
) -> dict[str, Any]:
    """Child-process entry: check one model, return the result dict."""
    import tlacheck

    started = time.monotonic()
    try:
        result = tlacheck.check(spec, cfg, backend=backend, max_states=max_states, workers=workers)
    except Exception as exc:  # the row reports it; the table goes on
        return {
            "outcome": "crash",
            "message": f"{type(exc).__name__}: {exc}",
            "elapsed_s": time.monotonic() - started,
        }
    data = result.to_dict()
    data.pop("trace", None)
    data["trace_length"] = len(result.trace)
    return data


def run_entry(
    entry: dict[str, Any],
    examples: Path,
    timeout_s: float,
    max_states: int | None,
    backend: str,
    workers: int = 1,
) -> Row:
    spec = examples / entry["spec"]
    cfg = examples / entry["cfg"] if entry.get("cfg") else None
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-one", str(spec), "--backend", backend]
    if cfg is not None:
        cmd += ["--run-one-cfg", str(cfg)]
    if max_states is not None:
        cmd += ["--max-states", str(max_states)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    started = time.monotonic()
    got: dict[str, Any]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode == 0 and lines:
            got = json.loads(lines[-1])
        else:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            got = {"outcome": "crash", "message": f"exit {proc.returncode}: {tail}"}
    except subprocess.TimeoutExpired:
        got = {"outcome": "timeout", "message": f"no result within {timeout_s:g}s"}
    seconds = time.monotonic() - started
    return compare(entry, got, seconds)


def compare(entry: dict[str, Any], got: dict[str, Any], seconds: float) -> Row:
    exp_outcome, exp_name = expected_outcome(entry), expected_violated(entry)
    got_outcome, got_name = got.get("outcome", "crash"), got.get("violated")
    verdict_ok = got_outcome == exp_outcome and names_agree(exp_outcome, exp_name, got_name)
    success = exp_outcome == "ok"
    band = entry.get("tlc_workers1_at_violation") or {}
    exp_distinct = entry.get("distinctStates") if success else band.get("distinct_states")
    exp_generated = entry.get("totalStates") if success else band.get("states_generated")
    exp_depth = entry.get("stateDepth") if success else None
    got_distinct, got_generated, got_depth = (
        got.get("distinct_states"),
        got.get("states_generated"),
        got.get("depth"),
    )
    counts_ok: bool | None = None
    depth_ok: bool | None = None
    if success and got_outcome == "ok":
        counts_ok = got_distinct == exp_distinct and got_generated == exp_generated
        if exp_depth is not None and got_depth is not None:
            depth_ok = exp_depth - DEPTH_TOLERANCE <= got_depth <= exp_depth
    note = got.get("message", "") if got_outcome in ("crash", "timeout", "error") else ""
    if not success and got_outcome == exp_outcome and "trace_length" in got:
        note = f"trace {got['trace_length']} states"
    match = verdict_ok and (counts_ok is not False)
    return Row(
        id=entry["id"],
        tier=entry["tier"],
        expected_outcome=exp_outcome,
        expected_violated=exp_name,
        got_outcome=got_outcome,
        got_violated=got_name,
        expected_distinct=exp_distinct,
        got_distinct=got_distinct,
        expected_generated=exp_generated,
        got_generated=got_generated,
        expected_depth=exp_depth,
        got_depth=got_depth,
        seconds=round(seconds, 2),
        verdict_ok=verdict_ok,
        counts_ok=counts_ok,
        depth_ok=depth_ok,
        match=match,
        note=" ".join(str(note).split())[:120],
    )


def _cell(expected: object, got: object, ok: bool | None, *, band: bool = False) -> str:
    if got is None and expected is None:
        return ""
    style = {True: "green", False: "red", None: "dim" if band else ""}[ok]
    prefix = "~" if band else ""
    text = f"{prefix}{expected if expected is not None else '-'} / {got if got is not None else '-'}"
    return f"[{style}]{text}[/{style}]" if style else text


def render(rows: list[Row], console: Console, total_s: float, backend: str) -> None:
    table = Table(title=f"tlacheck {backend} vs TLC's recorded results (tlaplus/Examples corpus)")
    for col in ("id", "tier", "verdict exp / got", "distinct", "generated", "depth", "time", ""):
        table.add_column(col, overflow="fold")
    for r in rows:
        verdict = f"{r.expected_outcome}{f' {r.expected_violated}' if r.expected_violated else ''} / {r.got_outcome}"
        if r.got_violated:
            verdict += f" {r.got_violated}"
        band = r.expected_outcome != "ok"
        table.add_row(
            r.id,
            r.tier,
            f"[{'green' if r.verdict_ok else 'red'}]{verdict}[/]",
            _cell(r.expected_distinct, r.got_distinct, r.counts_ok, band=band),
            _cell(r.expected_generated, r.got_generated, r.counts_ok, band=band),
            _cell(r.expected_depth, r.got_depth, r.depth_ok),
            f"{r.seconds:.1f}s",
            ("[green]match[/]" if r.match else "[red]MISMATCH[/]")
            + (f" [dim]{r.note[:70]}[/]" if r.note else ""),
        )
    console.print(table)
    for tier in sorted({r.tier for r in rows}):
        tier_rows = [r for r in rows if r.tier == tier]
        depth_rows = [r for r in tier_rows if r.depth_ok is not None]
        console.print(
            f"{tier}: {sum(r.match for r in tier_rows)}/{len(tier_rows)} match"
            f" (verdict {sum(r.verdict_ok for r in tier_rows)}, "
            f"depth within tolerance {sum(bool(r.depth_ok) for r in depth_rows)}/{len(depth_rows)}, "
            f"timeouts {sum(r.got_outcome == 'timeout' for r in tier_rows)}, "
            f"crashes {sum(r.got_outcome == 'crash' for r in tier_rows)})"
        )
    console.print(f"total: {sum(r.match for r in rows)}/{len(rows)} match in {total_s:.1f}s")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--examples", type=Path, default=os.environ.get("TLAPLUS_EXAMPLES"), help="tlaplus/Examples checkout"
    )
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--only", action="append", default=[], help="entry id (or substring); repeatable")
    p.add_argument("--tier", choices=("core", "extra"))
    p.add_argument("--json", type=Path, dest="json_out", help="write the rows as JSON here")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per entry")
    p.add_argument("--max-states", type=int, default=None, help="pass max_states to the checker")
    p.add_argument("--jobs", type=int, default=1, help="entries run in parallel")
    p.add_argument("--backend", choices=("builtin", "tlc", "auto"), default="builtin")
    p.add_argument("--workers", type=int, default=1, help="worker processes per model (checker's --workers)")
    p.add_argument("--run-one", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--run-one-cfg", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.run_one is not None:
        print(
            json.dumps(run_one(args.run_one, args.run_one_cfg, args.max_states, args.backend, args.workers))
        )
        return 0
    # A wide table even when piped to a file (rich assumes 80 columns off a terminal).
    console = Console(width=None if sys.stdout.isatty() else 200)
    if args.examples is None or not Path(args.examples).is_dir():
        console.print("[red]error:[/] --examples DIR (a tlaplus/Examples checkout) is required")
        return 2
    try:
        corpus = json.loads(args.corpus.read_text())
    except (OSError, ValueError) as exc:
        console.print(f"[red]error:[/] cannot read corpus {args.corpus}: {exc}")
        return 2
    entries = [e for e in corpus["models"] if args.tier is None or e["tier"] == args.tier]
    if args.only:
        entries = [e for e in entries if any(o == e["id"] or o in e["id"] for o in args.only)]
    if not entries:
        console.print("[red]error:[/] no corpus entry selected")
        return 2
    started = time.monotonic()
    # Progress: one line per finished model on stderr (a live status line on a terminal).
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
    done = 0

    def one(e: dict[str, Any]) -> Row:
        nonlocal done
        row = run_entry(e, Path(args.examples), args.timeout, args.max_states, args.backend, args.workers)
        with lock:
            done += 1
            status = "match" if row.match else f"MISMATCH ({row.got_outcome})"
            err.print(
                f"[{done}/{len(entries)}] {row.id}: {status} in {row.seconds:.1f}s"
                f" (elapsed {time.monotonic() - started:.0f}s)",
                markup=False,
                highlight=False,
            )
        return row

    lock = threading.Lock()
    with (
        err.status(f"running {len(entries)} models", spinner="dots"),
        ThreadPoolExecutor(args.jobs) as pool,
    ):
        rows = list(pool.map(one, entries))
    total = time.monotonic() - started
    render(rows, console, total, args.backend)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    return 0 if all(r.match for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
