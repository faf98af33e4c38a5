"""Write the ``*.out`` TLC ``-tool`` transcripts in this folder (see README.md).

TLC cannot run on the machine these were made on, so each transcript is assembled from the
message codes, class numbers and message texts of TLC 1.7.4 (``tlc2/output/EC.java``,
``MP.java``, ``ModelChecker.java``, ``LiveWorker.java``, ``StatePrinter.java`` at rev 5a47802)
for the tiny specs in ``tests/data/tla-cli/``. State counts, depths, traces and source
locations were derived by hand from those specs (and cross-checked against the built-in
checker in ``tests/tlacheck/test_tlc_transcripts.py``). Timestamps, seeds, pids and
machine details are fixed placeholders.

Run: ``python tests/data/tlc/make_transcripts.py`` (rewrites the files in place).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SPECS = HERE.parent / "tla-cli"
STAMP = "2026-11-22 17:00:00"


def msg(code: int, cls: int, body: str) -> str:
    """One framed message exactly as MP.getMessage builds it in -tool mode."""
    return f"@!@!@STARTMSG {code}:{cls} @!@!@\n{body}\n@!@!@ENDMSG {code} @!@!@\n"


def location(module: str, name: str) -> str:
    """TLC's Location.toString() of the body of definition `name` (1-based, end inclusive)."""
    lines = (SPECS / f"{module}.tla").read_text().splitlines()
    for i, line in enumerate(lines, start=1):
        prefix = f"{name} == "
        if line.startswith(prefix):
            return f"line {i}, col {len(prefix) + 1} to line {i}, col {len(line)} of module {module}"
    raise KeyError(name)


def assume_location(module: str) -> str:
    lines = (SPECS / f"{module}.tla").read_text().splitlines()
    for i, line in enumerate(lines, start=1):
        if line.startswith("ASSUME "):
            return f"line {i}, col 8 to line {i}, col {len(line)} of module {module}"
    raise KeyError("ASSUME")


def sany_ok(module: str, modules: tuple[str, ...] = ("Naturals",)) -> str:
    """SANY's unframed progress lines for a module that parses."""
    lines = [f"Parsing file /tmp/tlacheck/{module}.tla"]
    lines += [f"Parsing file /tmp/tla2tools/tla2sany/StandardModules/{m}.tla" for m in modules]
    lines += [f"Semantic processing of module {m}" for m in (*modules, module)]
    return "\n".join(lines) + "\n"


def preamble(module: str, sany: str | None = None) -> str:
    return (
        msg(2262, 0, "TLC2 Version 2.19 of 08 August 2024 (rev: 5a47802)")
        + msg(
            2187,
            0,
            "Running breadth-first search Model-Checking with fp 22 and seed -5755320172003082571 "
            "with 1 worker on 2 cores with 1986MB heap and 64MB offheap memory [pid: 4242] "
            "(Linux 6.1.0-28-amd64 amd64, Debian 17.0.15 x86_64, MSBDiskFPSet, DiskStateQueue).",
        )
        + msg(2220, 0, "Starting SANY...")
        + (sany_ok(module) if sany is None else sany)
        + msg(2219, 0, "SANY finished.")
        + msg(2185, 0, f"Starting... ({STAMP})")
    )


def init(n: int) -> str:
    return msg(2189, 0, "Computing initial states...") + msg(
        2190,
        0,
        f"Finished computing initial states: {n} distinct state{'' if n == 1 else 's'} generated at {STAMP}.",
    )


def progress(level: int, generated: int, distinct: int, queue: int, *, rates: bool = True) -> str:
    """Message 2200; the one ModelChecker prints right before the final liveness check has no rates."""
    if not rates:
        return msg(
            2200,
            0,
            f"Progress({level}) at {STAMP}: {generated:,} states generated, "
            f"{distinct:,} distinct states found, {queue:,} states left on queue.",
        )
    return msg(
        2200,
        0,
        f"Progress({level}) at {STAMP}: {generated:,} states generated ({generated * 60:,} s/min), "
        f"{distinct:,} distinct states found ({distinct * 60:,} ds/min), {queue:,} states left on queue.",
    )


def stats(generated: int, distinct: int, queue: int) -> str:
    return msg(
        2199,
        0,
        f"{generated} states generated, {distinct} distinct states found, {queue} states left on queue.",
    )


def state(num: int, info: str, variables: list[tuple[str, str]]) -> str:
    if len(variables) == 1:
        text = f"{variables[0][0]} = {variables[0][1]}\n"
    else:
        text = "".join(f"/\\ {k} = {v}\n" for k, v in variables)
    return msg(2217, 4, f"{num}: {info}\n{text}")


def finished(ms: int) -> str:
    return msg(2186, 0, f"Finished in {ms}ms at ({STAMP})")


def success(generated: int, distinct: int, depth: int, outdegree: tuple[int, int, int, int]) -> str:
    lo, mean, p95, hi = outdegree
    return (
        msg(
            2193,
            0,
            "Model checking completed. No error has been found.\n"
            "  Estimates of the probability that TLC did not check all reachable states\n"
            "  because two distinct states had the same fingerprint:\n"
            "  calculated (optimistic):  val = 8.7E-19\n"
            "  based on the actual fingerprints:  val = 2.4E-17",
        )
        + progress(depth, generated, distinct, 0)
        + stats(generated, distinct, 0)
        + msg(2194, 0, f"The depth of the complete state graph search is {depth}.")
        + msg(
            2268,
            0,
            f"The average outdegree of the complete state graph is {mean} "
            f"(minimum is {lo}, the maximum {hi} and the 95th percentile is {p95}).",
        )
    )


