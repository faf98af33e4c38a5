"""Parse TLC's ``-tool`` output into framed messages and a CheckResult.

With ``-tool`` TLC frames every message it prints through ``tlc2.output.MP``::

    @!@!@STARTMSG 2110:1 @!@!@
    Invariant Inv is violated.
    @!@!@ENDMSG 2110 @!@!@

The first number is the message code (``tlc2.output.EC``), the second the message class
(0 none, 1 error, 2 TLC bug, 3 warning, 4 state). SANY's own output (parse and semantic
errors) is printed unframed between ``2220`` and ``2219``; it is kept as raw text.
Codes and texts below follow EC.java / MP.java of TLC 1.7.4 (rev 5a47802) and current
master, which differ only where noted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tlacheck.result import CheckResult, Outcome, TraceStep

DELIM = "@!@!@"
_START = re.compile(r"^@!@!@STARTMSG (-?\d+):(\d+) @!@!@$")
_END = re.compile(r"^@!@!@ENDMSG (-?\d+) @!@!@$")

# Message classes (MP.NONE/ERROR/TLCBUG/WARNING/STATE).
CLASS_NONE, CLASS_ERROR, CLASS_BUG, CLASS_WARNING, CLASS_STATE = 0, 1, 2, 3, 4

# Message codes (tlc2.output.EC) this module acts on.
GENERAL = 1000
ASSUMPTION_FALSE = 2104
ASSUMPTION_EVALUATION_ERROR = 2105
INVARIANT_VIOLATED_INITIAL = 2107
PROPERTY_VIOLATED_INITIAL = 2108
INVARIANT_VIOLATED_BEHAVIOR = 2110
ACTION_PROPERTY_VIOLATED_BEHAVIOR = 2112
DEADLOCK_REACHED = 2114
TEMPORAL_PROPERTY_VIOLATED = 2116
ERROR_STATE = 2120
BEHAVIOR_UP_TO_THIS_POINT = 2121
BACK_TO_STATE = 2122
NESTED_EXPRESSION = 2103
VALUE_ASSERT_FAILED = 2132
PARSING_FAILED2 = 2171
STARTING = 2185
FINISHED = 2186
INIT_GENERATED1 = 2190
INIT_GENERATED2 = 2191
SUCCESS = 2193
SEARCH_DEPTH = 2194
STATS = 2199
PROGRESS_STATS = 2200
STATE_PRINT1 = 2216
STATE_PRINT2 = 2217
STATE_PRINT3 = 2218
COUNTER_EXAMPLE = 2264
POSTCONDITION_FALSE = 2404
POSTCONDITION_EVALUATION_ERROR = 2405
PARSING_FAILED = 3002

# Error-class messages that accompany a primary error rather than being one.
_ACCOMPANYING = {BEHAVIOR_UP_TO_THIS_POINT, COUNTER_EXAMPLE, NESTED_EXPRESSION, ERROR_STATE}

# EC.ExitStatus.errorConstantToExitStatus maps 2222-2245, 2272-2274 and 2280-2281 to exit 151;
# the config-file syntax codes CFG_* (5001-5006) are config errors too (TLC exits 255 for them).
_CONFIG_CODES = frozenset([*range(2222, 2246), 2272, 2273, 2274, 2280, 2281, *range(5001, 5007)])
_PARSE_CODES = frozenset({PARSING_FAILED, PARSING_FAILED2})
# errorConstantToExitStatus: FAILURE_SPEC_EVAL (75), FAILURE_SAFETY_EVAL (76), FAILURE_LIVENESS_EVAL (77)
_EVAL_FAILURE_CODES = {
    2109: "spec_eval",  # TLC_STATE_NOT_COMPLETELY_SPECIFIED_NEXT
    2115: "spec_eval",  # TLC_STATES_AND_NO_NEXT_ACTION
    2147: "spec_eval",  # TLC_FINGERPRINT_EXCEPTION
    2111: "invariant_eval",  # TLC_INVARIANT_EVALUATION_FAILED
    2146: "invariant_eval",  # TLC_INVARIANT_VIOLATED_LEVEL
    2253: "liveness_eval",  # TLC_LIVE_FORMULA_TAUTOLOGY
}
_ASSUMPTION_CODES = frozenset(
    {ASSUMPTION_FALSE, ASSUMPTION_EVALUATION_ERROR, POSTCONDITION_FALSE, POSTCONDITION_EVALUATION_ERROR}
)


@dataclass(frozen=True)
class Message:
    """One framed TLC message, or (code None) a run of unframed output lines."""

    code: int | None
    cls: int
    body: str

    @property
    def is_error(self) -> bool:
        return self.code is not None and self.cls in (CLASS_ERROR, CLASS_BUG)


class MessageReader:
    """Incremental ``-tool`` framing parser: feed lines, get complete messages back."""

    def __init__(self) -> None:
        self._code: int | None = None
        self._cls = 0
        self._body: list[str] = []

    def feed(self, line: str) -> Message | None:
        line = line.rstrip("\r\n")
        if self._code is None:
            start = _START.match(line)
            if start:
                self._code, self._cls, self._body = int(start.group(1)), int(start.group(2)), []
                return None
            return Message(None, CLASS_NONE, line)
        end = _END.match(line)
        if end and int(end.group(1)) == self._code:
            msg = Message(self._code, self._cls, "\n".join(self._body))
            self._code, self._body = None, []
            return msg
        self._body.append(line)
        return None

    def close(self) -> Message | None:
        """Whatever is left when the stream ends (a truncated message), as raw text."""
        if self._code is None or not self._body:
            return None
        msg = Message(None, CLASS_NONE, "\n".join(self._body))
        self._code, self._body = None, []
        return msg


def read_messages(lines: Iterable[str]) -> Iterator[Message]:
    reader = MessageReader()
    for line in lines:
        msg = reader.feed(line)
        if msg is not None:
            yield msg
    tail = reader.close()
    if tail is not None:
        yield tail


def parse_messages(text: str) -> list[Message]:
    return list(read_messages(text.splitlines()))


# --- individual message bodies ----------------------------------------------------------

_INT = r"(-?[\d,]+)"
_STATS = re.compile(rf"{_INT} states generated, {_INT} distinct states found, {_INT} states left on queue\.")
_PROGRESS = re.compile(
    rf"Progress\((-?\d+)\) at [^:]*:\d\d:\d\d: {_INT} states generated(?: \([^)]*\))?, "
    rf"{_INT} distinct states found(?: \([^)]*\))?, {_INT} states left on queue\."
)
_DEPTH = re.compile(r"The depth of the complete state graph search is (-?\d+)\.")
_FINISHED = re.compile(r"Finished in (\d+)ms")
_INVARIANT = re.compile(r"Invariant (.+?) is violated")
_PROPERTY_INITIAL = re.compile(r"Property (.+?) is violated by the initial state")
_ACTION_PROPERTY = re.compile(r"Action property (.+?) is violated\.")
_ASSUMPTION = re.compile(
    r"(?:Assumption|Evaluating assumption|Postcondition|Evaluating postcondition) (.+?) (?:is false|failed|at )"
)
_TEMPORAL_ONE = re.compile(r"Temporal property (.+?) was violated\.")
_TEMPORAL_MANY = re.compile(r"Temporal properties (.+) were violated\.")
_STATE_HEADER = re.compile(r"^(\d+): (.*)$")
_ACTION_INFO = re.compile(r"^<(.*?)(?: line \d+, col \d+ to line \d+, col \d+ of module \S+)?>$")


def _num(text: str) -> int:
    # Progress numbers are formatted with thousands separators ("1,234").
    return int(text.replace(",", ""))


@dataclass
class Progress:
    """A TLC progress report (message 2200), shaped like the built-in checker's Progress."""

    distinct: int
    generated: int
    queue: int
    depth: int
    elapsed_s: float


