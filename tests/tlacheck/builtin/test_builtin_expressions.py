"""Expression semantics of the built-in checker, each checked as an ASSUME of a tiny module.

A TRUE assumption lets the (behaviour-less) model pass; a FALSE one must fail it, so every
case below is evaluated and its truth value matters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlacheck.builtin import run

HEADER = "EXTENDS Naturals, Integers, Sequences, FiniteSets, TLC, Bags\n"

DEFS = r"""
RECURSIVE Fact(_)
Fact(n) == IF n = 0 THEN 1 ELSE n * Fact(n - 1)
fib[i \in 0..10] == IF i < 2 THEN i ELSE fib[i - 1] + fib[i - 2]
Apply(F(_), x) == F(x)
Twice(F(_, _), x) == F(x, x)
a ++ b == a + b + 1
r == [a |-> 1, b |-> <<2, 3>>]
f == [i \in 1..3 |-> i * i]
"""

TRUE_CASES = [
    # integers: TLC's \div and % round toward -infinity; booleans are not integers
    r"7 \div 2 = 3 /\ (-7) \div 2 = -4 /\ (-7) % 2 = 1 /\ 7 % 3 = 1 /\ -7 \div 2 = -3",
    r"2^10 = 1024 /\ -3 + 5 = 2",
    r"(TRUE = TRUE) /\ ~(FALSE) /\ (FALSE => TRUE) /\ (TRUE <=> TRUE)",
    # sets
    r"1..3 = {3, 2, 1} /\ {} = 1..0",
    r"{1, 2} \cup {3} = 1..3 /\ {1, 2} \cap {2, 3} = {2} /\ {1, 2} \ {1} = {2}",
    r"{1} \subseteq {1, 2} /\ ~({3} \subseteq {1, 2})",
    r"SUBSET {1, 2} = {{}, {1}, {2}, {1, 2}} /\ UNION {{1}, {2, 3}} = 1..3",
    r"{x \in 1..6 : x % 2 = 0} = {2, 4, 6} /\ {x * 2 : x \in 1..3} = {2, 4, 6}",
    r"{1, 2} \X {3} = {<<1, 3>>, <<2, 3>>} /\ Cardinality({1, 2} \X {3, 4} \X {5}) = 4",
    r"{<<a, b>> \in {1, 2} \X {1, 2} : a < b} = {<<1, 2>>}",
    r"Cardinality(SUBSET (1..4)) = 16 /\ IsFiniteSet(1..3)",
    # lazy membership in infinite sets
    r'3 \in Nat /\ -3 \notin Nat /\ -3 \in Int /\ <<1, 2>> \in Seq(Nat) /\ "s" \in STRING',
    r"{1, 2} \in SUBSET Nat /\ [i \in 1..2 |-> 0] \in [1..2 -> Nat]",
    r"[a |-> 1, b |-> 2] \in [a : Nat, b : {2}] /\ 5 \in Nat \ {0}",
    # functions, records, tuples, sequences are all functions
    r"<<1, 2>> = [i \in 1..2 |-> i] /\ <<>> = [x \in {} |-> 1]",
    r'[a |-> 1, b |-> 2] = [b |-> 2, a |-> 1] /\ r.b[2] = 3 /\ DOMAIN r = {"a", "b"}',
    r"f[3] = 9 /\ DOMAIN f = 1..3",
    r"[f EXCEPT ![2] = 0] = <<1, 0, 9>> /\ [f EXCEPT ![2] = @ + 1] = <<1, 5, 9>>",
    r"[r EXCEPT !.b[1] = 7] = [a |-> 1, b |-> <<7, 3>>] /\ [r EXCEPT !.a = @ * 10].a = 10",
    r"(1 :> 2 @@ 3 :> 4)[3] = 4 /\ (1 :> 2 @@ 1 :> 5)[1] = 2",
    r"[g \in [{1, 2} -> {0, 1}] |-> 0] # <<>> /\ Cardinality([{1, 2} -> {0, 1}]) = 4",
    r"Len(<<1, 2, 3>>) = 3 /\ Append(<<1>>, 2) = <<1, 2>> /\ Head(<<4, 5>>) = 4 /\ Tail(<<4, 5>>) = <<5>>",
    r"<<1>> \o <<2, 3>> = <<1, 2, 3>> /\ SubSeq(<<1, 2, 3, 4>>, 2, 3) = <<2, 3>>",
    r"SelectSeq(<<1, 2, 3, 4>>, LAMBDA x : x % 2 = 0) = <<2, 4>>",
    r'"ab" \o "cd" = "abcd" /\ Len("abc") = 3',
    # operators: recursion, higher order, LAMBDA, user infix, LET, CASE, CHOOSE
    r"Fact(5) = 120 /\ fib[10] = 55",
    r"Apply(LAMBDA x : x + 1, 1) = 2 /\ Twice(+, 4) = 8 /\ 1 ++ 1 = 3",
    r"LET sq(x) == x * x  y == 3 IN sq(y) = 9",
    r"CASE 1 > 2 -> FALSE [] 2 > 1 -> TRUE [] OTHER -> FALSE",
    r"(CHOOSE x \in 1..10 : x > 4) = 5 /\ (CHOOSE x \in {3, 1, 2} : TRUE) = 1",
    r"\A x \in 1..3 : \E y \in 1..3 : y = x /\ ~\E x \in {} : TRUE",
    # {0, 1} and BOOLEAN are different sets even though Python thinks {0, 1} == {False, True}
    r"(CHOOSE x \in {0, 1} : TRUE) = 0 /\ (CHOOSE b \in BOOLEAN : ~b) = FALSE",
    r"\A <<a, b>> \in {<<1, 2>>, <<2, 3>>} : b = a + 1",
    # TLC module
    r'Permutations({1, 2}) = {<<1, 2>>, <<2, 1>>} /\ ToString(<<1, "a">>) = "<<1, \"a\">>"',
    r'Cardinality(Permutations(1..3)) = 6 /\ PrintT("hello")',
    # Bags
    r"BagToSet(SetToBag({1, 2})) = {1, 2} /\ CopiesIn(1, SetToBag({1}) (+) SetToBag({1})) = 2",
]

FALSE_CASES = [
    r"1..3 = {1, 2}",
    r"TRUE = FALSE",
    r"<<1, 2>> = <<2, 1>>",
    r"[a |-> 1] = [a |-> 2]",
    r"\E x \in 1..3 : x > 3",
    r"{1} \subseteq {}",
]


def _module(tmp_path: Path, assumption: str) -> tuple[Path, Path]:
    spec = tmp_path / "E.tla"
    spec.write_text(f"---- MODULE E ----\n{HEADER}{DEFS}\nASSUME A1 == {assumption}\n====\n")
    cfg = tmp_path / "E.cfg"
    cfg.write_text("\n")
    return spec, cfg


@pytest.mark.parametrize("expr", TRUE_CASES)
def test_true_expression(tmp_path: Path, expr: str) -> None:
    r = run(*_module(tmp_path, expr))
    assert r.outcome == "ok", r.message


@pytest.mark.parametrize("expr", FALSE_CASES)
def test_false_expression(tmp_path: Path, expr: str) -> None:
    r = run(*_module(tmp_path, expr))
    assert r.outcome == "assumption_failed", r.message
    assert r.violated == "A1"


def test_runtime_error_is_reported(tmp_path: Path) -> None:
    r = run(*_module(tmp_path, "Head(<<>>) = 1"))
    assert (r.outcome, r.error_kind) == ("error", "runtime")
    assert "Head" in r.message
