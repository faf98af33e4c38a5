"""Which state variables a definition reads (transitively), for skipping invariant checks.

An invariant is a state predicate: its value is a function of the variables it reads. When a
successor leaves all of them identical (the same objects: UNCHANGED and untouched variables
keep their values by reference) to those of its parent, which satisfied the invariant, the
successor satisfies it too, and the checker need not evaluate it again.

`variables_read` over-approximates and answers None ("could read anything") whenever it
cannot tell: primes, ENABLED, instance references and substitutions, subexpression
selectors, operator-valued constants, and operators whose value does not depend on the
state alone (TLCGet/TLCSet, Random*, Print*, JavaTime, IO*, JSON/CSV readers, ...).
"""

from __future__ import annotations

import re

from tlacheck.builtin.scope import ConstDef, InstDef, ModScope, OpDef, SubstDef, VarDef
from tlacheck.builtin.syntax import Node

# operators (standard, TLC or community) whose value is not a function of their arguments
_IMPURE = re.compile(
    r"^(Random|IO[A-Z]|TLCGet|TLCSet|TLCCache|TLCDefer|Print|JavaTime|Trace|CounterExample|"
    r"ndJson|CSV|Json|Serialize|Deserialize|ToTrace|_TE)"
)

_OPAQUE = frozenset(
    {
        "prime",
        "enabled",
        "unchanged",
        "prefixed_op",
        "subexpression",
        "step_expr_or_stutter",
        "step_expr_no_stutter",
        "module_definition",
        "instance",
    }
)

_SYMBOL_NODES = frozenset({"bound_infix_op", "bound_prefix_op", "bound_postfix_op"})


def variables_read(d: OpDef) -> frozenset[str] | None:
    """The state variables d's value may depend on, or None if that cannot be told."""
    reads: set[str] = set()
    seen: set[int] = {id(d)}
    stack: list[tuple[Node, ModScope]] = [(d.fn_bounds if d.fn_bounds is not None else d.body, d.ms)]
    while stack:
        node, ms = stack.pop()
        t = node.type
        if t in _OPAQUE:
            return None
        name: str | None = None
        if t == "identifier_ref":
            name = ms.module.text(node)
        elif t in _SYMBOL_NODES:
            sym = node.child_by_field_name("symbol")
            if sym is not None:
                name = ms.module.text(sym)
        if name is not None:
            if _IMPURE.match(name):
                return None
            dd = ms.lookup(name)
            if isinstance(dd, VarDef):
                reads.add(dd.name)
            elif isinstance(dd, OpDef):
                if id(dd) not in seen:
                    seen.add(id(dd))
                    stack.append((dd.fn_bounds if dd.fn_bounds is not None else dd.body, dd.ms))
            elif isinstance(dd, SubstDef):
                stack.append((dd.node, dd.ms))
            elif isinstance(dd, InstDef):
                return None
            elif isinstance(dd, ConstDef) and (dd.arity > 0 or callable(dd.value)):
                return None
        stack.extend((x, ms) for x in node.children)
    return frozenset(reads)
