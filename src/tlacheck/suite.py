"""The correctness suite: every TLA+ spec/cfg with the outcome it must produce.

`correctness/suite.toml` lists each entry's expected outcome (`pass`, or a violation kind and the
violated name) and, recorded by a previous run, its state counts: distinct states, generated states
and depth for passing entries, counterexample length for violating ones. A run compares both; a
changed count fails too, because an unnoticed change in the explored state space means the spec,
the cfg or the checker changed meaning. Counts are re-recorded only deliberately (`--record`).

Entry points: `run_suite(...)` (used by `ringq verify`), `run_one(...)` (one spec, used by
`correctness/run-tlc.sh SPEC.tla [CFG]`) and `main` (`python -m tlacheck.suite`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import tlacheck
from tlacheck import render
from tlacheck.api import ProgressCallback
from tlacheck.result import CheckResult

SUITE_FILE = "suite.toml"
RECORD_HINT = "re-record deliberately with ./correctness/run-tlc.sh --record"

# Outcome names in suite.toml: "pass" or a CheckResult outcome other than "ok".
PASS = "pass"


@dataclass(frozen=True)
class SuiteEntry:
    """One spec/cfg pair of suite.toml and what it must produce."""

    spec: str  # relative to the correctness directory
    cfg: str
    expect: str  # "pass" or a CheckResult outcome ("invariant_violated", "property_violated", ...)
    violated: str | None = None
    distinct: int | None = None
    generated: int | None = None
    depth: int | None = None
    trace_length: int | None = None  # violations: length of the (BFS-shortest) counterexample
    slow: bool = False
    note: str = ""

    @property
    def name(self) -> str:
        return f"{Path(self.spec).stem}:{Path(self.cfg).stem}"

    @property
    def expected_label(self) -> str:
        return outcome_label(self.expect, self.violated)


@dataclass
class EntryResult:
    """What one entry produced and how it compares with suite.toml."""

    entry: SuiteEntry
    result: CheckResult
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def got_label(self) -> str:
        r = self.result
        if r.outcome == "error":
            return f"error ({r.error_kind or '?'})"
        return outcome_label(PASS if r.outcome == "ok" else r.outcome, r.violated)


# Short forms for the table: "invariant NoDeadlock" reads better than "invariant_violated NoDeadlock".
_SHORT = {
    "invariant_violated": "invariant",
    "property_violated": "property",
    "action_property_violated": "action property",
}


def outcome_label(outcome: str, violated: str | None) -> str:
    short = _SHORT.get(outcome, outcome)
    return short if violated is None else f"{short} {violated}"


# --------------------------------------------------------------------------- suite.toml


ENV_SUITE_DIR = "TLACHECK_SUITE_DIR"


def find_correctness_dir(start: Path | None = None) -> Path:
    """The suite directory: $TLACHECK_SUITE_DIR, else the nearest `correctness/` (or the directory
    itself) holding suite.toml at or above `start` (default: the working directory)."""
    env = os.environ.get(ENV_SUITE_DIR)
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "correctness" / SUITE_FILE).is_file():
            return d / "correctness"
        if d.name == "correctness" and (d / SUITE_FILE).is_file():
            return d
    raise FileNotFoundError(f"no correctness/{SUITE_FILE} above {here}; set {ENV_SUITE_DIR}")


def _opt_int(raw: dict[str, Any], key: str) -> int | None:
    v = raw.get(key)
    return int(v) if v is not None else None


def load_suite(correctness_dir: Path) -> list[SuiteEntry]:
    data = tomllib.loads((correctness_dir / SUITE_FILE).read_text())
    entries = []
    for raw in data.get("entry", []):
        expect = str(raw["expect"])
        violated = raw.get("violated")
        if expect != PASS and violated is None:
            raise ValueError(f"{raw['spec']} {raw['cfg']}: a violation entry must name what it violates")
        entries.append(
            SuiteEntry(
                spec=str(raw["spec"]),
                cfg=str(raw["cfg"]),
                expect=expect,
                violated=str(violated) if violated is not None else None,
                distinct=_opt_int(raw, "distinct"),
                generated=_opt_int(raw, "generated"),
                depth=_opt_int(raw, "depth"),
                trace_length=_opt_int(raw, "trace_length"),
                slow=bool(raw.get("slow", False)),
                note=str(raw.get("note", "")),
            )
        )
    return entries


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


SUITE_HEADER = """\
# The correctness suite: every spec/cfg and the outcome it must produce.
# Run it with ./correctness/run-tlc.sh (no arguments); see correctness/README.md.
#
#   expect    "pass", or the violation kind the cfg must produce
#             ("invariant_violated", "property_violated", "action_property_violated", "deadlock")
#   violated  the invariant/property name a violation must name
#   distinct, generated, depth   recorded state counts of a passing entry
#   trace_length                 recorded counterexample length of a violating entry
#   slow      kept out of the default test run (tests/correctness) but run by the script
#
# Counts are checked on every run: a change fails. If the change is intended (spec or cfg
# edited), re-record with ./correctness/run-tlc.sh --record and commit the diff with the reason.
"""


def dump_suite(entries: Sequence[SuiteEntry]) -> str:
    out = [SUITE_HEADER.rstrip("\n")]
    for e in entries:
        out.append("\n[[entry]]")
        out.append(f"spec = {_toml_str(e.spec)}")
        out.append(f"cfg = {_toml_str(e.cfg)}")
        out.append(f"expect = {_toml_str(e.expect)}")
        if e.violated is not None:
            out.append(f"violated = {_toml_str(e.violated)}")
        for key in ("distinct", "generated", "depth", "trace_length"):
            value = getattr(e, key)
            if value is not None:
                out.append(f"{key} = {value}")
        if e.slow:
            out.append("slow = true")
        if e.note:
            out.append(f"note = {_toml_str(e.note)}")
    return "\n".join(out) + "\n"


def recorded(entry: SuiteEntry, result: CheckResult) -> SuiteEntry:
    """`entry` with the counts of `result` (only when its outcome is the expected one)."""
    if entry.expect == PASS:
        return replace(
            entry,
            distinct=result.distinct_states,
            generated=result.states_generated,
            depth=result.depth,
            trace_length=None,
        )
    return replace(entry, distinct=None, generated=None, depth=None, trace_length=len(result.trace))


# --------------------------------------------------------------------------- checking


Checker = Callable[[Path, Path], CheckResult]


def default_checker(backend: str = "auto", progress: ProgressCallback | None = None) -> Checker:
    """`tlacheck.check`: TLC when a jar is available (backend "auto"), the built-in checker
    otherwise. A checker that cannot run at all comes back as an error result, not an exception,
    so one broken entry does not hide the others."""

    def run(spec: Path, cfg: Path) -> CheckResult:
        try:
            return tlacheck.check(spec, cfg, backend=backend, progress=progress)
        except (FileNotFoundError, ValueError, tlacheck.BackendUnavailable) as exc:
            return CheckResult(outcome="error", error_kind="runtime", message=str(exc))

    return run


def compare(entry: SuiteEntry, result: CheckResult) -> list[str]:
    """Every way `result` differs from what suite.toml expects of `entry`."""
    if result.outcome == "error":
        return [f"checker error ({result.error_kind}): {result.message.strip()[:500]}"]
    got = PASS if result.outcome == "ok" else result.outcome
    if got != entry.expect:
        what = f"{got} {result.violated}" if result.violated else got
        return [f"outcome: expected {entry.expected_label}, got {what}"]
    if entry.violated is not None and result.violated != entry.violated:
        return [f"violated: expected {entry.violated}, got {result.violated}"]
    problems = []
    if entry.expect == PASS:
        counts = {
            "distinct": (entry.distinct, result.distinct_states),
            "generated": (entry.generated, result.states_generated),
            "depth": (entry.depth, result.depth),
        }
    else:
        counts = {"trace_length": (entry.trace_length, len(result.trace))}
    for key, (want, got_n) in counts.items():
        if want is None:
            problems.append(f"{key} not recorded (got {got_n}); {RECORD_HINT}")
        elif want != got_n:
            problems.append(f"{key} changed: recorded {want}, got {got_n}; {RECORD_HINT}")
    return problems


def select(
    entries: Iterable[SuiteEntry], only: Sequence[str] = (), include_slow: bool = True
) -> list[SuiteEntry]:
    chosen = []
    for e in entries:
        keys = (e.name, e.spec, e.cfg, Path(e.spec).stem, Path(e.cfg).stem)
        if only and not any(o in keys for o in only):
            continue
        if e.slow and not include_slow:
            continue
        chosen.append(e)
    return chosen


def run_suite(
    correctness_dir: Path | None = None,
    *,
    only: Sequence[str] = (),
    include_slow: bool = True,
    record: bool = False,
    backend: str = "auto",
    checker: Checker | None = None,
    console: Console | None = None,
) -> list[EntryResult]:
    """Run the suite (or the entries named in `only`), compare with suite.toml, return one
    EntryResult per entry. With `record`, write the new counts of every entry whose outcome is
    the expected one back to suite.toml (outcomes themselves are never rewritten)."""
    cdir = correctness_dir or find_correctness_dir()
    entries = load_suite(cdir)
    chosen = select(entries, only, include_slow)
    console = console or Console(stderr=True)
    results: list[EntryResult] = []
    for i, entry in enumerate(chosen, 1):
        label = f"[{i}/{len(chosen)}] {entry.name}"
        with console.status(f"{label} ...", spinner="dots") as status:

            def show(p: Any, status: Any = status, label: str = label) -> None:
                status.update(
                    f"{label}: {p.distinct:,} distinct, {p.generated:,} generated, depth {p.depth},"
                    f" {p.elapsed_s:.0f}s"
                )

            run = checker or default_checker(backend, progress=show)
            started = time.monotonic()
            result = run(cdir / entry.spec, cdir / entry.cfg)
            if not result.elapsed_s:
                result.elapsed_s = time.monotonic() - started
        er = EntryResult(entry, result, compare(entry, result))
        if er.ok:
            mark = "[green]ok[/]"
        elif record and not _outcome_problem(er):
            mark = "[yellow]counts to record[/]"
        else:
            mark = "[red]MISMATCH[/]"
        console.print(f"[{i}/{len(chosen)}] {entry.name}: {er.got_label} ({result.elapsed_s:.1f}s) {mark}")
        results.append(er)
    if record:
        _record(cdir, entries, results, console)
    return results


def _outcome_problem(r: EntryResult) -> bool:
    """Whether the entry's outcome itself is wrong (as opposed to only its counts)."""
    return any(p.startswith(("outcome", "violated", "checker error")) for p in r.problems)


