"""CommunityModules / TLCExt in the built-in checker: every native operator against its TLA+
definition.

Each spec under tests/data/community types in the definitions of tlaplus/CommunityModules
(and TLCExt of tlaplus/tlaplus) as `Ref<Op>` and ASSUMEs that the native operator equals the
reference on small inputs; a false ASSUME fails the run. Where TLC's Java override and the
definition disagree (fold order, SelectInSubSeq's index, SetToSeq's order) the spec says so
and checks TLC's behaviour.

Optional: with COMMUNITY_MODULES_DIR pointing at a CommunityModules checkout, the module's
own tests/*Tests.tla also run against the bundled modules (without the ASSUMEs that need
AssertError, IOExec or a LET INSTANCE).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tlacheck.builtin import run
from tlacheck.builtin.community import NATIVE, OPERATORS, native_name
from tlacheck.builtin.syntax import BUNDLED_DIR

DATA = Path(__file__).resolve().parents[2] / "data" / "community"
REF_SPECS = ["SetsRef", "SequencesExtRef", "GraphsRef", "MiscRef"]

# Operators TLC implements only in Java with effects outside the value world (files,
# processes, the trace being explored, lazily evaluated arguments): the built-in checker
# reports them as unsupported when evaluated.
UNSUPPORTED = {
    ("TLCExt", "AssertError"),
    ("TLCExt", "Trace"),
    ("TLCExt", "CounterExample"),
    ("TLCExt", "ToTrace"),
    ("TLCExt", "TLCEvalDefinition"),
    ("IOUtils", "IOSerialize"),
    ("IOUtils", "IODeserialize"),
    ("IOUtils", "Serialize"),
    ("IOUtils", "Deserialize"),
    ("IOUtils", "IOExec"),
    ("IOUtils", "IOEnvExec"),
    ("IOUtils", "IOExecTemplate"),
    ("IOUtils", "IOEnvExecTemplate"),
}
INFIX = {("Bitwise", "And"): "&", ("Bitwise", "Or"): "|", ("Bitwise", "Xor"): "^^"}


@pytest.mark.parametrize("name", REF_SPECS)
def test_native_operators_equal_their_definitions(name: str) -> None:
    r = run(DATA / f"{name}.tla")
    assert r.outcome == "ok", r.message


def test_a_wrong_expectation_fails_the_reference_run(tmp_path: Path) -> None:
    src = (DATA / "MiscRef.tla").read_text().replace("MODULE MiscRef", "MODULE Wrong")
    src = src.replace("ASSUME AssertEq(1, 2) = FALSE", "ASSUME AssertEq(1, 2) = TRUE")
    (tmp_path / "Wrong.tla").write_text(src)
    (tmp_path / "Wrong.cfg").write_text("")
    r = run(tmp_path / "Wrong.tla")
    assert r.outcome == "assumption_failed"


def _ref_text() -> str:
    return "\n".join((DATA / f"{n}.tla").read_text() for n in REF_SPECS)


def test_every_native_operator_is_checked_against_its_definition() -> None:
    text = _ref_text()
    missing = []
    for module, ops in OPERATORS.items():
        for op in ops:
            if (module, op) in UNSUPPORTED:
                continue
            sym = INFIX.get((module, op))
            used = f" {sym} " in text if sym else re.search(rf"(?<!\w){re.escape(op)}\b(?!\s*==)", text)
            if not used:
                missing.append(f"{module}!{op}")
    assert not missing


def test_bundled_modules_call_registered_natives() -> None:
    for path in sorted(BUNDLED_DIR.glob("*.tla")):
        for name in re.findall(r"\bCM_\w+", path.read_text()):
            assert name in NATIVE, f"{path.name}: {name}"
    for module, ops in OPERATORS.items():
        text = (BUNDLED_DIR / f"{module}.tla").read_text()
        for op in ops:
            assert native_name(module, op) in text, f"{module}!{op} is not defined in {module}.tla"


def _spec(tmp_path: Path, name: str, body: str, files: dict[str, str] | None = None) -> Path:
    (tmp_path / f"{name}.tla").write_text(f"---- MODULE {name} ----\n{body}\n====\n")
    (tmp_path / f"{name}.cfg").write_text("")
    for fname, text in (files or {}).items():
        (tmp_path / fname).write_text(text)
    return tmp_path / f"{name}.tla"


def test_operators_are_in_scope_only_where_their_module_is(tmp_path: Path) -> None:
    r = run(_spec(tmp_path, "NoExt", "EXTENDS Integers\nASSUME SumSet({1, 2}) = 3"))
    assert r.outcome == "error" and "SumSet" in r.message
    r = run(
        _spec(
            tmp_path,
            "Ext",
            "EXTENDS Integers, FiniteSetsExt\nASSUME SumSet({1, 2}) = 3 /\\ Range(<<4>>) = {4}",
        )
    )
    assert r.outcome == "ok", r.message
    r = run(
        _spec(tmp_path, "Inst", "EXTENDS Integers\nF == INSTANCE FiniteSetsExt\nASSUME F!SumSet({1, 2}) = 3")
    )
    assert r.outcome == "ok", r.message


def test_a_module_beside_the_spec_takes_precedence(tmp_path: Path) -> None:
    own = "---- MODULE Functions ----\nRange(f) == {42}\n====\n"
    r = run(_spec(tmp_path, "Own", "EXTENDS Functions\nASSUME Range(<<1>>) = {42}", {"Functions.tla": own}))
    assert r.outcome == "ok", r.message


def test_unsupported_operators_say_so(tmp_path: Path) -> None:
    r = run(_spec(tmp_path, "Exec", 'EXTENDS IOUtils\nASSUME IOExec(<<"true">>).exitValue = 0'))
    assert r.outcome == "error" and r.error_kind == "unsupported"
    assert "IOUtils!IOExec is not supported" in r.message


def test_fold_order_follows_tlcs_overrides(tmp_path: Path) -> None:
    body = """EXTENDS Sequences, SequencesExt, BagsExt
