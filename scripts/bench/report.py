"""Rendering results: rich tables per scenario (with ringq/peer ratios), the JSON file, plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table as _RichTable

from bench.adapters import PYTHON_PEERS

REF = "ringq"
_MARKDOWN = False  # set by render(markdown=True): tables as GitHub markdown (for docs)


def Table(*, title: str = "") -> _RichTable:  # stands in for rich's Table
    if _MARKDOWN:
        return _RichTable(title=f"**{title}**\n", box=box.MARKDOWN, title_justify="left")
    return _RichTable(title=title)


def _fmt(v: Any, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:,.1f}"


def _ratio(ours: float | None, theirs: float | None, lower_is_better: bool = False) -> str:
    if not ours or not theirs:
        return "-"
    r = (theirs / ours) if lower_is_better else (ours / theirs)
    return f"{r:.2f}x"


def _median(xs: list[float]) -> float | None:
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def drain_summary(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Median over repetitions, per system."""
    out: dict[str, dict[str, Any]] = {}
    for system, runs in results.get("drain", {}).items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            out[system] = {"error": runs[0].get("error", "failed") if runs else "no runs"}
            continue
        out[system] = {
            "reps": len(ok),
            "enqueue_rate": _median([r["enqueue_rate"] for r in ok]),
            "drain_rate": _median([r["drain_rate"] for r in ok]),
            "drain_rates": [r["drain_rate"] for r in ok],
            "partial": any(r.get("partial") for r in ok),
            "wal_per_job": _median([r["cost"]["wal_bytes_per_job"] for r in ok]),
            "commits_per_job": _median([r["cost"]["commits_per_job"] for r in ok]),
            "dead_end": _median([r["cost"]["dead_tuples_end"] for r in ok]),
        }
    return out


