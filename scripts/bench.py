#!/usr/bin/env python3
"""ringq against the Postgres queues people use, side by side in one run.

    python3 scripts/bench.py --setup      # create .venv-bench with ringq + pinned peers
    python3 scripts/bench.py --quick      # < 5 min: every scenario, small sizes
    python3 scripts/bench.py              # the full run (see docs/benchmarks.md)

Every system runs against the same PostgreSQL server (embedded by default,
`RINGQ_DATABASE_URL` otherwise), each run in a fresh database cloned from that system's
template, with one worker process at the same concurrency and the same no-op handler.
Systems take turns within every repetition and every offered rate (round-robin, rotated),
so drift of this shared machine hits all of them alike. Results: rich tables on stdout,
`bench-results/<stamp>/results.json` and PNG plots beside it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".venv-bench"
REQUIREMENTS = ROOT / "requirements-bench.txt"

SCENARIOS = ("drain", "sweep", "idle", "slow", "grid", "profile")
FULL = {
    "drain_n": 50_000,
    "reps": 3,
    "duration": 20.0,
    "rates": "125,250,500,1000,2000,4000,8000,16000",
    "hold": 20.0,
    "after": 10.0,
    "recover": 20.0,
    "profile_n": 20_000,
    "drain_timeout": 180.0,
    "slow_duration": 10.0,
    "grid_n": 20_000,
    "grid_timeout": 20.0,
}
QUICK = {
    "drain_n": 2_000,
    "reps": 1,
    "duration": 2.5,
    "rates": "125,250,500,1000,2000,4000",
    "hold": 3.0,
    "after": 2.0,
    "recover": 2.0,
    "profile_n": 3_000,
    "drain_timeout": 45.0,
    "slow_duration": 3.0,
    "grid_n": 2_000,
    "grid_timeout": 10.0,
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, no usage dump
        sys.stderr.write(f"bench.py: error: {message} (see --help)\n")
        raise SystemExit(2)


def _positive_int(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v!r}")
    return n


def _positive_float(v: str) -> float:
    try:
        x = float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {v!r}") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {v!r}")
    return x


def _rates(v: str) -> list[float]:
    try:
        rates = sorted({float(x) for x in v.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rates takes comma-separated numbers, got {v!r}") from None
    if not rates or rates[0] <= 0:
        raise argparse.ArgumentTypeError(f"--rates needs positive numbers, got {v!r}")
    return rates


def _holds(v: str) -> list[str]:
    out: list[str] = []
    for x in (x.strip() for x in v.split(",")):
        if not x:
            continue
        if x != "leak":
            try:
                ms = float(x)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"--slow-holds takes milliseconds and 'leak', got {v!r}"
                ) from None
            if ms < 0:
                raise argparse.ArgumentTypeError(f"--slow-holds needs non-negative numbers, got {v!r}")
            x = f"{ms:g}"
        if x not in out:
            out.append(x)
    if not out:
        raise argparse.ArgumentTypeError(f"--slow-holds is empty: {v!r}")
    return out


def _split_systems(v: str) -> list[str]:
    """Comma-separated systems; commas inside a spec's [...] settings do not split."""
    out, depth, cur = [], 0, ""
    for ch in v:
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [s for s in out if s]


