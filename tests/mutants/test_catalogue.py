"""Every catalogued mutant still applies to the shipped SQL: each anchor occurs exactly as often
as its patch says (a refactor of the SQL that silently disabled a mutant fails here, in
`make test`, not only in `ringq verify`)."""

from __future__ import annotations

import pytest

from ringq_proof.mutants import MUTANTS, Mutant, mutant_sql


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_every_anchor_applies(mutant: Mutant) -> None:
    if not (mutant.patches or mutant.derived or mutant.extra_sql):
        assert mutant.client, f"{mutant.name} changes neither SQL nor the client"
        return
    texts = mutant_sql(mutant)  # raises MutantAnchorMissing when an anchor moved
    assert texts


def test_numbers_and_names_are_unique() -> None:
    assert len({m.number for m in MUTANTS}) == len(MUTANTS)
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
