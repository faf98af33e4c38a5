"""``tlacheck`` command line: ``check`` a spec, ``simulate`` random behaviours of it (TLC's
-simulate), ``fetch-tlc`` the pinned TLC jar.

Exit codes follow TLC's (see tlacheck.result): 0 ok, 10 assumption, 11 deadlock, 12 safety,
13 liveness/action property, 150 parse error (also: spec file missing), 151 config error
(also: config file missing), 255 anything else; 2 for bad command-line arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console

import tlacheck
from tlacheck.api import BACKENDS, BackendUnavailable, check
from tlacheck.render import ProgressLine, print_result
from tlacheck.result import EXIT_CONFIG_ERROR, EXIT_PARSE_ERROR

EXIT_USAGE = 2
EXIT_OTHER = 255


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tlacheck", description="Model-check TLA+ specs with TLC or the built-in checker.")
    parser.add_argument("--version", action="version", version=f"tlacheck {tlacheck.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    chk = sub.add_parser("check", help="model-check a spec")
    chk.add_argument("spec", type=Path, help="the .tla file")
    chk.add_argument("--config", "-c", type=Path, help="the .cfg file (default: SPEC.cfg)")
    chk.add_argument("--backend", choices=BACKENDS, default="auto", help="auto = TLC if available")
    chk.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="TLC worker threads / built-in worker processes (same counts as 1; liveness runs in one)",
    )
    chk.add_argument(
        "--max-states", type=_positive, default=None, help="stop after this many distinct states"
    )
    chk.add_argument("--json", action="store_true", help="print the CheckResult as JSON")
    chk.add_argument("--no-trace", action="store_true", help="omit the counterexample trace")
    sim = sub.add_parser(
        "simulate", help="check random behaviours to a depth (TLC's -simulate; built-in checker)"
    )
    sim.add_argument("spec", type=Path, help="the .tla file")
    sim.add_argument("--config", "-c", type=Path, help="the .cfg file (default: SPEC.cfg)")
    sim.add_argument("--depth", type=_positive, default=100, help="states per behaviour (default 100)")
    sim.add_argument(
        "--num", type=_positive, default=None, help="behaviours (default 1000, or unbounded with --seconds)"
    )
    sim.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    sim.add_argument("--seed", type=int, default=None, help="random seed (printed; repeat a run with it)")
    sim.add_argument("--json", action="store_true", help="print the CheckResult as JSON")
    sim.add_argument("--no-trace", action="store_true", help="omit the violating behaviour")
    fetch = sub.add_parser("fetch-tlc", help="download the pinned tla2tools.jar and verify its SHA-256")
    fetch.add_argument(
        "--dest", type=Path, default=None, help="where to install (default: the tlacheck cache)"
    )
    fetch.add_argument("--force", action="store_true", help="download even if a verified jar is present")
    fetch.add_argument(
        "--url", default=None, help="download from a mirror (the pinned SHA-256 is still required)"
    )
    return parser


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"tlacheck: error: {message}\n")
    return code


def _run_check(args: argparse.Namespace) -> int:
    found = _spec_and_config(args)
    if isinstance(found, int):
        return found
    spec, config = found
    out = Console(highlight=False)
    err = Console(stderr=True)
    try:
        with ProgressLine(err) as progress:
            result = check(
                spec,
                config,
                backend=args.backend,
                workers=args.workers,
                max_states=args.max_states,
                progress=progress,
            )
    except (BackendUnavailable, ValueError, FileNotFoundError) as exc:
        return _fail(str(exc), EXIT_OTHER)
    if args.json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        print_result(result, out, show_trace=not args.no_trace)
    return result.exit_code


def _spec_and_config(args: argparse.Namespace) -> tuple[Path, Path | None] | int:
    spec: Path = args.spec
    if not spec.is_file():
        return _fail(f"spec file not found: {spec}", EXIT_PARSE_ERROR)
    config: Path | None = args.config
    if config is None and spec.with_suffix(".cfg").is_file():
        config = spec.with_suffix(".cfg")
    if config is not None and not config.is_file():
        return _fail(f"config file not found: {config}", EXIT_CONFIG_ERROR)
    return spec, config


def _run_simulate(args: argparse.Namespace) -> int:
    from tlacheck.builtin.simulate import DEFAULT_NUM, simulate

    found = _spec_and_config(args)
    if isinstance(found, int):
        return found
    spec, config = found
    if args.seconds is not None and not 0 < args.seconds < float("inf"):
        return _fail(f"--seconds: expected a positive number, got {args.seconds}", EXIT_USAGE)
    num = args.num if args.num is not None or args.seconds is not None else DEFAULT_NUM
    err = Console(stderr=True)

    def progress(behaviours: int, generated: int, elapsed: float) -> None:
        err.print(
            f"simulate: {behaviours:,} behaviours, {generated:,} states, {elapsed:.0f} s", highlight=False
        )

    try:
        result = simulate(
            spec,
            config,
            depth=args.depth,
            num=num,
            seed=args.seed,
            max_seconds=args.seconds,
            progress=progress,
        )
    except (ValueError, FileNotFoundError) as exc:
        return _fail(str(exc), EXIT_OTHER)
    if args.json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        print_result(result, Console(highlight=False), show_trace=not args.no_trace)
    return result.exit_code


def _run_fetch(args: argparse.Namespace) -> int:
    from tlacheck.fetch_tlc import PINNED_URL, PINNED_VERSION, FetchError, fetch

    try:
        path = fetch(args.dest, url=args.url or PINNED_URL, force=args.force)
    except (FetchError, OSError) as exc:
        return _fail(str(exc), 1)
    print(f"tla2tools.jar {PINNED_VERSION} verified and installed at {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return _run_check(args)
        if args.command == "simulate":
            return _run_simulate(args)
        return _run_fetch(args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    raise SystemExit(main())
