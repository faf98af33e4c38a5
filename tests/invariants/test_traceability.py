"""Every invariant listed in spec/invariants.toml has a SQL check (or says why it cannot).

The `sql` column: "module:function" (a SQL check on a live schema, importable and callable),
"log: <where>" (checked from the execution log in tests), or "n/a: <why>". While the file still
has an empty `sql` value for an invariant, the value ringq.invariants.SQL_COLUMN proposes is
used instead (and printed), so the test checks this module's own list until the column is merged.
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from ringq import invariants

TOML = Path(__file__).resolve().parents[2] / "spec" / "invariants.toml"


def _listed() -> dict[str, dict[str, object]]:
    if not TOML.exists():
        pytest.skip("spec/invariants.toml is not there yet")
    data = tomllib.loads(TOML.read_text())
    table = data.get("invariants", {})
    assert isinstance(table, dict) and table, "spec/invariants.toml has no [invariants.*] tables"
    return table


def _resolve(ref: str) -> object:
    module, _, name = ref.partition(":")
    obj: object = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_listed_invariant_has_a_sql_check_or_a_reason() -> None:
    missing, pending = [], []
    for name, entry in sorted(_listed().items()):
        value = str(entry.get("sql", "") or "")
        if not value:
            value = invariants.SQL_COLUMN.get(name, "")
            if value:
                pending.append(f"{name} = {value!r}")
        if not value:
            missing.append(name)
            continue
        if value.startswith("log:"):
            assert name in invariants.LOG_CHECKABLE, (
                f"{name}: sql says log-checked, but no log check is listed"
            )
        elif value.startswith("n/a:"):
            assert name in invariants.MODEL_ONLY, f"{name}: sql says not checkable, but MODEL_ONLY disagrees"
        else:
            assert callable(_resolve(value)), f"{name}: {value} is not callable"
            assert invariants.checks_for(name), f"{name}: {value} has no SQL check behind it"
    if pending:
        print("spec/invariants.toml has no sql value yet for (using ringq.invariants.SQL_COLUMN):")
        print("\n".join("  " + p for p in pending))
    assert not missing, f"invariants with no SQL check and no reason: {', '.join(missing)}"


def test_every_sql_check_names_a_known_invariant() -> None:
    listed = set(_listed())
    ours = {c.invariant for c in invariants.CHECKS}
    unknown = ours - listed - {"BatchAtomic", "NoDeadlock"}
    assert not unknown, f"SQL checks for invariants not in spec/invariants.toml: {sorted(unknown)}"


def test_proposed_sql_column_resolves() -> None:
    for name, value in invariants.SQL_COLUMN.items():
        if ":" in value and not value.startswith(("log:", "n/a:")):
            assert callable(_resolve(value)), name
