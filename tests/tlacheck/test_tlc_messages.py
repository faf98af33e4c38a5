"""The TLC -tool message parser on the recorded transcripts in tests/data/tlc/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlacheck.result import CheckResult
from tlacheck.tlc_messages import (
    CLASS_ERROR,
    CLASS_STATE,
    MessageReader,
    action_name,
    interpret,
    parse_messages,
    parse_progress,
    parse_state_vars,
    temporal_names,
)

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "data" / "tlc"


def transcript(name: str) -> CheckResult:
    return interpret((TRANSCRIPTS / f"{name}.out").read_text())


def test_framing_splits_messages_and_keeps_unframed_lines() -> None:
    text = (
        "@!@!@STARTMSG 2220:0 @!@!@\nStarting SANY...\n@!@!@ENDMSG 2220 @!@!@\n"
        "Parsing file /x/M.tla\n"
        "@!@!@STARTMSG 2110:1 @!@!@\nInvariant Inv is violated.\n@!@!@ENDMSG 2110 @!@!@\n"
    )
    msgs = parse_messages(text)
    assert [(m.code, m.cls) for m in msgs] == [(2220, 0), (None, 0), (2110, CLASS_ERROR)]
    assert msgs[1].body == "Parsing file /x/M.tla"
    assert msgs[2].body == "Invariant Inv is violated."
    assert msgs[2].is_error and not msgs[0].is_error


def test_reader_is_incremental_and_keeps_a_truncated_message() -> None:
    reader = MessageReader()
    assert reader.feed("@!@!@STARTMSG 2217:4 @!@!@\n") is None
    assert reader.feed("1: <Initial predicate>\n") is None
    tail = reader.close()
    assert tail is not None and tail.code is None and "Initial predicate" in tail.body


def test_ok_transcript() -> None:
    r = transcript("ok")
    assert (r.outcome, r.violated, r.error_kind) == ("ok", None, None)
    assert (r.states_generated, r.distinct_states, r.states_left_on_queue, r.depth) == (4, 4, 0, 4)
    assert r.trace == [] and r.backend == "tlc" and r.exit_code == 0
    assert r.elapsed_s == pytest.approx(0.412)


def test_invariant_transcript() -> None:
    r = transcript("invariant")
    assert (r.outcome, r.violated, r.exit_code) == ("invariant_violated", "Small", 12)
    assert (r.states_generated, r.distinct_states, r.depth) == (3, 3, 3)
    assert [s.action for s in r.trace] == ["Initial predicate", "Next", "Next"]
    assert [s.state for s in r.trace] == [{"x": "0"}, {"x": "1"}, {"x": "2"}]
    assert all(s.lasso_back_to is None for s in r.trace)


def test_deadlock_transcript() -> None:
    r = transcript("deadlock")
    assert (r.outcome, r.violated, r.exit_code) == ("deadlock", None, 11)
    assert r.trace[-1].state == {"x": "2", "y": "0"}
    assert len(r.trace) == 3 and r.message == "Deadlock reached."


def test_action_property_transcript() -> None:
    r = transcript("action_property")
    assert (r.outcome, r.violated, r.exit_code) == ("action_property_violated", "Monotonic", 13)
    assert (r.states_generated, r.distinct_states) == (4, 3)
    assert [s.state["x"] for s in r.trace] == ["0", "1", "2", "0"]


def test_temporal_stuttering_transcript() -> None:
    r = transcript("temporal_stuttering")
    assert (r.outcome, r.exit_code) == ("property_violated", 13)
    # TLC 1.7.4 does not name the violated property.
    assert r.violated is None
    assert len(r.trace) == 1 and r.trace[0].lasso_back_to == -1


def test_temporal_lasso_transcript() -> None:
    r = transcript("temporal_lasso")
    assert r.outcome == "property_violated"
    assert [s.state["x"] for s in r.trace] == ["0", "1"]
    assert [s.lasso_back_to for s in r.trace] == [None, 1]
    assert (r.states_generated, r.distinct_states, r.depth) == (3, 2, 2)


def test_assumption_transcript() -> None:
    r = transcript("assumption")
    assert (r.outcome, r.exit_code) == ("assumption_failed", 10)
    assert r.violated == "line 5, col 8 to line 5, col 12 of module Assume"


def test_parse_error_transcript_carries_sany_output() -> None:
    r = transcript("parse_error")
    assert (r.outcome, r.error_kind, r.exit_code) == ("error", "parse", 150)
    assert r.message.startswith("Parsing or semantic analysis failed.")
    assert "***Parse Error***" in r.message and "line 6, column 1" in r.message


def test_config_error_transcript() -> None:
    r = transcript("config_error")
    assert (r.outcome, r.error_kind, r.exit_code) == ("error", "config", 151)
    assert "NoSuchInvariant" in r.message


def test_error_messages_outrank_a_zero_exit_code() -> None:
    text = "@!@!@STARTMSG 2114:1 @!@!@\nDeadlock reached.\n@!@!@ENDMSG 2114 @!@!@\n"
    assert interpret(text, exit_code=0).outcome == "deadlock"


def test_no_verdict_is_an_error_whatever_the_exit_code() -> None:
    text = "@!@!@STARTMSG 2185:0 @!@!@\nStarting... (x)\n@!@!@ENDMSG 2185 @!@!@\nKilled\n"
    r = interpret(text, exit_code=0)
    assert (r.outcome, r.error_kind, r.exit_code) == ("error", "runtime", 255)
    assert "without a verdict" in r.message and "Killed" in r.message
    assert interpret(text, exit_code=150).error_kind == "parse"


def test_runtime_error_keeps_nested_expression_context() -> None:
    text = (
        "@!@!@STARTMSG 2132:1 @!@!@\nThe first argument of Assert evaluated to FALSE; the second argument was:\n"
        '"boom"\n@!@!@ENDMSG 2132 @!@!@\n'
        "@!@!@STARTMSG 2103:1 @!@!@\nThe error occurred when TLC was evaluating the nested\n"
        "expressions at the following positions:\n0. Line 5, column 9 to line 5, column 30 in M\n"
        "@!@!@ENDMSG 2103 @!@!@\n"
    )
    r = interpret(text, exit_code=14)
    # TLC exits 14 (VIOLATION_ASSERT) for a failed Assert; so does tlacheck.
    assert (r.outcome, r.error_kind, r.exit_code) == ("error", "assert", 14)
    assert '"boom"' in r.message and "Line 5, column 9" in r.message


def test_warnings_are_reported_in_the_message() -> None:
    text = (
        "@!@!@STARTMSG 2401:3 @!@!@\nPlease run the Java VM with -XX:+UseParallelGC.\n@!@!@ENDMSG 2401 @!@!@\n"
        "@!@!@STARTMSG 2193:0 @!@!@\nModel checking completed. No error has been found.\n@!@!@ENDMSG 2193 @!@!@\n"
    )
    r = interpret(text, 0)
    assert r.outcome == "ok" and "Warning: Please run the Java VM" in r.message


def test_initial_state_invariant_violation_has_its_state_as_trace() -> None:
    text = (
        "@!@!@STARTMSG 2107:1 @!@!@\nInvariant TypeOK is violated by the initial state:\n"
        "/\\ x = -1\n/\\ y = {}\n\n@!@!@ENDMSG 2107 @!@!@\n"
    )
    r = interpret(text, 12)
    assert (r.outcome, r.violated) == ("invariant_violated", "TypeOK")
    assert r.trace[0].state == {"x": "-1", "y": "{}"} and r.trace[0].action == "Initial predicate"


def test_depth_falls_back_to_the_last_progress_level() -> None:
    text = (
        "@!@!@STARTMSG 2200:0 @!@!@\nProgress(17) at 2026-01-01 00:00:00: 1,234,567 states generated "
        "(20,000 s/min), 98,765 distinct states found (1,000 ds/min), 4,321 states left on queue.\n"
        "@!@!@ENDMSG 2200 @!@!@\n"
        "@!@!@STARTMSG 2110:1 @!@!@\nInvariant I is violated.\n@!@!@ENDMSG 2110 @!@!@\n"
    )
    r = interpret(text, 12)
    assert (r.states_generated, r.distinct_states, r.states_left_on_queue, r.depth) == (
        1234567,
        98765,
        4321,
        17,
    )


def test_progress_without_rates() -> None:
    p = parse_progress(
        "Progress(2) at 2026-11-22 17:00:00: 3 states generated, 2 distinct states found, 0 states left on queue."
    )
    assert p is not None and (p.depth, p.generated, p.distinct, p.queue) == (2, 3, 2, 0)


@pytest.mark.parametrize(
    ("info", "name"),
    [
        ("<Initial predicate>", "Initial predicate"),
        ("<Next line 12, col 5 to line 14, col 20 of module M>", "Next"),
        ('<Send(1,"a") line 3, col 1 to line 3, col 9 of module Net>', 'Send(1,"a")'),
        ("<Action line 3, col 1 to line 3, col 9 of module Net>", "Action"),
    ],
)
def test_action_names(info: str, name: str) -> None:
    assert action_name(info) == name


def test_multiline_values_are_joined() -> None:
    text = '/\\ msgs = { [type |-> "a", val |-> 1],\n     [type |-> "b", val |-> 2] }\n/\\ n = 2\n'
    assert parse_state_vars(text) == {
        "msgs": '{ [type |-> "a", val |-> 1], [type |-> "b", val |-> 2] }',
        "n": "2",
    }


def test_single_variable_state_has_no_conjunction_prefix() -> None:
    assert parse_state_vars("x = <<1, 2>>\n") == {"x": "<<1, 2>>"}


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ("Temporal properties were violated.\n", []),
        ("Temporal property Live was violated.\n", ["Live"]),
        ("Temporal properties A and B were violated.\n", ["A", "B"]),
        ("Temporal properties A, B, and C were violated.\n", ["A", "B", "C"]),
    ],
)
def test_temporal_property_names_old_and_new_tlc(body: str, names: list[str]) -> None:
    assert temporal_names(body) == names


def test_state_messages_use_the_state_class() -> None:
    msgs = parse_messages((TRANSCRIPTS / "deadlock.out").read_text())
    states = [m for m in msgs if m.code == 2217]
    assert len(states) == 3 and all(m.cls == CLASS_STATE for m in states)


@pytest.mark.parametrize(
    ("code", "kind", "exit_code"),
    [(2109, "spec_eval", 75), (2111, "invariant_eval", 76), (2253, "liveness_eval", 77)],
)
def test_evaluation_failures_keep_tlcs_exit_code(code: int, kind: str, exit_code: int) -> None:
    text = f"@!@!@STARTMSG {code}:1 @!@!@\nsomething failed to evaluate\n@!@!@ENDMSG {code} @!@!@\n"
    r = interpret(text, exit_code=exit_code)
    assert (r.outcome, r.error_kind, r.exit_code) == ("error", kind, exit_code)