def transcripts() -> dict[str, str]:
    counter_next = f"<Next {location('Counter', 'Next')}>"
    out: dict[str, str] = {}
    # Counter.cfg: 0..3, 1 initial + 3 successors, depth 4.
    out["ok"] = preamble("Counter") + init(1) + success(4, 4, 4, (0, 1, 1, 1)) + finished(412)
    # CounterSmall.cfg: Small == x < 2 fails in the third state.
    out["invariant"] = (
        preamble("Counter")
        + init(1)
        + msg(2110, 1, "Invariant Small is violated.")
        + msg(2121, 1, "The behavior up to this point is:")
        + state(1, "<Initial predicate>", [("x", "0")])
        + state(2, counter_next, [("x", "1")])
        + state(3, counter_next, [("x", "2")])
        + progress(3, 3, 3, 0)
        + stats(3, 3, 0)
        + finished(388)
    )
    # Stuck.tla: x stops at 2 with nothing enabled.
    stuck_next = f"<Next {location('Stuck', 'Next')}>"
    out["deadlock"] = (
        preamble("Stuck")
        + init(1)
        + msg(2114, 1, "Deadlock reached.")
        + msg(2121, 1, "The behavior up to this point is:")
        + state(1, "<Initial predicate>", [("x", "0"), ("y", "0")])
        + state(2, stuck_next, [("x", "1"), ("y", "0")])
        + state(3, stuck_next, [("x", "2"), ("y", "0")])
        + progress(3, 3, 3, 0)
        + stats(3, 3, 0)
        + finished(401)
    )
    # Wrap.tla: [][x' >= x]_x fails on the step 2 -> 0 (0 already seen: 4 generated, 3 distinct).
    wrap_next = f"<Next {location('Wrap', 'Next')}>"
    out["action_property"] = (
        preamble("Wrap")
        + init(1)
        + msg(2112, 1, "Action property Monotonic is violated.")
        + msg(2121, 1, "The behavior up to this point is:")
        + state(1, "<Initial predicate>", [("x", "0")])
        + state(2, wrap_next, [("x", "1")])
        + state(3, wrap_next, [("x", "2")])
        + state(4, wrap_next, [("x", "0")])
        + progress(3, 4, 3, 0)
        + stats(4, 3, 0)
        + finished(395)
    )
    toggle_next = f"<Next {location('Toggle', 'Next')}>"
    liveness_head = (
        preamble("Toggle")
        + msg(2212, 0, "Implied-temporal checking--satisfiability problem has 1 branches.")
        + init(1)
        + progress(2, 3, 2, 0, rates=False)
        + msg(
            2192,
            0,
            f"Checking temporal properties for the complete state space with 2 total distinct states at ({STAMP})",
        )
        + msg(2116, 1, "Temporal properties were violated.\n")
        + msg(2264, 1, "The following behavior constitutes a counter-example:\n")
        + state(1, "<Initial predicate>", [("x", "0")])
    )
    liveness_tail = (
        msg(2267, 0, f"Finished checking temporal properties in 00s at {STAMP}")
        + progress(2, 3, 2, 0)
        + stats(3, 2, 0)
        + finished(655)
    )
    # ToggleStutter.cfg: no fairness, so the behavior may stutter at x = 0 forever.
    out["temporal_stuttering"] = liveness_head + msg(2218, 4, "2: Stuttering") + liveness_tail
    # ToggleLasso.cfg: with WF the behavior flips forever: 0 -> 1 -> back to state 1.
    out["temporal_lasso"] = (
        liveness_head
        + state(2, toggle_next, [("x", "1")])
        + msg(2122, 4, f"1: Back to state: {toggle_next}\n")
        + liveness_tail
    )
    # Assume.tla with N = 3: checkAssumptions fails before any state is computed.
    out["assumption"] = (
        preamble("Assume") + msg(2104, 1, f"Assumption {assume_location('Assume')} is false.") + finished(302)
    )
    # Broken.tla: SANY's parse error is printed unframed, then TLC's 3002.
    broken_sany = (
        "Parsing file /tmp/tlacheck/Broken.tla\n"
        "***Parse Error***\n"
        'Was expecting "Expression or Instance"\n'
        'Encountered "====" at line 6, column 1 and token "===="\n'
        "\n"
        "Residual stack trace follows:\n"
        "Definition starting at line 5, column 1.\n"
        "Module body starting at line 3, column 1.\n"
        "\n"
        "\n"
        "Fatal errors while parsing TLA+ spec in file Broken\n"
        "\n"
        "tla2sany.semantic.AbortException\n"
        "*** Abort messages: 1\n"
        "\n"
        "In module Broken\n"
        "\n"
        "Could not parse module Broken from file /tmp/tlacheck/Broken.tla\n"
        "\n"
        "\n"
    )
    out["parse_error"] = (
        preamble("Broken", broken_sany) + msg(3002, 1, "Parsing or semantic analysis failed.") + finished(290)
    )
    # CounterBadCfg.cfg names an invariant the spec does not define.
    out["config_error"] = (
        preamble("Counter")
        + msg(
            2229,
            1,
            "The invariant NoSuchInvariant specified in the configuration file\nis not defined in the specification.",
        )
        + finished(310)
    )
    return out


def main() -> None:
    for name, text in transcripts().items():
        (HERE / f"{name}.out").write_text(text)


if __name__ == "__main__":
    main()
