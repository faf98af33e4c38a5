"""LockOrder.tla must have a lock plan for every transaction of spec/MAPPING.md.

A new transaction (a `sql/<name>.sql` listed in MAPPING.md's transaction table) without a plan in
LockOrder would silently escape the deadlock check; this test makes that a failure.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK_ORDER = (ROOT / "correctness" / "storage" / "LockOrder.tla").read_text()
MAPPING = (ROOT / "spec" / "MAPPING.md").read_text()


def mapped_transactions() -> set[str]:
    """The `sql/<name>.sql` file of each row of MAPPING.md's transaction table."""
    rows = [line for line in MAPPING.splitlines() if line.startswith("| ") and "`sql/" in line]
    names = set()
    for row in rows:
        m = re.search(r"`sql/(\w+)\.sql`", row.split("|")[4])
        if m:
            names.add(m.group(1))
    return names


def modelled_transactions() -> set[str]:
    m = re.search(r"TxnNames == \{(.*?)\}", LOCK_ORDER, re.S)
    assert m, "TxnNames not found in LockOrder.tla"
    return set(re.findall(r'"(\w+)"', m.group(1)))


def test_every_mapped_transaction_has_a_lock_plan() -> None:
    mapped = mapped_transactions()
    assert len(mapped) >= 11, mapped  # the table itself was found
    assert mapped == modelled_transactions()


def test_every_modelled_transaction_has_variants_and_sql_with_its_lock_order() -> None:
    for name in modelled_transactions():
        assert re.search(rf'\[\] t = "{name}"|CASE t = "{name}"', LOCK_ORDER), name
        sql = (ROOT / "src" / "ringq" / "sql" / f"{name}.sql").read_text()
        header = sql.split("CREATE", 1)[0]
        assert "Lock order:" in header, f"sql/{name}.sql does not state its lock order at the top"