def parse_progress(body: str, elapsed_s: float = 0.0) -> Progress | None:
    m = _PROGRESS.search(body)
    if not m:
        return None
    return Progress(
        distinct=_num(m.group(3)),
        generated=_num(m.group(2)),
        queue=_num(m.group(4)),
        depth=int(m.group(1)),
        elapsed_s=elapsed_s,
    )


def action_name(info: str) -> str:
    """``<Next line 12, col 5 to line 14, col 20 of module M>`` -> ``Next``.

    Parameterised actions keep their arguments as TLC prints them (``Send(1,2)``).
    """
    info = info.strip()
    m = _ACTION_INFO.match(info)
    return m.group(1) if m else info


def parse_state_vars(text: str) -> dict[str, str]:
    """Variables of a printed state: ``/\\ x = 1`` lines, or ``x = 1`` for one variable.

    TLC pretty-prints long values over several indented lines; those are joined with
    single spaces so a value reads as one TLA+ expression.
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    entries: list[list[str]] = []
    for ln in lines:
        if ln.startswith("/\\ ") or not entries:
            entries.append([ln[3:] if ln.startswith("/\\ ") else ln])
        else:
            entries[-1].append(ln.strip())
    state: dict[str, str] = {}
    for parts in entries:
        name, sep, value = " ".join(p.strip() for p in parts).partition(" = ")
        if sep:
            state[name.strip()] = value.strip()
    return state


def parse_state_message(body: str) -> tuple[int, str, dict[str, str]]:
    """A 2217/2216 body ``N: <info>\\n<state>`` -> (N, action name, variables)."""
    header, _, rest = body.partition("\n")
    m = _STATE_HEADER.match(header)
    if not m:
        return 0, "", parse_state_vars(body)
    return int(m.group(1)), action_name(m.group(2)), parse_state_vars(rest)


def temporal_names(body: str) -> list[str]:
    """Property names in a 2116 body; TLC 1.7.4 prints none ("Temporal properties were violated.")."""
    one = _TEMPORAL_ONE.search(body)
    if one:
        return [one.group(1)]
    many = _TEMPORAL_MANY.search(body)
    if many:
        return [n.strip() for n in re.split(r",\s*(?:and\s+)?|\s+and\s+", many.group(1)) if n.strip()]
    return []


# --- whole-run interpretation -----------------------------------------------------------


@dataclass
class TLCRun:
    """What a TLC ``-tool`` transcript says, accumulated message by message."""

    messages: list[Message] = field(default_factory=list)
    errors: list[Message] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)
    success: bool = False
    stats: tuple[int, int, int] | None = None
    depth: int | None = None
    last_progress: Progress | None = None
    finished_ms: int | None = None

    def add(self, msg: Message) -> None:
        self.messages.append(msg)
        if msg.code is None:
            self.raw.append(msg.body)
            return
        code, body = msg.code, msg.body
        if msg.is_error and code not in _ACCOMPANYING:
            self.errors.append(msg)
        elif msg.cls == CLASS_WARNING:
            self.warnings.append(msg)
        if code == SUCCESS:
            self.success = True
        elif code == STATS and (m := _STATS.search(body)):
            self.stats = (_num(m.group(1)), _num(m.group(2)), _num(m.group(3)))
        elif code == SEARCH_DEPTH and (m := _DEPTH.search(body)):
            self.depth = int(m.group(1))
        elif code == PROGRESS_STATS:
            self.last_progress = parse_progress(body) or self.last_progress
        elif code == FINISHED and (m := _FINISHED.search(body)):
            self.finished_ms = int(m.group(1))
        elif code in (STATE_PRINT2, STATE_PRINT1) and msg.cls == CLASS_STATE:
            num, action, state = parse_state_message(body)
            if num == 1 or not self.trace:
                action = "Initial predicate"
            self.trace.append(TraceStep(state=state, action=action))
        elif code == BACK_TO_STATE and self.trace:
            m = _STATE_HEADER.match(body.partition("\n")[0])
            if m:
                self.trace[-1].lasso_back_to = int(m.group(1))
        elif code == STATE_PRINT3 and self.trace:
            self.trace[-1].lasso_back_to = -1
        elif code == INVARIANT_VIOLATED_INITIAL:
            # The violating initial state is part of the message itself.
            _, _, state_text = body.partition("\n")
            self.trace = [TraceStep(state=parse_state_vars(state_text), action="Initial predicate")]

    def result(self, exit_code: int | None = None) -> CheckResult:
        """The CheckResult for this run; `exit_code` is only a fallback when TLC printed no verdict."""
        outcome, violated, kind = self._verdict(exit_code)
        generated, distinct, left = self.stats or (0, 0, 0)
        if self.stats is None and self.last_progress is not None:
            p = self.last_progress
            generated, distinct, left = p.generated, p.distinct, p.queue
        depth = self.depth
        if depth is None:
            # TLC prints the depth only on success; the last progress report carries the level.
            depth = self.last_progress.depth if self.last_progress else len(self.trace)
        return CheckResult(
            outcome=outcome,
            violated=violated,
            states_generated=generated,
            distinct_states=distinct,
            depth=max(depth, 0),
            trace=list(self.trace),
            message=self._message(outcome, exit_code),
            elapsed_s=(self.finished_ms or 0) / 1000.0,
            backend="tlc",
            error_kind=kind,
            states_left_on_queue=left,
        )

    def _verdict(self, exit_code: int | None) -> tuple[Outcome, str | None, str | None]:
        if self.errors:
            first = self.errors[0]
            code, body = first.code, first.body
            if code in (INVARIANT_VIOLATED_BEHAVIOR, INVARIANT_VIOLATED_INITIAL):
                m = _INVARIANT.search(body)
                return "invariant_violated", m.group(1) if m else None, None
            if code == ACTION_PROPERTY_VIOLATED_BEHAVIOR:
                m = _ACTION_PROPERTY.search(body)
                return "action_property_violated", m.group(1) if m else None, None
            if code == TEMPORAL_PROPERTY_VIOLATED:
                names = temporal_names(body)
                return "property_violated", ", ".join(names) or None, None
            if code == PROPERTY_VIOLATED_INITIAL:
                m = _PROPERTY_INITIAL.search(body)
                return "property_violated", m.group(1) if m else None, None
            if code == DEADLOCK_REACHED:
                return "deadlock", None, None
            if code in _ASSUMPTION_CODES:
                m = _ASSUMPTION.search(body)
                return "assumption_failed", m.group(1) if m else None, None
            if code in _PARSE_CODES:
                return "error", None, "parse"
            if code in _CONFIG_CODES:
                return "error", None, "config"
            if code == VALUE_ASSERT_FAILED:
                return "error", None, "assert"
            if code in _EVAL_FAILURE_CODES:
                return "error", None, _EVAL_FAILURE_CODES[code]
            return "error", None, "runtime"
        if self.success:
            return "ok", None, None
        # No verdict printed: trust the exit code only for the error class it names.
        if exit_code == 150:
            return "error", None, "parse"
        if exit_code == 151:
            return "error", None, "config"
        return "error", None, "runtime"

    def _message(self, outcome: Outcome, exit_code: int | None) -> str:
        parts: list[str] = []
        if self.errors:
            parts.extend(m.body.strip() for m in self.errors)
            if self.errors[0].code in _PARSE_CODES:
                sany = "\n".join(self.raw).strip()
                if sany:
                    parts.append(sany)
            nested = [m.body.strip() for m in self.messages if m.code == NESTED_EXPRESSION]
            parts.extend(nested)
        elif outcome == "ok":
            parts.append("Model checking completed. No error has been found.")
        else:
            tail = "\n".join(self.raw[-20:]).strip()
            parts.append(
                f"TLC ended without a verdict (exit code {exit_code})." + (f"\n{tail}" if tail else "")
            )
        parts.extend(f"Warning: {m.body.strip()}" for m in self.warnings)
        return "\n".join(p for p in parts if p)


def interpret(text: str, exit_code: int | None = None) -> CheckResult:
    """Parse a complete ``-tool`` transcript into a CheckResult."""
    run = TLCRun()
    for msg in parse_messages(text):
        run.add(msg)
    return run.result(exit_code)
