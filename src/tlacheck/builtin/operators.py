"""Infix, prefix and postfix operators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlacheck.builtin import stdlib
from tlacheck.builtin.core import CompilerCore
from tlacheck.builtin.ops import (
    Found,
    Loc,
    _add,
    _big_union,
    _cartesian,
    _domain,
    _inter,
    _lt,
    _minus,
    _sub,
    _subseteq,
    _truth,
    _union,
    leaf_of,
)
from tlacheck.builtin.runtime import (
    Ctx,
    Fn,
    PDict,
)
from tlacheck.builtin.scope import (
    AliasDef,
    ConstDef,
    ModScope,
    OpDef,
    SubstDef,
)
from tlacheck.builtin.syntax import Node
from tlacheck.builtin.values import (
    PowerSet,
    member,
)


class Operators(CompilerCore):
    """Compiles operator applications."""

    def _bool_infix(self, sym: str) -> Callable[[Any, Any], Any] | None:
        table: dict[str, Callable[[Any, Any], Any]] = {
            "=": lambda a, b: a == b,
            "#": lambda a, b: a != b,
            "/=": lambda a, b: a != b,
            "\\in": member,
            "\\notin": lambda a, b: not member(a, b),
            "\\cup": _union,
            "\\union": _union,
            "\\cap": _inter,
            "\\intersect": _inter,
            "\\": _minus,
            "\\subseteq": _subseteq,
            "\\X": lambda a, b: _cartesian([a, b]),
            "\\times": lambda a, b: _cartesian([a, b]),
        }
        return table.get(sym)

    def x_bound_infix_op(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        sym_node = n.child_by_field_name("symbol")
        st = sym_node.type
        lhs_n = n.child_by_field_name("lhs")
        rhs_n = n.child_by_field_name("rhs")
        if st == "land":
            a, b = self.expr(lhs_n, ms, loc), self.expr(rhs_n, ms, loc)
            return lambda c, e: _truth(a(c, e), "/\\") and _truth(b(c, e), "/\\")
        if st == "lor":
            a, b = self.expr(lhs_n, ms, loc), self.expr(rhs_n, ms, loc)
            return lambda c, e: _truth(a(c, e), "\\/") or _truth(b(c, e), "\\/")
        if st == "implies":
            a, b = self.expr(lhs_n, ms, loc), self.expr(rhs_n, ms, loc)
            return lambda c, e: (not _truth(a(c, e), "=>")) or _truth(b(c, e), "=>")
        if st == "iff":
            a, b = self.expr(lhs_n, ms, loc), self.expr(rhs_n, ms, loc)
            return lambda c, e: _truth(a(c, e), "<=>") == _truth(b(c, e), "<=>")
        if st == "times":
            ops = []

            def flat(x: Node) -> None:
                if x.type == "bound_infix_op" and x.child_by_field_name("symbol").type == "times":
                    flat(x.child_by_field_name("lhs"))
                    flat(x.child_by_field_name("rhs"))
                else:
                    ops.append(self.expr(x, ms, loc))

            flat(n)
            return lambda c, e: _cartesian([o(c, e) for o in ops])
        if st in ("leads_to",):
            raise self.err(ms, n, "temporal operator ~> in an expression")
        sym = self.text(ms, sym_node)
        user = ms.lookup(sym)
        a, b = self.expr(lhs_n, ms, loc), self.expr(rhs_n, ms, loc)
        if isinstance(user, OpDef):
            body_ref: list[Fn] = []
            (p0, _), (p1, _) = user.params

            def call(c: Ctx, e: dict[str, Any]) -> Any:
                if not body_ref:
                    body_ref.append(self.op_fn(user))
                return body_ref[0](c, {p0: a(c, e), p1: b(c, e)})

            return call
        if isinstance(user, ConstDef | SubstDef | AliasDef):
            opv = self.op_value(sym_node, ms, loc, 2) if not isinstance(user, ConstDef) else None
            if isinstance(user, ConstDef):
                v = user.value
                return lambda c, e: v(c, a(c, e), b(c, e))
            assert opv is not None
            return lambda c, e: opv(c, e)(c, a(c, e), b(c, e))
        if st in ("eq", "neq", "in"):
            return _compare(st, a, b)
        if st == "notin":
            return lambda c, e: not member(a(c, e), b(c, e))
        if st == "plus":
            return lambda c, e: _add(a(c, e), b(c, e))
        if st == "minus":
            return lambda c, e: _sub(a(c, e), b(c, e))
        if st == "lt":
            return lambda c, e: _lt(a(c, e), b(c, e))
        f = self._bool_infix(sym)
        if f is None:
            f = stdlib.INFIX.get(sym)
        if f is None:
            raise self.err(ms, n, f"infix operator {sym}")
        f2 = f
        return lambda c, e: f2(a(c, e), b(c, e))

    def x_bound_prefix_op(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        st = n.child_by_field_name("symbol").type
        rhs_n = n.child_by_field_name("rhs")
        if st == "lnot":
            a = self.expr(rhs_n, ms, loc)
            return lambda c, e: not _truth(a(c, e), "~")
        if st == "negative":
            a = self.expr(rhs_n, ms, loc)
            return lambda c, e: -stdlib._int(a(c, e))
        if st == "powerset":
            a = self.expr(rhs_n, ms, loc)
            return lambda c, e: PowerSet(a(c, e))
        if st == "union":
            a = self.expr(rhs_n, ms, loc)
            return lambda c, e: _big_union(a(c, e))
        if st == "domain":
            a = self.expr(rhs_n, ms, loc)
            return lambda c, e: _domain(a(c, e))
        if st == "enabled":
            act = self.action(rhs_n, ms, loc, top=False, init=False)

            def enabled(c: Ctx, e: dict[str, Any]) -> bool:
                c2 = Ctx(c.s, PDict())

                def k() -> None:
                    raise Found

                try:
                    act(c2, e, k)
                except Found:
                    return True
                return False

            return enabled
        if st == "unchanged":
            a = self.expr(rhs_n, ms, loc)
            return lambda c, e: a(c.primed(), e) == a(c, e)
        raise self.err(ms, n, f"prefix operator {self.text(ms, n.child_by_field_name('symbol'))}")

    def x_bound_postfix_op(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        st = n.child_by_field_name("symbol").type
        if st == "prime":
            a = self.expr(n.child_by_field_name("lhs"), ms, loc)
            return lambda c, e: a(c.primed(), e)
        raise self.err(ms, n, f"postfix operator {st}")


def _compare(st: str, a: Fn, b: Fn) -> Fn:
    """=, # and \\in, specialised for a constant right-hand side and a state variable or bound
    name on the left (the commonest guards: `pc[p] = "idle"`, `x # NULL`, `v \\in S`)."""
    lb, rb = leaf_of(a), leaf_of(b)
    if rb is not None and rb[0] == "const":
        v = rb[1]
        if st == "in":
            if type(v) is frozenset:

                def in_const(c: Ctx, e: dict[str, Any]) -> bool:
                    x = a(c, e)
                    try:
                        return x in v
                    except TypeError:
                        return False

                return in_const
            return lambda c, e: member(a(c, e), v)
        if lb is not None and lb[0] == "var":
            x = lb[1]
            if st == "eq":
                return lambda c, e: c.s[x] == v
            return lambda c, e: c.s[x] != v
        if lb is not None and lb[0] == "val":
            x = lb[1]
            if st == "eq":
                return lambda c, e: e[x] == v
            return lambda c, e: e[x] != v
        if st == "eq":
            return lambda c, e: a(c, e) == v
        return lambda c, e: a(c, e) != v
    if st == "eq":
        return lambda c, e: a(c, e) == b(c, e)
    if st == "neq":
        return lambda c, e: a(c, e) != b(c, e)
    return lambda c, e: member(a(c, e), b(c, e))