Snd(acc, x) == Append(acc, x)
ASSUME FoldSet(LAMBDA x, acc : Append(acc, x), <<>>, {"b", "a", "c"}) = <<"a", "b", "c">>
ASSUME FoldFunction(LAMBDA x, acc : acc \\o <<x>>, <<>>, <<3, 1, 2>>) = <<3, 1, 2>>
ASSUME FoldBag(Snd, <<>>, (1 :> 2 @@ 2 :> 1)) = <<1, 1, 2>>
ASSUME FoldLeft(Snd, <<>>, <<3, 1>>) = <<3, 1>> /\\ FoldRight(LAMBDA x, acc : Append(acc, x), <<3, 1>>, <<>>) = <<1, 3>>
ASSUME SetToSeq({"b", "a"}) = <<"a", "b">>"""
    r = run(_spec(tmp_path, "Order", body))
    assert r.outcome == "ok", r.message


UPSTREAM = os.environ.get("COMMUNITY_MODULES_DIR")
UPSTREAM_TESTS = [
    "BagsExt",
    "Bitwise",
    "Combinatorics",
    "DyadicRationals",
    "FiniteSetsExt",
    "Folds",
    "Functions",
    "Graphs",
    "Relation",
    "SequencesExt",
    "UndirectedGraphs",
]
_DROP = ("AssertError", "INSTANCE", "IOExec", "CounterExample", "IsInjective([a:")


def _without_unsupported(src: str) -> str:
    """The module of a CommunityModules tests/*Tests.tla without its leading CONFIG block and
    without the ASSUMEs the built-in checker cannot evaluate (AssertError, LET INSTANCE,
    IOExec; IsInjective of a set of records, a quirk of TLC's override)."""
    m = re.search(r"^-+\s*MODULE", src, flags=re.M)
    if src.lstrip().startswith("---- CONFIG") and m:
        src = src[src.find("=====") :]
        src = src[src.find("\n") + 1 :]
    units = re.split(r"(?m)^(?=ASSUME|[A-Za-z_]\w*\s*(?:\(|==)|=====|RECURSIVE|LOCAL|----)", src)
    return "".join(u for u in units if not (u.startswith("ASSUME") and any(d in u for d in _DROP)))


@pytest.mark.skipif(not UPSTREAM, reason="COMMUNITY_MODULES_DIR (a CommunityModules checkout) not set")
@pytest.mark.parametrize("module", UPSTREAM_TESTS)
def test_upstream_tests_pass(module: str, tmp_path: Path) -> None:
    src = (Path(str(UPSTREAM)) / "tests" / f"{module}Tests.tla").read_text()
    (tmp_path / f"{module}Tests.tla").write_text(_without_unsupported(src))
    (tmp_path / f"{module}Tests.cfg").write_text("")
    r = run(tmp_path / f"{module}Tests.tla")
    assert r.outcome == "ok", r.message


@pytest.mark.parametrize("workers", [1, 2])
def test_community_operators_in_actions_and_invariants(workers: int) -> None:
    r = run(DATA / "Orderings.tla", workers=workers)
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 65, 65, 5), r.message
