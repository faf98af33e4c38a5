"""Messages and exit codes of the built-in checker: values in TLA+ syntax, TLC's exit code for a
failed Assert, the behaviour up to an evaluation error, no repeated locations, --version."""

from __future__ import annotations

from pathlib import Path

import pytest

import tlacheck
from tlacheck.builtin import run
from tlacheck.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "messages"


def test_a_failed_assert_exits_like_tlc_with_the_behaviour_up_to_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    r = run(DATA / "AssertFails.tla")
    assert (r.outcome, r.error_kind, r.exit_code) == ("error", "assert", 14)
    first, second = r.message.splitlines()[:2]
    assert first == "The first argument of Assert evaluated to FALSE; the second argument was:"
    assert second.startswith('<<"bad", 2, {0, 1}, NULL, [a |-> 1]>>')
    assert [s.state for s in r.trace] == [{"x": "0"}, {"x": "1"}]
    assert main(["check", str(DATA / "AssertFails.tla"), "--backend", "builtin"]) == 14
    out = capsys.readouterr().out
    assert "Error: The behavior up to this point is:" in out and "State 2: <Next>" in out


def test_choose_names_its_location_once() -> None:
    r = run(DATA / "ChooseFails.tla")
    assert r.outcome == "error" and r.exit_code == 255
    assert r.message.count("ChooseFails.tla:6:14") == 1
    assert len(r.trace) == 1  # the state whose successors failed to evaluate


def test_values_in_messages_are_tla_syntax() -> None:
    r = run(DATA / "InfiniteSet.tla")
    assert r.outcome == "error"
    assert "(Nat \\cup {NULL})" in r.message
    assert "frozenset" not in r.message and "mv(" not in r.message
    assert [s.state["x"] for s in r.trace] == ["<<0, 0>>", "<<1, 0>>", "<<2, 0>>"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"tlacheck {tlacheck.__version__}"
    assert tlacheck.__version__ and tlacheck.__version__[0].isdigit()


def test_tla_value_prints_like_tlc() -> None:
    from tlacheck.builtin.values import FV
    from tlacheck.canonical import Fn, ModelValue
    from tlacheck.render import tla_value

    null = ModelValue("NULL")
    assert tla_value(frozenset({3, 0, 2, 1})) == "{0, 1, 2, 3}"
    assert tla_value(null) == "NULL"
    assert tla_value(Fn([(1, 1), (2, 2)])) == "<<1, 2>>"
    assert tla_value(Fn([("b", "x"), ("a", 1)])) == '[a |-> 1, b |-> "x"]'
    assert tla_value(Fn([(2, 3), (3, 4)])) == "(2 :> 3 @@ 3 :> 4)"
    assert tla_value(FV({1: frozenset({null}), 2: True})) == "<<{NULL}, TRUE>>"
    assert tla_value(Fn([])) == "<<>>"
    assert tla_value('a"b') == r'"a\"b"'


@pytest.mark.parametrize(
    ("spec", "kind", "code", "states"),
    [("Unassigned", "spec_eval", 75, 1), ("InvariantFails", "invariant_eval", 76, 3)],
)
def test_evaluation_failures_exit_like_tlc(spec: str, kind: str, code: int, states: int) -> None:
    r = run(DATA / f"{spec}.tla")
    assert (r.outcome, r.error_kind, r.exit_code) == ("error", kind, code)
    assert len(r.trace) == states  # the behaviour up to the state being expanded / checked
    if spec == "Unassigned":
        assert r.message.startswith(
            "Successor state is not completely specified by action Next of the next-state relation. "
            "The following variable is not defined: y."
        )
