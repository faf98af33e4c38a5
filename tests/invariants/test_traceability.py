"""Every invariant listed in spec/invariants.toml has a SQL check (or says why it cannot).

The `sql` column: "module:function" (a SQL check on a live schema, importable and callable),
"log: <where>" (checked from the execution log in tests), or "n/a: <why>". spec/invariants.toml is
the only list of these values: `ringq.invariants` makes `check_<Invariant>` for each invariant
that has SQL checks, without naming them again.
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import psycopg
import pytest

from ringq import invariants

TOML = Path(__file__).resolve().parents[2] / "spec" / "invariants.toml"


def _listed() -> dict[str, dict[str, object]]:
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


def _sql_functions() -> dict[str, str]:
    """Invariant -> its `module:function` SQL check, as spec/invariants.toml names it."""
    out = {}
    for name, entry in _listed().items():
        value = str(entry.get("sql", "") or "")
        if value and not value.startswith(("log:", "n/a:")):
            out[name] = value
    return out


def test_every_listed_invariant_has_a_sql_check_or_a_reason() -> None:
    missing = []
    for name, entry in sorted(_listed().items()):
        value = str(entry.get("sql", "") or "")
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
    assert not missing, f"invariants with no SQL check and no reason: {', '.join(missing)}"


def test_every_sql_check_names_a_known_invariant() -> None:
    listed = set(_listed())
    ours = {c.invariant for c in invariants.CHECKS}
    unknown = ours - listed - {"BatchAtomic", "NoDeadlock"}
    assert not unknown, f"SQL checks for invariants not in spec/invariants.toml: {sorted(unknown)}"


def test_every_invariant_with_sql_checks_has_its_function_listed() -> None:
    """The toml names a check function for exactly the invariants `ringq doctor` checks in SQL."""
    functions = _sql_functions()
    assert set(functions) == set(invariants.DB_CHECKABLE), (
        "spec/invariants.toml's module:function sql values and ringq.invariants.DB_CHECKABLE differ: "
        f"{sorted(set(functions) ^ set(invariants.DB_CHECKABLE))}"
    )
    for name, ref in functions.items():
        check = _resolve(ref)
        assert getattr(check, "__name__", "") == f"check_{name}", f"{ref} checks another invariant"
        assert check is _resolve(ref), f"{ref} is not one function"


def test_only_invariants_with_sql_checks_have_a_check_function() -> None:
    for attr in ("check_EventuallyTerminal", "check_Nonsense", "TypeOK"):
        with pytest.raises(AttributeError):
            getattr(invariants, attr)


def test_the_listed_check_functions_pass_on_a_healthy_schema(db_url: str, installed: str) -> None:
    from ringq import Queue

    with Queue(db_url, schema=installed) as q:
        q.enqueue("t", {"i": 1}, queue="q")
        [job] = q.claim(worker="w", queues=["q"], limit=1)
        q.complete(job.job_id, job.run_lease, {"ok": True})
        q.enqueue("t", {"i": 2}, queue="q")
    with psycopg.connect(db_url, autocommit=True) as conn:
        for name, ref in sorted(_sql_functions().items()):
            check = _resolve(ref)
            assert callable(check)
            assert check(conn, installed) == [], f"{name} fails on a healthy schema"