def sweep_summary(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Highest sustained rate and the completion rate measured there, per system."""
    out: dict[str, dict[str, Any]] = {}
    for system, runs in results.get("sweep", {}).items():
        ok = [r for r in runs if "error" not in r]
        sustained = [r for r in ok if r["sustained"]]
        best = max(sustained, key=lambda r: r["rate"]) if sustained else None
        peak = max((r["completion_rate"] for r in ok), default=None)
        out[system] = {
            "sustainable_rate": best["rate"] if best else 0.0,
            "completion_rate_at_sustainable": best["completion_rate"] if best else None,
            "peak_completion_rate": peak,
            "runs": len(ok),
            "errors": [r["error"] for r in runs if "error" in r],
        }
    return out


def run_at(results: dict[str, Any], system: str, rate: float) -> dict[str, Any] | None:
    for r in results.get("sweep", {}).get(system, []):
        if "error" not in r and abs(r["rate"] - rate) < 1e-6:
            return r
    return None


def render(results: dict[str, Any], console: Console, markdown: bool = False) -> None:
    global _MARKDOWN
    _MARKDOWN = markdown
    try:
        _render(results, console)
    finally:
        _MARKDOWN = False


def _render(results: dict[str, Any], console: Console) -> None:
    systems: list[str] = results["systems"]
    labels: dict[str, str] = results.get("labels", {})
    versions: dict[str, str] = results.get("versions", {})

    def label(s: str) -> str:
        return f"{labels.get(s, s)} {versions.get(s, '')}".strip()

    # ---- scenario 1: drain
    if results.get("drain"):
        ds = drain_summary(results)
        ref = ds.get(REF, {})
        t = Table(
            title=f"1. drain: enqueue then process {results['config']['drain_n']:,} jobs "
            f"(concurrency {results['config']['concurrency']}, median of {results['config']['reps']})"
        )
        for col in (
            "system",
            "enqueue jobs/s",
            "drain jobs/s",
            "ringq/this drain",
            "WAL B/job",
            "commits/job",
            "dead tuples after",
        ):
            t.add_column(col, justify="left" if col == "system" else "right")
        for s in systems:
            d = ds.get(s)
            if d is None:
                continue
            if "error" in d:
                t.add_row(label(s), "[red]failed[/red]", "", "", "", "", "")
                continue
            t.add_row(
                label(s),
                _fmt(d["enqueue_rate"]),
                _fmt(d["drain_rate"]) + (" (partial)" if d.get("partial") else ""),
                _ratio(ref.get("drain_rate"), d["drain_rate"]) if s != REF else "1.00x",
                _fmt(d["wal_per_job"]),
                _fmt(d["commits_per_job"], 2),
                _fmt(d["dead_end"]),
            )
        console.print(t)

    # ---- scenario 2: offered load
    if results.get("sweep"):
        ss = sweep_summary(results)
        ref = ss.get(REF, {})
        rates = results["config"]["rates"]
        t = Table(
            title=f"2. offered load: completion jobs/s per offered rate ({results['config']['duration']:g} s "
            "each; * = sustained)"
        )
        t.add_column("system")
        for r in rates:
            t.add_column(f"{r:g}/s", justify="right")
        t.add_column("sustainable", justify="right")
        t.add_column("ringq/this", justify="right")
        for s in systems:
            if s not in ss:
                continue
            cells = []
            for r in rates:
                run = run_at(results, s, r)
                cells.append(
                    "" if run is None else f"{run['completion_rate']:,.0f}{'*' if run['sustained'] else ''}"
                )
            sr = ss[s]["sustainable_rate"]
            cells.append(_fmt(sr))
            cells.append(_ratio(ref.get("sustainable_rate"), sr) if s != REF else "1.00x")
            t.add_row(label(s), *cells)
        console.print(t)

        lt = Table(
            title="2b. end-to-end latency, ms (enqueue commit -> handler start | -> completion commit) "
            "at 50% of ringq's sustainable rate"
        )
        for col in ("system", "rate", "start p50", "p95", "p99", "done p50", "p95", "p99", "p99 ringq/this"):
            lt.add_column(col, justify="left" if col == "system" else "right")
        half = results.get("latency_rate")
        if half:
            ref_run = run_at(results, REF, half)
            for s in systems:
                run = run_at(results, s, half)
                if run is None:
                    lt.add_row(label(s), _fmt(half), "not run", "", "", "", "", "", "")
                    continue
                sl, cl = run["start_latency"], run.get("completion_latency") or {}
                ref_p99 = (ref_run.get("completion_latency") or {}).get("p99") if ref_run else None
                lt.add_row(
                    label(s),
                    _fmt(half) + ("" if run["sustained"] else " (over)"),
                    _ms(sl["p50"]),
                    _ms(sl["p95"]),
                    _ms(sl["p99"]),
                    _ms(cl.get("p50")),
                    _ms(cl.get("p95")),
                    _ms(cl.get("p99")),
                    _ratio(ref_p99, cl.get("p99"), lower_is_better=False) if s != REF else "1.00x",
                )
            console.print(lt)

    # ---- scenario 3: bloat
    if results.get("bloat_rate"):
        rate = results["bloat_rate"]
        t = Table(
            title=f"3. bloat and cost after offered load at {rate:g} jobs/s (a rate every system sustained "
            "or came closest to)"
        )
        for col in (
            "system",
            "WAL B/job",
            "commits/job",
            "worker commits/job",
            "upd/job",
            "del/job",
            "dead tuples (hot)",
            "dead tuples (all)",
            "table+index MB",
            "index MB",
            "vacuums",
        ):
            t.add_column(col, justify="left" if col == "system" else "right")
        for s in systems:
            run = run_at(results, s, rate)
            if run is None:
                continue
            c = run["cost"]
            final = run["dead_tuples"][-1] if run["dead_tuples"] else (0, 0, 0)
            t.add_row(
                label(s),
                _fmt(c["wal_bytes_per_job"]),
                _fmt(c["commits_per_job"], 2),
                _fmt(c.get("worker_commits_per_job"), 2),
                _fmt(c["tuples_updated"] / max(1, c["jobs"]), 2),
                _fmt(c["tuples_deleted"] / max(1, c["jobs"]), 2),
                _fmt(final[2]),
                _fmt(final[1]),
                _fmt(c["total_bytes_end"] / 1e6, 2),
                _fmt(c["index_bytes_end"] / 1e6, 2),
                _fmt(c["vacuums"]),
            )
        console.print(t)

    # ---- scenario 4: idle in transaction
    if results.get("idle"):
        cfg = results["config"]
        t = Table(
            title=f"4. idle-in-transaction: {results.get('idle_rate', 0):g} jobs/s, REPEATABLE READ snapshot held "
            f"{cfg['hold']:g} s, then {cfg['duration_after']:g} s released, then {cfg['recover']:g} s recovery"
        )
        for col in (
            "system",
            "jobs/s held",
            "jobs/s after",
            "peak dead (hot)",
            "dead at release (hot)",
            "dead at end (hot)",
            "dead at end (all)",
            "table+index MB",
            "p99 start ms",
        ):
            t.add_column(col, justify="left" if col == "system" else "right")
        for s in systems:
            run = results["idle"].get(s)
            if run is None:
                continue
            if "error" in run:
                t.add_row(label(s), "[red]failed[/red]", *[""] * 7)
                continue
            series = run["dead_tuples"]
            rel = run["phases"].get("released_at") or cfg["hold"]
            at_rel = max((x for x in series if x[0] <= rel), key=lambda x: x[0], default=(0, 0, 0))
            t.add_row(
                label(s),
                _fmt(run["phases"].get("held_rate")),
                _fmt(run["phases"].get("after_rate")),
                _fmt(max((x[2] for x in series), default=0)),
                _fmt(at_rel[2]),
                _fmt(series[-1][2] if series else None),
                _fmt(series[-1][1] if series else None),
                _fmt(run["cost"]["total_bytes_end"] / 1e6, 2),
                _ms(run["start_latency"]["p99"]),
            )
        console.print(t)

    if results.get("slow"):
        _render_slow(results, console, label)

    if results.get("grid"):
        _render_grid(results, console)

    targets = results.get("targets")
    if targets:
        t = Table(title="targets (same run, same server)")
        for col in ("target", "measured", "met?"):
            t.add_column(col)
        for row in targets:
            met = row["met"]
            t.add_row(
                row["target"],
                row["measured"],
                "-" if met is None else ("[green]yes[/green]" if met else "[red]no[/red]"),
            )
        console.print(t)


def _hold_label(hold: str) -> str:
    return "idle-in-tx" if hold == "leak" else f"T={hold} ms"


def slow_cell(results: dict[str, Any], system: str, hold: str) -> dict[str, Any] | None:
    run = results.get("slow", {}).get(system, {}).get(hold)
    return None if run is None or "error" in run else run


def _render_slow(results: dict[str, Any], console: Console, label: Any) -> None:
    cfg = results["config"]
    holds = cfg.get("slow_holds") or []
    systems = [s for s in results["systems"] if s in results["slow"]]
    t = Table(
        title=f"5. slow producers: {cfg.get('slow_rate', 0):g} jobs/s offered for {cfg.get('slow_duration', 0):g} s by "
        f"{cfg.get('slow_producers')} connections, each enqueuing inside its own transaction held open T ms "
        "(idle-in-tx: T=0 plus one session idle in transaction with an enqueued job all window)"
    )
    for col in (
        "system",
        "T",
        "jobs/s",
        "pickup p50",
        "pickup p99",
        "done p99",
        "enqueue p99",
        "commit p99",
        "jobs/tx",
        "WAL B/job",
        "commits/job",
        "peak dead (hot)",
    ):
        t.add_column(col, justify="left" if col == "system" else "right")
    for s in systems:
        for hold in holds:
            run = results["slow"][s].get(hold)
            if run is None:
                continue
            if "error" in run:
                t.add_row(label(s), _hold_label(hold), "[red]failed[/red]", *[""] * 9)
                continue
            sl, cl = run["start_latency"], run.get("completion_latency") or {}
            t.add_row(
                label(s),
                _hold_label(hold),
                _fmt(run.get("throughput")) + ("" if run["sustained"] else " (over)"),
                _ms(sl["p50"]),
                _ms(sl["p99"]),
                _ms(cl.get("p99")),
                _ms((run.get("enqueue_latency") or {}).get("p99")),
                _ms((run.get("commit_latency") or {}).get("p99")),
                _fmt(run.get("jobs_per_transaction"), 1),
                _fmt(run["cost"]["wal_bytes_per_job"]),
                _fmt(run["cost"]["commits_per_job"], 2),
                _fmt(max((x[2] for x in run["dead_tuples"]), default=0)),
            )
    console.print(t)

    st = Table(title="5b. slow producers side by side: jobs/s / pickup p99 ms / enqueue p99 ms per T")
    st.add_column("system")
    for hold in holds:
        st.add_column(_hold_label(hold), justify="right")
    if "0" in holds and "1000" in holds:
        st.add_column("T=1000 / T=0 (jobs/s, pickup p99)", justify="right")
    for s in systems:
        cells = []
        for hold in holds:
            run = slow_cell(results, s, hold)
            if run is None:
                cells.append("failed" if hold in results["slow"][s] else "")
                continue
            cells.append(
                f"{_fmt(run.get('throughput'))}{'' if run['sustained'] else '*'} / "
                f"{_ms(run['start_latency']['p99'])} / {_ms((run.get('enqueue_latency') or {}).get('p99'))}"
            )
        if "0" in holds and "1000" in holds:
            a, b = slow_cell(results, s, "0"), slow_cell(results, s, "1000")
            if a and b and a.get("throughput") and b.get("throughput") and a["start_latency"]["p99"]:
                cells.append(
                    f"{b['throughput'] / a['throughput']:.2f}x, "
                    f"{b['start_latency']['p99'] / a['start_latency']['p99']:.2f}x"
                )
            else:
                cells.append("-")
        st.add_row(label(s), *cells)
    console.print(st)
    console.print("(* = offered rate not sustained: over capacity at this rate)")


def _grid_label(results: dict[str, Any], spec: str) -> str:
    from bench.adapters import parse_spec

    base, opts = parse_spec(spec)
    name = f"{results.get('labels', {}).get(base, base)} {results.get('versions', {}).get(base, '')}".strip()
    return f"{name} ({', '.join(f'{k}={v}' for k, v in opts.items())})" if opts else name


def _render_grid(results: dict[str, Any], console: Console) -> None:
    from bench.adapters import parse_spec
    from bench.grid import best_cells, is_equal_settings

    grid: dict[str, dict[str, Any]] = results["grid"]
    cites = results.get("grid_citations", {})
    cfg = results["config"]
    t = Table(
        title=f"6. settings grid: drain of {cfg.get('grid_n', 0):,} jobs per cell (one run per cell, "
        f"{cfg.get('grid_timeout', 0):g} s limit, then rated over what completed)"
    )
    for col in ("cell", "setting from", "drain jobs/s", "WAL B/job", "commits/job"):
        t.add_column(col, justify="right" if col in ("drain jobs/s", "WAL B/job", "commits/job") else "left")
    for spec, run in grid.items():
        if "error" in run:
            t.add_row(_grid_label(results, spec), cites.get(spec, ""), "[red]failed[/red]", "", "")
            continue
        t.add_row(
            _grid_label(results, spec),
            cites.get(spec, ""),
            _fmt(run["drain_rate"]) + (" (partial)" if run.get("partial") else ""),
            _fmt(run["cost"]["wal_bytes_per_job"]),
            _fmt(run["cost"]["commits_per_job"], 2),
        )
    console.print(t)

    best = best_cells(grid)
    ours = best.get(REF)
    bt = Table(title="6b. best vs best: each system's fastest cell")
    for col in ("system", "best cell", "drain jobs/s", "ringq best / this best", "WAL B/job", "commits/job"):
        bt.add_column(col, justify="left" if col in ("system", "best cell") else "right")
    for base, (spec, run) in sorted(best.items(), key=lambda x: -x[1][1]["drain_rate"]):
        bt.add_row(
            base,
            _grid_label(results, spec),
            _fmt(run["drain_rate"]) + (" (partial)" if run.get("partial") else ""),
            _ratio(ours[1]["drain_rate"], run["drain_rate"]) if ours else "-",
            _fmt(run["cost"]["wal_bytes_per_job"]),
            _fmt(run["cost"]["commits_per_job"], 2),
        )
    console.print(bt)

    eq = {parse_spec(s)[0]: (s, r) for s, r in grid.items() if is_equal_settings(s) and "error" not in r}
    if eq:
        et = Table(title="6c. equal settings (concurrency 16, one process): the same cells side by side")
        for col in ("system", "cell", "drain jobs/s", "ringq / this"):
            et.add_column(col, justify="left" if col in ("system", "cell") else "right")
        ref = eq.get(REF)
        for base, (spec, run) in sorted(eq.items(), key=lambda x: -x[1][1]["drain_rate"]):
            et.add_row(
                base,
                _grid_label(results, spec),
                _fmt(run["drain_rate"]) + (" (partial)" if run.get("partial") else ""),
                _ratio(ref[1]["drain_rate"], run["drain_rate"]) if ref else "-",
            )
        console.print(et)


def grid_target(results: dict[str, Any]) -> dict[str, Any] | None:
    from bench.grid import best_cells

    best = best_cells(results.get("grid") or {})
    if REF not in best:
        return None
    peers = {b: v for b, v in best.items() if b not in (REF, "raw")}
    if not peers:
        return None
    _base, (pspec, prun) = max(peers.items(), key=lambda x: x[1][1]["drain_rate"])
    ours = best[REF][1]["drain_rate"]
    return {
        "target": "grid: ringq's best drain >= 2x the best peer's best",
        "measured": f"ringq {ours:,.0f}/s ({best[REF][0]}) vs {pspec} {prun['drain_rate']:,.0f}/s "
        f"= {ours / prun['drain_rate']:.2f}x",
        "met": ours >= 2 * prun["drain_rate"],
    }


def slow_target(results: dict[str, Any]) -> dict[str, Any] | None:
    """ringq's throughput and pickup p99 at T=1000 within 1.2x of T=0."""
    a, b = slow_cell(results, REF, "0"), slow_cell(results, REF, "1000")
    if not a or not b:
        return None
    thr = a["throughput"] / max(1e-9, b["throughput"])
    p_a, p_b = a["start_latency"]["p99"], b["start_latency"]["p99"]
    pick = (p_b / p_a) if p_a and p_b else float("inf")
    return {
        "target": "slow producers: ringq jobs/s and pickup p99 at T=1000 within 1.2x of T=0",
        "measured": f"jobs/s {a['throughput']:,.0f} -> {b['throughput']:,.0f} ({thr:.2f}x lower), "
        f"pickup p99 {_ms(p_a)} -> {_ms(p_b)} ms ({pick:.2f}x)",
        "met": thr <= 1.2 and pick <= 1.2,
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, evaluated on this run's numbers."""
    rows: list[dict[str, Any]] = []
    ds = drain_summary(results) if results.get("drain") else {}
    ss = sweep_summary(results) if results.get("sweep") else {}

    def best_peer(table: dict[str, dict[str, Any]], key: str) -> tuple[str | None, float | None]:
        peers = [(p, float(table[p][key])) for p in PYTHON_PEERS if p in table and table[p].get(key)]
        if not peers:
            return None, None
        name, value = max(peers, key=lambda x: x[1])
        return name, value

    if REF in ds and "error" not in ds[REF]:
        p, v = best_peer(ds, "drain_rate")
        ours = ds[REF]["drain_rate"]
        rows.append(
            {
                "target": "drain >= 1.5x best Python peer",
                "measured": f"ringq {ours:,.0f}/s vs {p} {v or 0:,.0f}/s = {ours / v:.2f}x"
                if v
                else "no peer",
                "met": (ours >= 1.5 * v) if v else None,
            }
        )
        raw = ds.get("raw", {}).get("drain_rate")
        rows.append(
            {
                "target": "drain within 2x of raw SQL baseline",
                "measured": f"raw {raw:,.0f}/s / ringq {ours:,.0f}/s = {raw / ours:.2f}x"
                if raw
                else "no baseline",
                "met": (raw <= 2 * ours) if raw else None,
            }
        )
    if REF in ss:
        p, v = best_peer(ss, "sustainable_rate")
        ours = ss[REF]["sustainable_rate"]
        rows.append(
            {
                "target": "sustainable rate >= 1.5x best Python peer",
                "measured": f"ringq {ours:,.0f}/s vs {p} {v or 0:,.0f}/s"
                + (f" = {ours / v:.2f}x" if v else ""),
                "met": (ours >= 1.5 * v) if v else None,
            }
        )
        half = results.get("latency_rate")
        run = run_at(results, REF, half) if half else None
        if run is not None:
            cl = (run.get("completion_latency") or {}).get("p99")
            rows.append(
                {
                    "target": "p99 end-to-end < 50 ms at 50% of ringq's sustainable rate",
                    "measured": f"{_ms(cl)} ms (completion) / {_ms(run['start_latency']['p99'])} ms (start) at {half:g}/s",
                    "met": (cl is not None and cl < 0.05),
                }
            )
        bloat = results.get("bloat_rate")
        brun = run_at(results, REF, bloat) if bloat else None
        if brun is not None:
            peak = max((x[2] for x in brun["dead_tuples"]), default=0)
            rows.append(
                {
                    "target": "ringq hot tables: dead tuples near zero through scenario 2",
                    "measured": f"peak {peak:,} dead tuples in ready/claims/closures/done at {bloat:g}/s "
                    f"({brun['enqueued']:,} jobs)",
                    "met": peak <= max(100, 0.01 * brun["enqueued"]),
                }
            )
    idle = results.get("idle", {}).get(REF)
    if idle and "error" not in idle and idle["dead_tuples"]:
        end = idle["dead_tuples"][-1][2]
        rows.append(
            {
                "target": "ringq recovers to near-zero dead tuples after scenario 4 (no VACUUM FULL)",
                "measured": f"{end:,} dead tuples in hot tables at the end "
                f"(peak {max(x[2] for x in idle['dead_tuples']):,})",
                "met": end <= max(100, 0.01 * idle["enqueued"]),
            }
        )
    if results.get("slow"):
        row = slow_target(results)
        if row is not None:
            rows.append(row)
    if results.get("grid"):
        row = grid_target(results)
        if row is not None:
            rows.append(row)
    return rows


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str))


