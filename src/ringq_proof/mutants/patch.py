"""Turn a catalogued mutant into SQL and install it into one test schema."""

from __future__ import annotations

import psycopg
from psycopg import sql

from ringq.sqlfiles import load, or_replace, placeholders
from ringq_proof.mutants.catalogue import Mutant, MutantAnchorMissing


def _patch(text: str, anchor: str, replacement: str, count: int, where: str) -> str:
    found = text.count(anchor)
    if found != count:
        raise MutantAnchorMissing(
            f"{where}: anchor {anchor!r} occurs {found} time(s) in the shipped SQL, expected {count}"
        )
    return text.replace(anchor, replacement)


def mutant_sql(mutant: Mutant) -> list[str]:
    """The SQL templates ({schema} placeholders) that install `mutant`; raises if an anchor is gone."""
    out: list[str] = []
    files: dict[str, str] = {}
    for p in mutant.patches:
        text = files.get(p.file, load(p.file))
        files[p.file] = _patch(text, p.anchor, p.replacement, p.count, f"{mutant.name} / {p.file}")
    out.extend(or_replace(t) for t in files.values())
    for d in mutant.derived:
        text = _patch(
            load(d.file),
            f"CREATE FUNCTION {{schema}}.{d.old_name}(",
            f"CREATE FUNCTION {{schema}}.{d.new_name}(",
            1,
            f"{mutant.name} / {d.file}",
        )
        for anchor, repl, count in d.patches:
            text = _patch(text, anchor, repl, count, f"{mutant.name} / {d.file} -> {d.new_name}")
        out.append(or_replace(text))
    out.extend(mutant.extra_sql)
    return out


def install_mutant(conn: psycopg.Connection, schema: str, mutant: Mutant) -> None:
    """Replace the schema's functions by the mutant's (test schemas only!), in one transaction."""
    ph = placeholders(schema)
    with conn.transaction():
        for template in mutant_sql(mutant):
            conn.execute(sql.SQL(template).format(**ph))
