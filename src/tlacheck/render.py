"""Human output for a CheckResult: TLC's own summary lines, a readable trace, live progress.

The summary lines are printed verbatim as TLC prints them (without ``-tool``), so scripts
that grep TLC's output keep working whichever backend ran.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from tlacheck.result import CheckResult, TraceStep

SUCCESS_LINE = "Model checking completed. No error has been found."


def tla_value(v: Any) -> str:
    """A TLA+ value as TLC prints it: `{0, 1}`, `<<1, "a">>`, `[a |-> 1]`, `(1 :> 2 @@ 2 :> 3)`,
    `NULL` (a model value), `TRUE`. Accepts the built-in checker's values and the canonical
    ones of `tlacheck.canonical` (what `explore()` returns); never a Python repr."""
    from tlacheck.builtin.values import FV, LazySet, from_canonical, render

    if isinstance(v, FV | LazySet):
        return render(v)
    try:
        return render(from_canonical(v))
    except Exception:
        return str(v)


def verdict_lines(result: CheckResult) -> list[str]:
    """TLC's ``Error: ...`` (or success) lines for this result."""
    name = result.violated
    match result.outcome:
        case "ok":
            return [SUCCESS_LINE]
        case "invariant_violated":
            return [f"Error: Invariant {name} is violated."]
        case "action_property_violated":
            return [f"Error: Action property {name} is violated."]
        case "property_violated":
            if name is None:
                return ["Error: Temporal properties were violated."]
            return [f"Error: Temporal property {name} was violated."]
        case "deadlock":
            return ["Error: Deadlock reached."]
        case "assumption_failed":
            return [f"Error: Assumption {name} is false."]
    first, *rest = (result.message or "TLC reported an error.").splitlines() or [""]
    return [f"Error: {first}", *rest]


def stats_lines(result: CheckResult) -> list[str]:
    lines = [
        f"{result.states_generated} states generated, {result.distinct_states} distinct states found, "
        f"{result.states_left_on_queue} states left on queue."
    ]
    # TLC prints the depth only when the search completed without error.
    if result.outcome == "ok":
        lines.append(f"The depth of the complete state graph search is {result.depth}.")
    return lines


def _changed(step: TraceStep, previous: TraceStep | None) -> set[str]:
    if previous is None:
        return set()
    return {k for k, v in step.state.items() if previous.state.get(k) != v}


def print_trace(result: CheckResult, console: Console) -> None:
    """The counterexample: numbered states, the action that produced each, changed variables
    highlighted, and the lasso's "Back to state N" / stuttering marker."""
    if not result.trace:
        return
    header = {
        "deadlock": "The behavior up to this point is:",
        "property_violated": "The following behavior constitutes a counter-example:",
    }.get(result.outcome, "The behavior up to this point is:")
    console.print(f"Error: {header}", markup=False, highlight=False)
    previous: TraceStep | None = None
    width = max((len(k) for step in result.trace for k in step.state), default=1)
    for index, step in enumerate(result.trace, start=1):
        changed = _changed(step, previous)
        title = Text.assemble((f"State {index}: ", "bold"), (f"<{step.action}>", "cyan"))
        console.print(title)
        for var, value in step.state.items():
            mark = "*" if var in changed else " "
            line = Text(f"{mark} /\\ {var.ljust(width)} = ")
            line.append(value, style="bold yellow" if var in changed else "")
            console.print(line, soft_wrap=True)
        previous = step
        if step.lasso_back_to is not None:
            if step.lasso_back_to == -1:
                console.print(Text(f"State {index + 1}: Stuttering", style="bold magenta"))
            else:
                console.print(Text(f"Back to state {step.lasso_back_to}", style="bold magenta"))
        console.print()


def print_result(result: CheckResult, console: Console, *, show_trace: bool = True) -> None:
    """Everything ``tlacheck check`` prints on stdout for a finished run."""
    for line in verdict_lines(result):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if result.outcome != "error":
        # TLC's warnings (e.g. about symmetry and liveness) travel in the message.
        for line in result.message.splitlines():
            if line.startswith("Warning: "):
                console.print(line, markup=False, highlight=False, soft_wrap=True)
    if show_trace:
        print_trace(result, console)
    # Like TLC: no statistics when it stopped before exploring (assumptions, parse, config).
    explored = result.outcome not in ("error", "assumption_failed") or result.states_generated > 0
    if explored:
        lines = stats_lines(result)
        for line in lines if result.outcome != "error" else lines[:1]:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"[dim]Finished in {result.elapsed_s:.2f}s (backend: {escape(result.backend)}).[/dim]",
        highlight=False,
    )


class ProgressLine:
    """A live one-line status on stderr, shown once a run has lasted `delay_s`.

    Use as a context manager and pass the instance as the backend's progress callback.
    Nothing is drawn when the console is not a terminal.
    """

    def __init__(self, console: Console, label: str = "checking", delay_s: float = 0.5) -> None:
        self.console = console
        self.label = label
        self.delay_s = delay_s
        self._started = time.monotonic()
        self._live: Live | None = None

    def __enter__(self) -> ProgressLine:
        self._started = time.monotonic()
        return self

    def __call__(self, report: Any) -> None:
        if not self.console.is_terminal or time.monotonic() - self._started < self.delay_s:
            return
        text = Text.assemble(
            (f"{self.label} ", "bold cyan"),
            f"{report.distinct:,} distinct, {report.generated:,} generated, "
            f"{report.queue:,} on queue, depth {report.depth}, {report.elapsed_s:.1f}s",
        )
        if self._live is None:
            self._live = Live(text, console=self.console, transient=True, refresh_per_second=4)
            self._live.start()
        else:
            self._live.update(text)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
