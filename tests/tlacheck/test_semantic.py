"""SANY-like semantic checks before exploring: unknown identifiers anywhere (also in unused
definitions), a module named unlike its file; both exit 150 with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlacheck.builtin import run

DATA = Path(__file__).resolve().parents[1] / "data" / "semantic"


@pytest.mark.parametrize(
    ("spec", "where", "name"),
    [
        ("UnusedUndefined", "UnusedUndefined.tla:6:34", "undefinedThing"),
        ("UsedUndefined", "UsedUndefined.tla:5:24", "limit"),
        ("NoExtends", "NoExtends.tla:6:9", "Len"),  # Len needs EXTENDS Sequences
    ],
)
def test_an_unknown_identifier_is_rejected_before_exploring(spec: str, where: str, name: str) -> None:
    r = run(DATA / f"{spec}.tla")
    assert (r.outcome, r.error_kind, r.exit_code) == ("error", "semantic", 150)
    assert f"Unknown operator: `{name}'" in r.message and where in r.message
    assert r.states_generated == 0


def test_a_module_named_unlike_its_file_is_rejected() -> None:
    r = run(DATA / "Misnamed.tla")
    assert (r.outcome, r.exit_code) == ("error", 150)
    assert "SomethingElse" in r.message and "Misnamed.tla" in r.message


def test_binders_locals_inner_modules_and_instances_are_in_scope() -> None:
    r = run(DATA / "Scopes.tla")
    assert r.outcome == "ok", r.message


def test_named_assumptions_and_theorems_are_defined_names() -> None:
    from tlacheck.builtin.semantic import check_spec

    check_spec(DATA / "NamedAssumptions.tla")  # ASSUME Both == NPos /\ Thm: no semantic error