def _rate_ticks(ax: Any, rates: list[float]) -> None:
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(rates)
    ax.set_xticklabels([f"{r:g}" for r in rates], rotation=45, fontsize=8)
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """Throughput vs offered load, latency percentiles, depth over time, dead tuples."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    systems = results["systems"]
    files: list[Path] = []

    if results.get("sweep"):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        rates = sorted(
            {*results["config"]["rates"], *(r["rate"] for runs in results["sweep"].values() for r in runs)}
        )
        ax.plot(rates, rates, "k:", label="offered")
        for s in systems:
            pts = [(r["rate"], r["completion_rate"]) for r in results["sweep"].get(s, []) if "error" not in r]
            if pts:
                ax.plot(*zip(*sorted(pts), strict=True), marker="o", label=s)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _rate_ticks(ax, rates)
        ax.set_xlabel("offered rate (jobs/s)")
        ax.set_ylabel("completion rate in window (jobs/s)")
        ax.set_title("throughput vs offered load")
        ax.legend(fontsize=8)
        files.append(out_dir / "throughput.png")
        fig.tight_layout()
        fig.savefig(files[-1], dpi=110)
        plt.close(fig)

        fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
        for ax, q in zip(axes, ("p50", "p95", "p99"), strict=True):
            for s in systems:
                pts = [
                    (r["rate"], (r.get("completion_latency") or r["start_latency"])[q])
                    for r in results["sweep"].get(s, [])
                    if "error" not in r and (r.get("completion_latency") or r["start_latency"])[q] is not None
                ]
                if pts:
                    ax.plot(*zip(*sorted(pts), strict=True), marker="o", label=s)
            ax.set_xscale("log")
            ax.set_yscale("log")
            _rate_ticks(ax, rates)
            ax.set_title(f"end-to-end {q} (s)")
            ax.set_xlabel("offered rate (jobs/s)")
        axes[0].legend(fontsize=8)
        files.append(out_dir / "latency.png")
        fig.tight_layout()
        fig.savefig(files[-1], dpi=110)
        plt.close(fig)

        rate = results.get("bloat_rate")
        if rate:
            fig, ax = plt.subplots(figsize=(7, 4.5))
            for s in systems:
                run = run_at(results, s, rate)
                if run and run["depth"]:
                    ax.plot(*zip(*run["depth"], strict=True), label=s)
            ax.set_xlabel("seconds into the window")
            ax.set_ylabel("jobs enqueued, not started")
            ax.set_title(f"queue depth over time at {rate:g} jobs/s")
            ax.legend(fontsize=8)
            files.append(out_dir / "depth.png")
            fig.tight_layout()
            fig.savefig(files[-1], dpi=110)
            plt.close(fig)

    if results.get("slow"):
        files.extend(_plot_slow(results, out_dir, plt))
    if results.get("grid"):
        files.extend(_plot_grid(results, out_dir, plt))

    if results.get("idle"):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for s in systems:
            run = results["idle"].get(s)
            if run and "error" not in run and run["dead_tuples"]:
                ts = [x[0] for x in run["dead_tuples"]]
                ax.plot(ts, [x[1] for x in run["dead_tuples"]], label=f"{s} (all tables)")
        ax.axvline(results["config"]["hold"], color="k", linestyle=":", label="snapshot released")
        ax.set_xlabel("seconds")
        ax.set_ylabel("n_dead_tup")
        ax.set_title("dead tuples with an idle-in-transaction snapshot")
        ax.legend(fontsize=8)
        files.append(out_dir / "dead_tuples.png")
        fig.tight_layout()
        fig.savefig(files[-1], dpi=110)
        plt.close(fig)
    return files


def _plot_slow(results: dict[str, Any], out_dir: Path, plt: Any) -> list[Path]:
    """Grouped bars per system: jobs/s and pickup p99 for every transaction hold T."""
    holds = results["config"].get("slow_holds") or []
    systems = [s for s in results["systems"] if s in results["slow"]]
    if not holds or not systems:
        return []
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    width = 0.8 / len(holds)
    for j, hold in enumerate(holds):
        xs = [i + (j - (len(holds) - 1) / 2) * width for i in range(len(systems))]
        runs = [slow_cell(results, s, hold) for s in systems]
        thr = [r["throughput"] if r else 0 for r in runs]
        p99 = [(r["start_latency"]["p99"] or 0) * 1000 if r else 0 for r in runs]
        enq = [((r.get("enqueue_latency") or {}).get("p99") or 0) * 1000 if r else 0 for r in runs]
        axes[0].bar(xs, thr, width, label=_hold_label(hold))
        axes[1].bar(xs, p99, width, label=_hold_label(hold))
        axes[2].bar(xs, enq, width, label=_hold_label(hold))
    titles = (
        f"jobs/s (offered {results['config'].get('slow_rate', 0):g}/s)",
        "pickup p99 (ms)",
        "enqueue p99 (ms)",
    )
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xticks(range(len(systems)))
        ax.set_xticklabels(systems, rotation=30, fontsize=8)
        ax.set_title(title)
    axes[1].set_yscale("log")
    axes[2].set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.suptitle("slow producers: enqueue inside a transaction held open T ms")
    fig.tight_layout()
    path = out_dir / "slow_producers.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def _plot_grid(results: dict[str, Any], out_dir: Path, plt: Any) -> list[Path]:
    """Drain jobs/s of every grid cell, grouped by system."""
    cells = [(spec, run) for spec, run in results["grid"].items() if "error" not in run]
    if not cells:
        return []
    from bench.adapters import parse_spec

    cells.sort(key=lambda x: (parse_spec(x[0])[0], x[1]["drain_rate"]))
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(cells) + 1.5))
    ax.barh([_grid_label(results, s) for s, _ in cells], [r["drain_rate"] for _, r in cells])
    ax.set_xscale("log")
    ax.set_xlabel("drain jobs/s (log)")
    ax.set_title(f"settings grid: drain of {results['config'].get('grid_n', 0):,} jobs per cell")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    path = out_dir / "grid.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