def _record(cdir: Path, entries: list[SuiteEntry], results: list[EntryResult], console: Console) -> None:
    by_key = {(r.entry.spec, r.entry.cfg): r for r in results}
    updated = []
    for e in entries:
        r = by_key.get((e.spec, e.cfg))
        if r is not None and not _outcome_problem(r):
            updated.append(recorded(e, r.result))
            r.problems = []
        else:
            updated.append(e)
    (cdir / SUITE_FILE).write_text(dump_suite(updated))
    console.print(f"recorded counts in {cdir / SUITE_FILE} (outcome mismatches are never recorded)")


# --------------------------------------------------------------------------- output


def _cfg_label(entry: SuiteEntry) -> str:
    """The cfg's stem without its spec's name in front (SegmentedStorage_base -> base)."""
    spec, cfg = Path(entry.spec).stem, Path(entry.cfg).stem
    short = cfg.removeprefix(spec).lstrip("_")
    return short or cfg


def results_table(results: Sequence[EntryResult]) -> Table:
    table = Table(title="correctness suite")
    for col, justify in (
        ("spec", "left"),
        ("cfg", "left"),
        ("expected", "left"),
        ("got", "left"),
        ("distinct", "right"),
        ("generated", "right"),
        ("depth", "right"),
        ("time", "right"),
        ("", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in results:
        res = r.result
        depth = str(res.depth) if res.outcome == "ok" else f"trace {len(res.trace)}"
        table.add_row(
            Path(r.entry.spec).stem,
            _cfg_label(r.entry),
            r.entry.expected_label,
            r.got_label,
            f"{res.distinct_states:,}",
            f"{res.states_generated:,}",
            depth,
            f"{res.elapsed_s:.1f}s",
            "[green]✓[/]" if r.ok else "[red]✗[/]",
        )
    return table


def print_trace(result: CheckResult, console: Console) -> None:
    """A counterexample: numbered states, the action of each, changed variables marked."""
    render.print_trace(result, console)


def report(results: Sequence[EntryResult], console: Console) -> bool:
    console.print(results_table(results))
    failed = [r for r in results if not r.ok]
    for r in failed:
        console.print(f"[red]✗ {r.entry.name}[/]")
        for p in r.problems:
            console.print(f"    {p}")
    if failed:
        console.print(f"[red]{len(failed)} of {len(results)} entries do not match suite.toml[/]")
    else:
        console.print(f"[green]all {len(results)} entries match suite.toml[/]")
    return not failed


def as_rows(results: Sequence[EntryResult]) -> list[dict[str, Any]]:
    """One plain dict per entry (for `ringq verify --json` and other machine readers)."""
    return [
        {
            "spec": r.entry.spec,
            "cfg": r.entry.cfg,
            "expected": r.entry.expected_label,
            "got": r.got_label,
            "distinct": r.result.distinct_states,
            "generated": r.result.states_generated,
            "depth": r.result.depth,
            "trace_length": len(r.result.trace),
            "seconds": round(r.result.elapsed_s, 2),
            "backend": r.result.backend,
            "ok": r.ok,
            "problems": list(r.problems),
        }
        for r in results
    ]


def render_counts(entries: Sequence[SuiteEntry]) -> str:
    """suite.toml's recorded counts as markdown tables (passing entries, then violating ones), for
    docs that show them: rendered from suite.toml, never written by hand."""

    def row(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c) for c in cells) + " |"

    def cfg(e: SuiteEntry) -> str:
        return f"`{Path(e.cfg).stem}`"

    passing = [e for e in entries if e.expect == PASS]
    violating = [e for e in entries if e.expect != PASS]
    out: list[str] = []
    if passing:
        out += ["Passing (outcome `ok`):", ""]
        out += [row(("cfg", "distinct", "generated", "depth", "what it covers")), row(("---",) * 5)]
        out += [row((cfg(e), e.distinct, e.generated, e.depth, e.note)) for e in passing]
    if violating:
        out += [""] if out else []
        out += ["Violating (the violation is the expected outcome):", ""]
        out += [row(("cfg", "outcome", "violated", "trace", "what it witnesses")), row(("---",) * 5)]
        out += [
            row((cfg(e), f"`{e.expect}`", f"`{e.violated or ''}`", e.trace_length, e.note)) for e in violating
        ]
    return "\n".join(out)


def _suite_entry_for(spec: Path, cfg: Path) -> SuiteEntry | None:
    """The suite.toml entry for this spec/cfg pair, if there is one."""
    try:
        cdir = find_correctness_dir(spec.resolve().parent)
        entries = load_suite(cdir)
    except (FileNotFoundError, ValueError):
        return None
    for e in entries:
        if (cdir / e.spec).resolve() == spec.resolve() and (cdir / e.cfg).resolve() == cfg.resolve():
            return e
    return None


def run_one(spec: Path, cfg: Path | None, *, backend: str = "auto", console: Console | None = None) -> int:
    """Check one spec (cfg defaults to SPEC.cfg beside it); print the result and any trace."""
    console = console or Console()
    cfg = cfg or spec.with_suffix(".cfg")
    with console.status(f"checking {spec.name} with {cfg.name} ...", spinner="dots") as status:

        def show(p: Any) -> None:
            status.update(f"{spec.name} / {cfg.name}: {p.distinct:,} distinct, {p.generated:,} generated")

        result = default_checker(backend, progress=show)(spec, cfg)
    render.print_result(result, console)
    expected = _suite_entry_for(spec, cfg)
    if expected is not None:
        problems = compare(expected, result)
        verdict = "[green]as recorded[/]" if not problems else "[red]" + "; ".join(problems) + "[/]"
        console.print(f"suite.toml expects {expected.expected_label}: {verdict}")
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="run-tlc.sh", description="Run one TLA+ spec, or the whole correctness suite."
    )
    parser.add_argument("spec", nargs="?", type=Path, help="a .tla file (omit to run the suite)")
    parser.add_argument("cfg", nargs="?", type=Path, help="its .cfg (default: SPEC.cfg)")
    parser.add_argument("--record", action="store_true", help="write new state counts to suite.toml")
    parser.add_argument(
        "--only", action="append", default=[], help="run only this entry (spec stem, cfg, or SPEC:CFG)"
    )
    parser.add_argument("--skip-slow", action="store_true", help="leave out entries marked slow")
    parser.add_argument("--backend", default="auto", choices=("auto", "tlc", "builtin"))
    parser.add_argument(
        "--traces", action="store_true", help="print the counterexample of every violating entry"
    )
    args = parser.parse_args(argv)
    # Logs (CI, pipes) get a wide table instead of rich's 80-column default.
    console = Console() if sys.stdout.isatty() else Console(width=180)
    if args.spec is not None:
        return run_one(args.spec, args.cfg, backend=args.backend, console=console)
    results = run_suite(
        only=args.only,
        include_slow=not args.skip_slow,
        record=args.record,
        backend=args.backend,
        console=console,
    )
    ok = report(results, console)
    if args.traces:
        for r in results:
            if r.result.trace:
                console.rule(r.entry.name)
                print_trace(r.result, console)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
