"""Literals, logic, control and binders: constants and built-in sets, subexpression selectors, conjunction/disjunction lists, IF/CASE, LET, quantifiers, CHOOSE, LAMBDA."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlacheck.builtin import stdlib
from tlacheck.builtin.core import CompilerCore
from tlacheck.builtin.ops import (
    BOOLEAN_SET,
    Loc,
    _env_gen,
    _let_lazy,
    _let_op,
    _let_recfn,
    _pat_names,
    _truth,
    leaf_fn,
)
from tlacheck.builtin.runtime import (
    Ctx,
    Fn,
    bind,
)
from tlacheck.builtin.scope import (
    ModScope,
    OpDef,
)
from tlacheck.builtin.syntax import Node, kids
from tlacheck.builtin.values import (
    EvalError,
    StringSet,
    iter_set,
    sorted_elems,
)


class Expressions(CompilerCore):
    """Compiles literals, control flow and binders."""

    def x_parentheses(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        return self.expr(kids(n)[0], ms, loc)

    def x_label(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        return self.expr(n.child_by_field_name("expression"), ms, loc)

    def x_nat_number(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        v = int(self.text(ms, n))
        return leaf_fn("const", v)

    def x_boolean(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        v = self.text(ms, n) == "TRUE"
        return leaf_fn("const", v)

    def x_string(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        raw = self.text(ms, n)[1:-1]
        v = raw.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")
        return leaf_fn("const", v)

    def x_boolean_set(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        return lambda c, e: BOOLEAN_SET

    def x_nat_number_set(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        if ms.lookup("Nat") is not None:
            return self.ref("Nat", [], n, ms, loc)
        v = stdlib.NatSet()
        return lambda c, e: v

    def x_int_number_set(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        if ms.lookup("Int") is not None:
            return self.ref("Int", [], n, ms, loc)
        v = stdlib.IntSet()
        return lambda c, e: v

    def x_real_number_set(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        if ms.lookup("Real") is not None:
            return self.ref("Real", [], n, ms, loc)
        raise self.err(ms, n, "Real (the reals are not supported)")

    def x_subexpression(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        target = self.subexpression(n, ms)
        if target is None:
            raise self.err(ms, n, "subexpression selector")
        node, d, args = target
        return self._in_definition(node, d, args, ms, loc)

    def _in_definition(self, node: Node, d: OpDef, args: list[Node], ms: ModScope, loc: Loc) -> Fn:
        """A piece of d's body, evaluated with d's parameters bound to args (compiled in ms/loc)."""
        if not d.params:
            return self.expr(node, d.ms, {})
        body = self.expr(node, d.ms, {p: "val" for p, _ in d.params})
        afs = [(p, self.expr(a, ms, loc)) for (p, _), a in zip(d.params, args, strict=True)]
        return lambda c, e: body(c, {p: a(c, e) for p, a in afs})

    def _selected_def(self, prefix: Node, ms: ModScope) -> tuple[OpDef, list[Node]] | None:
        """`Op!` or `Op(a, b)!` (one component) naming a definition with constant-level params."""
        comps = [x for x in prefix.named_children if x.type == "subexpr_component"]
        if len(comps) != 1:
            return None
        comp = comps[0].named_children[0]
        if comp.type == "identifier_ref":
            name, args = self.text(ms, comp), []
        elif comp.type == "bound_op":
            name = self.text(ms, comp.child_by_field_name("name"))
            args = [a for a in comp.children_by_field_name("parameter") if a.is_named]
        else:
            return None
        d = ms.lookup(name)
        if not isinstance(d, OpDef) or d.fn_bounds is not None or len(args) != len(d.params):
            return None
        if any(a > 0 for _, a in d.params):
            return None
        return d, args

    def subexpression(self, n: Node, ms: ModScope) -> tuple[Node, OpDef, list[Node]] | None:
        """`Op!i!j...` / `Op(args)!i`: the i-th operand of Op's body (items of a /\\ or \\/ list,
        operands of an infix operator, the parts of IF/THEN/ELSE, the operand of a prefix
        operator), then its j-th, ..."""
        prefix = next((x for x in n.named_children if x.type == "subexpr_prefix"), None)
        nav = next((x for x in n.named_children if x.type == "subexpr_tree_nav"), None)
        if prefix is None or nav is None:
            return None
        sel = self._selected_def(prefix, ms)
        if sel is None:
            return None
        d, args = sel
        # Op!1!2: the navigation steps before the last one sit in the prefix
        navs = [x for x in prefix.named_children if x.type == "subexpr_tree_nav"] + [nav]
        ids = [i for x in navs for i in x.named_children]
        if not ids or any(i.type != "child_id" for i in ids):
            return None
        node: Node | None = d.body
        for i in ids:
            assert node is not None
            node = _operand(node, int(self.text(ms, i)))
            if node is None:
                return None
        assert node is not None
        return node, d, args

    def label_target(self, n: Node, ms: ModScope) -> tuple[Node, OpDef, list[Node]] | None:
        """`Def!lbl` / `Def(args)!lbl`: the expression labelled `lbl ::` in Def's body."""
        prefix = n.child_by_field_name("prefix")
        op = n.child_by_field_name("op")
        if prefix is None or op is None or op.type != "identifier_ref":
            return None
        if any(x.type == "subexpr_tree_nav" for x in prefix.named_children):
            return None
        sel = self._selected_def(prefix, ms)
        if sel is None:
            return None
        d, args = sel
        want = self.text(ms, op)
        stack = [d.body]
        while stack:
            x = stack.pop()
            if x.type == "label" and d.ms.module.text(x.child_by_field_name("name")) == want:
                return x.child_by_field_name("expression"), d, args
            stack.extend(reversed(x.named_children))
        return None

    def x_string_set(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        v = StringSet()
        return lambda c, e: v

    def x_conj_list(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        items = [self.expr(kids(i)[-1], ms, loc) for i in kids(n) if i.type == "conj_item"]

        def conj(c: Ctx, e: dict[str, Any]) -> bool:
            for f in items:
                r = f(c, e)
                if r is not True:
                    if r is False:
                        return False
                    _truth(r, "/\\")
            return True

        return conj

    def x_disj_list(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        items = [self.expr(kids(i)[-1], ms, loc) for i in kids(n) if i.type == "disj_item"]

        def disj(c: Ctx, e: dict[str, Any]) -> bool:
            for f in items:
                if _truth(f(c, e), "\\/"):
                    return True
            return False

        return disj

    def x_if_then_else(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        cond = self.expr(n.child_by_field_name("if"), ms, loc)
        a = self.expr(n.child_by_field_name("then"), ms, loc)
        b = self.expr(n.child_by_field_name("else"), ms, loc)

        def ite(c: Ctx, e: dict[str, Any]) -> Any:
            r = cond(c, e)
            if r is True:
                return a(c, e)
            if r is False:
                return b(c, e)
            return a(c, e) if _truth(r, "IF condition") else b(c, e)

        return ite

    def _case_arms(self, n: Node, ms: ModScope, loc: Loc, compile_arm: Any) -> tuple[list[Any], Any]:
        arms = []
        other = None
        for arm in kids(n):
            if arm.type == "case_arm":
                ak = [x for x in kids(arm) if x.type != "case_arrow"]
                arms.append((self.expr(ak[0], ms, loc), compile_arm(ak[1], ms, loc)))
            elif arm.type == "other_arm":
                ak = [x for x in kids(arm) if x.type != "case_arrow"]
                other = compile_arm(ak[0], ms, loc)
        return arms, other

    def x_case(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        arms, other = self._case_arms(n, ms, loc, self.expr)
        where = ms.where(n)

        def case(c: Ctx, e: dict[str, Any]) -> Any:
            for g, v in arms:
                if _truth(g(c, e), "CASE guard"):
                    return v(c, e)
            if other is not None:
                return other(c, e)
            raise EvalError(f"no CASE arm applies at {where}")

        return case

    def _let_binder(
        self, n: Node, ms: ModScope, loc: Loc
    ) -> tuple[Loc, Callable[[Ctx, dict[str, Any]], dict[str, Any]]]:
        loc2 = dict(loc)
        steps: list[Callable[[Ctx, dict[str, Any]], None]] = []
        for d in n.children_by_field_name("definitions"):
            if d.type == "operator_definition":
                name = self.text(ms, d.child_by_field_name("name"))
                params = []
                for p in d.children_by_field_name("parameter"):
                    if p.type == "identifier":
                        params.append((self.text(ms, p), 0))
                    elif p.type == "operator_declaration":
                        params.append((self.text(ms, p.child_by_field_name("name")), 1))
                if params:
                    loc2[name] = "op"
                    body = self.expr(
                        d.child_by_field_name("definition"),
                        ms,
                        {**loc2, **{p: ("op" if a else "val") for p, a in params}},
                    )
                    steps.append(_let_op(name, [p for p, _ in params], body))
                else:
                    body = self.expr(d.child_by_field_name("definition"), ms, loc2)
                    loc2[name] = "lazy"
                    steps.append(_let_lazy(name, body))
            elif d.type == "function_definition":
                name = self.text(ms, d.child_by_field_name("name"))
                body_n = d.child_by_field_name("definition")
                bounds = [b for b in kids(d) if b.type == "quantifier_bound"]
                pats, sets = self._bounds(bounds, ms, loc2)
                rec = self._refers_to(ms.module, body_n, name)
                inner = {**loc2, **{x: "val" for x in _pat_names(pats)}}
                if rec:
                    inner[name] = "val"
                body = self.expr(body_n, ms, inner)
                loc2[name] = "lazy"
                if rec:
                    steps.append(_let_recfn(name, pats, sets, body))
                else:
                    steps.append(_let_lazy(name, self._fn_literal_from(pats, sets, body)))
            elif d.type == "recursive_declaration":
                continue
            else:
                raise self.err(ms, d, f"LET {d.type}")

        def bind_let(c: Ctx, e: dict[str, Any]) -> dict[str, Any]:
            e2 = dict(e)
            for s in steps:
                s(c, e2)
            return e2

        return loc2, bind_let

    def x_let_in(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        loc2, binder = self._let_binder(n, ms, loc)
        body = self.expr(n.child_by_field_name("expression"), ms, loc2)
        return lambda c, e: body(c, binder(c, e))

    def _bounds(self, bounds: list[Node], ms: ModScope, loc: Loc) -> tuple[list[Any], list[Fn]]:
        """quantifier_bound nodes -> (patterns, set closures), one per bound variable."""
        pats: list[Any] = []
        sets: list[Fn] = []
        for b in bounds:
            intro = [x for x in b.children_by_field_name("intro") if x.is_named]
            s = self.expr(b.child_by_field_name("set"), ms, loc)
            for i in intro:
                if i.type == "tuple_of_identifiers":
                    pats.append(tuple(self.text(ms, x) for x in i.named_children if x.type == "identifier"))
                else:
                    pats.append(self.text(ms, i))
                sets.append(s)
        return pats, sets

    def _quant_parts(self, n: Node, ms: ModScope, loc: Loc) -> tuple[list[Any], list[Fn], Loc, Node]:
        bounds = [b for b in n.children_by_field_name("bound") if b.type == "quantifier_bound"]
        pats, sets = self._bounds(bounds, ms, loc)
        loc2 = {**loc, **{x: "val" for x in _pat_names(pats)}}
        return pats, sets, loc2, n.child_by_field_name("expression")

    def x_bounded_quantification(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        q = n.child_by_field_name("quantifier").type
        pats, sets, loc2, body_n = self._quant_parts(n, ms, loc)
        body = self.expr(body_n, ms, loc2)
        if len(pats) == 1 and isinstance(pats[0], str):
            return _quant1(q == "forall", pats[0], sets[0], body)
        envs = _env_gen(pats, sets)
        if q == "forall":

            def forall(c: Ctx, e: dict[str, Any]) -> bool:
                for env in envs(c, e):
                    if not _truth(body(c, env), "\\A body"):
                        return False
                return True

            return forall

        def exists(c: Ctx, e: dict[str, Any]) -> bool:
            for env in envs(c, e):
                if _truth(body(c, env), "\\E body"):
                    return True
            return False

        return exists

    def x_choose(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        intro = n.child_by_field_name("intro")
        set_n = n.child_by_field_name("set")
        if set_n is None:
            raise self.err(ms, n, "unbounded CHOOSE")
        if intro.type == "tuple_of_identifiers":
            pat: Any = tuple(self.text(ms, x) for x in intro.named_children if x.type == "identifier")
        else:
            pat = self.text(ms, intro)
        s = self.expr(set_n, ms, loc)
        body = self.expr(
            n.child_by_field_name("expression"), ms, {**loc, **{x: "val" for x in _pat_names([pat])}}
        )
        where = ms.where(n)

        def choose(c: Ctx, e: dict[str, Any]) -> Any:
            for v in sorted_elems(s(c, e)):
                env = dict(e)
                bind(pat, v, env)
                if _truth(body(c, env), "CHOOSE body"):
                    return v
            raise EvalError(f"CHOOSE found no value satisfying its condition at {where}")

        return choose

    def x_lambda(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        return self.op_value(n, ms, loc, 1)

    def x_bound_nonfix_op(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        sym = n.child_by_field_name("symbol")
        args = [self.expr(x, ms, loc) for x in kids(n) if x != sym]
        opv = self.op_value(sym, ms, loc, len(args))
        return lambda c, e: opv(c, e)(c, *[a(c, e) for a in args])

    def x_fairness(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        raise self.err(ms, n, "fairness formula in a non-temporal context")


def _quant1(forall: bool, p0: str, s0: Fn, body: Fn) -> Fn:
    """\\A / \\E over one bound name: one environment, rebound per element (the body's value is
    a boolean, so nothing it builds outlives the iteration)."""
    if forall:

        def forall1(c: Ctx, e: dict[str, Any]) -> bool:
            s = s0(c, e)
            env = dict(e)
            for v in sorted_elems(s) if type(s) is frozenset else iter_set(s):
                env[p0] = v
                r = body(c, env)
                if r is not True:
                    if r is False:
                        return False
                    _truth(r, "\\A body")
            return True

        return forall1

    def exists1(c: Ctx, e: dict[str, Any]) -> bool:
        s = s0(c, e)
        env = dict(e)
        for v in sorted_elems(s) if type(s) is frozenset else iter_set(s):
            env[p0] = v
            r = body(c, env)
            if r is True:
                return True
            if r is not False:
                _truth(r, "\\E body")
        return False

    return exists1


def _strip(n: Node) -> Node:
    while n.type in ("parentheses", "label"):
        n = kids(n)[0] if n.type == "parentheses" else n.child_by_field_name("expression")
    return n


def _operand(n: Node, k: int) -> Node | None:
    """The k-th (1-based) operand of an expression, as TLA+'s `!k` selector numbers them."""
    n = _strip(n)
    t = n.type
    if t in ("conj_list", "disj_list"):
        items = [kids(i)[-1] for i in kids(n) if i.type in ("conj_item", "disj_item")]
    elif t == "bound_infix_op":
        items = [n.child_by_field_name("lhs"), n.child_by_field_name("rhs")]
    elif t == "bound_prefix_op":
        items = [n.child_by_field_name("rhs")]
    elif t == "if_then_else":
        items = [n.child_by_field_name("if"), n.child_by_field_name("then"), n.child_by_field_name("else")]
    else:
        return None
    if not 1 <= k <= len(items):
        return None
    return items[k - 1]