def _setting(v: str) -> tuple[str, str]:
    key, sep, value = v.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--pg-setting takes NAME=VALUE, got {v!r}")
    return key.strip(), value.strip()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = _Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--setup", action="store_true", help="create .venv-bench and install ringq + the peers, then exit"
    )
    p.add_argument("--quick", action="store_true", help="small sizes: the whole run in under 5 minutes")
    p.add_argument(
        "--systems",
        default="all",
        help="comma-separated subset of ringq,raw,awa,pgqueuer,procrastinate,chancy (default: all installed); "
        "also the variants ringq-listen, ringq-poll (Worker(listen=True/False)) and ringq-oldworker "
        "(the worker defaults before the latency work)",
    )
    p.add_argument(
        "--scenarios",
        default="drain,sweep,idle",
        help=f"comma-separated subset of {','.join(SCENARIOS)} (bloat is measured inside sweep; "
        "slow = producers enqueuing inside transactions held open T ms; grid = one drain per "
        "documented setting of every system (issue 18); profile = py-spy + pg_stat_statements "
        "on a ringq drain)",
    )
    p.add_argument(
        "--concurrency", type=_positive_int, default=16, help="handler concurrency of the one worker process"
    )
    p.add_argument("--drain-n", type=_positive_int, help="jobs per drain run (full 50000, quick 3000)")
    p.add_argument(
        "--drain-timeout",
        type=_positive_float,
        default=None,
        help="stop a drain after this many seconds and rate it over what completed (full 180, quick 45)",
    )
    p.add_argument("--reps", type=_positive_int, help="drain repetitions per system (full 3, quick 1)")
    p.add_argument(
        "--rates", type=_rates, help="offered rates to sweep, jobs/s (doubling, so the previous step is 50%%)"
    )
    p.add_argument("--duration", type=_positive_float, help="seconds per offered-load run (full 20, quick 3)")
    p.add_argument("--hold", type=_positive_float, help="seconds the idle-in-transaction snapshot is held")
    p.add_argument("--after", type=_positive_float, help="seconds of load after the snapshot is released")
    p.add_argument("--recover", type=float, help="seconds of sampling after the load ends (scenario 4)")
    p.add_argument(
        "--idle-rate", type=_positive_float, help="offered rate for scenario 4 (default: the bloat rate)"
    )
    p.add_argument(
        "--slow-rate", type=_positive_float, default=500.0, help="offered rate of the slow-producers scenario"
    )
    p.add_argument(
        "--slow-producers",
        type=_positive_int,
        default=16,
        help="producer connections in the slow-producers scenario (each holds its transaction open T ms)",
    )
    p.add_argument(
        "--slow-holds",
        type=_holds,
        default=_holds("0,100,1000,leak"),
        help="transaction hold times T in ms for the slow-producers scenario; 'leak' = T=0 plus one "
        "session idle in transaction (with an enqueued job) for the whole window",
    )
    p.add_argument(
        "--slow-duration", type=_positive_float, help="seconds per slow-producers run (full 10, quick 3)"
    )
    p.add_argument(
        "--grid-n", type=_positive_int, help="jobs per drain in the settings grid (full 20000, quick 2000)"
    )
    p.add_argument(
        "--grid-timeout",
        type=_positive_float,
        help="drain time limit per grid cell, then rated over what completed (full 20 s, quick 10 s)",
    )
    p.add_argument("--profile-n", type=_positive_int, help="jobs in the profiled ringq drain")
    p.add_argument(
        "--pg-setting",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for the embedded server (repeatable)",
    )
    p.add_argument(
        "--out", type=Path, default=ROOT / "bench-results", help="results directory (default bench-results/)"
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="re-print the tables and redraw the plots of a recorded run, then exit",
    )
    p.add_argument(
        "--markdown", action="store_true", help="with --render: print the tables as markdown (for docs)"
    )
    p.add_argument("--no-reexec", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    base = QUICK if a.quick else FULL
    for key in (
        "drain_n",
        "reps",
        "duration",
        "hold",
        "after",
        "recover",
        "profile_n",
        "drain_timeout",
        "slow_duration",
        "grid_n",
        "grid_timeout",
    ):
        if getattr(a, key) is None:
            setattr(a, key, base[key])
    if a.rates is None:
        a.rates = _rates(str(base["rates"]))
    if a.recover < 0:
        p.error(f"--recover must be >= 0, got {a.recover}")
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    bad = [s for s in a.scenarios if s not in SCENARIOS]
    if bad:
        p.error(f"unknown scenario {bad[0]!r}; choose from {', '.join(SCENARIOS)}")
    if a.systems != "all":
        variants = ("ringq-listen", "ringq-poll", "ringq-oldworker")
        from_registry = ("ringq", "raw", "awa", "pgqueuer", "procrastinate", "chancy", *variants)
        a.systems = _split_systems(a.systems)
        bad = [s for s in a.systems if s.partition("[")[0] not in from_registry]
        if bad:
            p.error(f"unknown system {bad[0]!r}; choose from {', '.join(from_registry)}")
    return a


def setup_venv() -> int:
    """Create .venv-bench beside the dev venv so the peers never disturb it."""
    py = BENCH_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    pip = [str(py), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    # ringq[embedded]: the embedded PostgreSQL the runs use unless RINGQ_DATABASE_URL is set
    subprocess.run([*pip, "-e", f"{ROOT}[embedded]", "-r", str(REQUIREMENTS)], check=True)
    print(f"ready: {py} scripts/bench.py --quick")
    return 0


def _maybe_reexec(args: argparse.Namespace, argv: list[str]) -> None:
    """Run inside .venv-bench when it exists and we are not already there."""
    py = BENCH_VENV / "bin" / "python"
    if args.no_reexec or not py.exists() or Path(sys.prefix).resolve() == BENCH_VENV.resolve():
        return
    os.execv(str(py), [str(py), str(Path(__file__).resolve()), *argv, "--no-reexec"])


def render_recorded(path: Path, plots: bool, markdown: bool = False) -> int:
    import json

    from rich.console import Console

    from bench import report
    from bench.orchestrate import render_profile

    try:
        if path.suffix == ".gz":  # archived runs (scripts/bench/results/) are gzipped
            import gzip

            results = json.loads(gzip.decompress(path.read_bytes()))
        else:
            results = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"bench.py: error: cannot read {path}: {exc}\n")
        return 2
    console = Console() if sys.stdout.isatty() else Console(width=170)
    report.render(results, console, markdown=markdown)
    if results.get("profile") and "error" not in results["profile"] and not markdown:
        render_profile(results["profile"], console)
    if plots:
        files = report.plot(results, path.parent)
        if files:
            console.print("plots: " + ", ".join(str(f) for f in files))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.setup:
        return setup_venv()
    _maybe_reexec(args, argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if args.render is not None:
        return render_recorded(args.render, plots=not args.no_plots, markdown=args.markdown)
    from bench.orchestrate import run

    return run(args)


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        sys.stderr.write("bench.py: interrupted\n")
        raise SystemExit(130) from None
