"""Actions in continuation-passing style: `a(c, e, k)` calls `k()` once for every way the action can be satisfied, with its assignments present in the target dict (c.p for Next, c.s for Init) and undone afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlacheck.builtin.core import CompilerCore
from tlacheck.builtin.ops import (
    Loc,
    _env_gen,
    _flatten,
    _truth,
)
from tlacheck.builtin.runtime import (
    Act,
    Ctx,
    Fn,
)
from tlacheck.builtin.scope import (
    ModScope,
    OpDef,
    SubstDef,
    VarDef,
)
from tlacheck.builtin.syntax import Node, kids
from tlacheck.builtin.values import (
    EvalError,
    iter_set,
    member,
    sorted_elems,
)


class Actions(CompilerCore):
    """Compiles actions (Init, Next and what TLC enumerates) in continuation-passing style.

    `action` dispatches on the node type through ACTION_FORMS, like `expr` does for expressions.
    A form returns None when the node is not an action of its kind (e.g. `x = 1` with `x` not a
    variable); the node is then a guard: a boolean evaluated in the current (partly primed) state.
    """

    def action(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act:
        form = ACTION_FORMS.get(node.type)
        if form is not None:
            a = form(self, node, ms, loc, top, init)
            if a is not None:
                return a
        return self._a_guard(node, ms, loc)

    def _a_parentheses(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        return self.action(kids(node)[0], ms, loc, top, init)

    def _a_label(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        return self.action(node.child_by_field_name("expression"), ms, loc, top, init)

    def _a_conj_list(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        return self._a_conj([kids(i)[-1] for i in kids(node) if i.type == "conj_item"], ms, loc, init)

    def _a_disj_list(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        return self._a_disj([kids(i)[-1] for i in kids(node) if i.type == "disj_item"], ms, loc, top, init)

    def _a_infix(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        st = node.child_by_field_name("symbol").type
        if st == "land":
            return self._a_conj(_flatten(node, "land"), ms, loc, init)
        if st == "lor":
            return self._a_disj(_flatten(node, "lor"), ms, loc, top, init)
        if st in ("eq", "in"):
            lhs = node.child_by_field_name("lhs")
            rhs = node.child_by_field_name("rhs")
            target = self._assign_target(lhs, ms, loc, init)
            if target is not None:
                return self._a_assign(target, st == "in", self.expr(rhs, ms, loc), init, ms.where(rhs))
        return None

    def _a_prefix(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        if node.child_by_field_name("symbol").type == "unchanged" and not init:
            names = self._var_list(node.child_by_field_name("rhs"), ms, loc)
            if names is not None:
                return self._a_unchanged(names)
        return None

    def _a_quantifier(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        pats, sets, loc2, body_n = self._quant_parts(node, ms, loc)
        if node.child_by_field_name("quantifier").type == "exists":
            body = self.action(body_n, ms, loc2, top, init)
            if len(pats) == 1 and isinstance(pats[0], str):
                p0, s0 = pats[0], sets[0]

                def ex1(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                    # one environment rebound per element: successors are complete (normalised)
                    # values by the time k returns, so nothing keeps the environment
                    s = s0(c, e)
                    env = dict(e)
                    for v in sorted_elems(s) if type(s) is frozenset else iter_set(s):
                        env[p0] = v
                        body(c, env, k)

                return ex1
            envs = _env_gen(pats, sets)

            def ex(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                for env in envs(c, e):
                    body(c, env, k)

            return ex
        # TLC enumerates \A in an action as the conjunction of its instances
        fbody = self.action(body_n, ms, loc2, False, init)
        fenvs = _env_gen(pats, sets)

        def fa(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            envs = list(fenvs(c, e))
            n = len(envs)

            def step(i: int) -> None:
                if i == n:
                    k()
                else:
                    fbody(c, envs[i], lambda: step(i + 1))

            step(0)

        return fa

    def _a_if(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        cond = self.expr(node.child_by_field_name("if"), ms, loc)
        a = self.action(node.child_by_field_name("then"), ms, loc, top, init)
        b = self.action(node.child_by_field_name("else"), ms, loc, top, init)

        def ite(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            if _truth(cond(c, e), "IF condition"):
                a(c, e, k)
            else:
                b(c, e, k)

        return ite

    def _a_case(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        arms, other = self._case_arms(node, ms, loc, lambda x, m2, l2: self.action(x, m2, l2, top, init))
        where = ms.where(node)

        def case(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            for g, a in arms:
                if _truth(g(c, e), "CASE guard"):
                    a(c, e, k)
                    return
            if other is not None:
                other(c, e, k)
                return
            raise EvalError(f"no CASE arm applies at {where}")

        return case

    def _a_let(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        loc2, binder = self._let_binder(node, ms, loc)
        body = self.action(node.child_by_field_name("expression"), ms, loc2, top, init)
        return lambda c, e, k: body(c, binder(c, e), k)

    def _a_stutter(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        ks = kids(node)
        a = self.action(ks[0], ms, loc, top, init)
        names = self._var_list(ks[-1], ms)
        if names is None:
            raise self.err(ms, node, "[A]_v with a subscript that is not a tuple of variables")
        u = self._a_unchanged(names)

        def sq(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            a(c, e, k)
            u(c, e, k)

        return sq

    def _a_no_stutter(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        ks = [x for x in kids(node) if x.type not in ("langle_bracket", "rangle_bracket_sub")]
        a = self.action(ks[0], ms, loc, top, init)
        v = self.expr(ks[-1], ms, loc)

        def ang(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            def k2() -> None:
                if v(c.primed(), e) != v(c, e):
                    k()

            a(c, e, k2)

        return ang

    def _a_guard(self, node: Node, ms: ModScope, loc: Loc) -> Act:
        """A boolean conjunct evaluated as a guard (it may read primes assigned before it)."""
        g = self.expr(node, ms, loc)
        where = ms.where(node)

        def guard(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            try:
                r = g(c, e)
            except EvalError as ex:
                raise ex.located(where) from None
            if r is True:
                k()
            elif r is not False:
                _truth(r, "action conjunct")

        guard.guard = (g, where)  # type: ignore[attr-defined]  # see _then
        return guard

    def _a_ref(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act | None:
        """Inline a user-defined operator used as an action."""
        if node.type == "prefixed_op":
            sub, op = self.resolve_prefixed(node, ms)
            arg_ms, arg_loc = ms, loc
            ms2 = sub
            node2 = op
            if op.type not in ("identifier_ref", "bound_op"):
                return None
        else:
            arg_ms, arg_loc, ms2, node2 = ms, loc, ms, node
        if node2.type == "identifier_ref":
            name = self.text(ms2, node2)
            args: list[Node] = []
        else:
            name = self.text(ms2, node2.child_by_field_name("name"))
            args = [a for a in node2.children_by_field_name("parameter") if a.is_named]
        if name in loc and ms2 is ms:
            return None
        d = ms2.lookup(name)
        if isinstance(d, SubstDef) and not args:
            body = self.action(d.node, d.ms, {}, top, init)
            return lambda c, e, k: body(c, {}, k)
        if not isinstance(d, OpDef) or d.fn_bounds is not None or len(args) != len(d.params):
            return None
        if self._needs_by_name(d, args):
            loc_b, strict = self._by_name_loc(d, args, arg_ms, arg_loc)
            abody = self.action(d.body, d.ms, loc_b, top, init)
            lbl = d.name

            def inl(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                env = dict(e)
                for p, f in strict:
                    env[p] = f(c, e)
                if top:
                    c.label = lbl
                abody(c, env, k)

            return inl
        key = (top, init)
        if key not in d.actions:
            d.actions[key] = None  # recursion guard
            ploc: Loc = {p: ("op" if a > 0 else "val") for p, a in d.params}
            d.actions[key] = self.action(d.body, d.ms, ploc, top, init)
        cell = d
        afs = self._args(d.params, args, arg_ms, arg_loc)
        names = [p for p, _ in d.params]
        label = d.name

        pairs = list(zip(names, afs, strict=True))
        if len(pairs) == 1:
            p0, a0 = pairs[0]

            def call1(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                body = cell.actions[key]
                if top:
                    old = c.label
                    c.label = label
                    body(c, {p0: a0(c, e)}, k)
                    c.label = old
                else:
                    body(c, {p0: a0(c, e)}, k)

            return call1

        def call(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            body = cell.actions[key]
            env = {p: a(c, e) for p, a in pairs} if pairs else {}
            if top:
                old = c.label
                c.label = label
                body(c, env, k)
                c.label = old
            else:
                body(c, env, k)

        return call

    def _a_conj(self, items: list[Node], ms: ModScope, loc: Loc, init: bool) -> Act:
        acts = [self.action(x, ms, loc, False, init) for x in items]
        chain = acts[-1]
        for a in reversed(acts[:-1]):
            chain = _then(a, chain)
        return chain

    def _a_disj(self, items: list[Node], ms: ModScope, loc: Loc, top: bool, init: bool) -> Act:
        acts = [self.action(x, ms, loc, top, init) for x in items]

        def disj(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            for a in acts:
                a(c, e, k)

        return disj

    def _assign_target(self, lhs: Node, ms: ModScope, loc: Loc, init: bool) -> str | None:
        """The variable an `x' = e` (Next) or `x = e` (Init) conjunct may assign."""
        while lhs.type in ("identifier_ref", "parentheses"):
            if lhs.type == "parentheses":
                lhs = kids(lhs)[0]
                continue
            kind = loc.get(self.text(ms, lhs))
            if not isinstance(kind, tuple):
                break
            lhs, ms, loc = kind[1], kind[2], kind[3]
        if init:
            return self._var_name(lhs, ms, loc)
        if lhs.type == "bound_postfix_op" and lhs.child_by_field_name("symbol").type == "prime":
            return self._var_name(lhs.child_by_field_name("lhs"), ms, loc)
        return None

    def _var_name(self, n: Node, ms: ModScope, loc: Loc | None = None) -> str | None:
        names = self._var_list(n, ms, loc)
        if names is not None and len(names) == 1 and n.type != "tuple_literal":
            return names[0]
        return None

    def _var_list(self, n: Node, ms: ModScope, loc: Loc | None = None) -> list[str] | None:
        """Variables named by a variable, a tuple of them, or a definition of one (UNCHANGED vars)."""
        t = n.type
        if t == "identifier_ref" and loc:
            kind = loc.get(self.text(ms, n))
            if isinstance(kind, tuple):
                return self._var_list(kind[1], kind[2], kind[3])
            if kind is not None:
                return None
        if t == "parentheses":
            return self._var_list(kids(n)[0], ms, loc)
        if t == "tuple_literal":
            out: list[str] = []
            for x in kids(n):
                if x.type in ("langle_bracket", "rangle_bracket"):
                    continue
                r = self._var_list(x, ms, loc)
                if r is None:
                    return None
                out.extend(r)
            return out
        if t == "identifier_ref":
            d = ms.lookup(self.text(ms, n))
            if isinstance(d, VarDef):
                return [d.name]
            if isinstance(d, SubstDef):
                return self._var_list(d.node, d.ms)
            if isinstance(d, OpDef) and not d.params and d.fn_bounds is None:
                return self._var_list(d.body, d.ms)
            return None
        if t == "prefixed_op":
            sub, op = self.resolve_prefixed(n, ms)
            return self._var_list(op, sub)
        return None

    def _a_assign(self, name: str, is_in: bool, rhs: Fn, init: bool, where: str) -> Act:
        if is_in:

            def assign_in(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                p = c.s if init else c.p
                assert p is not None
                try:
                    s = rhs(c, e)
                except EvalError as ex:
                    raise ex.located(where) from None
                if name in p:
                    if member(p[name], s):
                        k()
                    return
                try:
                    for v in iter_set(s):
                        p[name] = v
                        k()
                finally:
                    p.pop(name, None)

            return assign_in

        def assign(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            p = c.s if init else c.p
            assert p is not None
            try:
                v = rhs(c, e)
            except EvalError as ex:
                raise ex.located(where) from None
            if name in p:
                if p[name] == v:
                    k()
                return
            p[name] = v
            try:
                k()
            finally:
                del p[name]

        assign.assign = (name, rhs, where, init)  # type: ignore[attr-defined]  # see _then
        return assign

    def _a_unchanged(self, names: list[str]) -> Act:
        def unchanged(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            p = c.p
            assert p is not None
            s = c.s
            added = []
            try:
                for nm in names:
                    if nm in p:
                        if p[nm] != s[nm]:
                            return
                    else:
                        p[nm] = s[nm]
                        added.append(nm)
                k()
            finally:
                for nm in added:
                    del p[nm]

        return unchanged


ActionForm = Callable[[Actions, Node, ModScope, Loc, bool, bool], "Act | None"]

ACTION_FORMS: dict[str, ActionForm] = {
    "parentheses": Actions._a_parentheses,
    "label": Actions._a_label,
    "conj_list": Actions._a_conj_list,
    "disj_list": Actions._a_disj_list,
    "bound_infix_op": Actions._a_infix,
    "bound_prefix_op": Actions._a_prefix,
    "bounded_quantification": Actions._a_quantifier,
    "if_then_else": Actions._a_if,
    "case": Actions._a_case,
    "let_in": Actions._a_let,
    "identifier_ref": Actions._a_ref,
    "bound_op": Actions._a_ref,
    "prefixed_op": Actions._a_ref,
    "step_expr_or_stutter": Actions._a_stutter,
    "step_expr_no_stutter": Actions._a_no_stutter,
}


def _then(a: Act, rest: Act) -> Act:
    """The conjunction `a /\\ rest`: a guard or an assignment calls `rest` directly (no
    continuation closure per evaluation); anything else passes `rest` as its continuation."""
    g = getattr(a, "guard", None)
    if g is not None:
        gf, gwhere = g

        def guard_then(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            try:
                r = gf(c, e)
            except EvalError as ex:
                raise ex.located(gwhere) from None
            if r is True:
                rest(c, e, k)
            elif r is not False:
                _truth(r, "action conjunct")

        return guard_then
    asg = getattr(a, "assign", None)
    if asg is not None:
        name, rhs, where, init = asg

        def assign_then(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            p = c.s if init else c.p
            assert p is not None
            try:
                v = rhs(c, e)
            except EvalError as ex:
                raise ex.located(where) from None
            if name in p:
                if p[name] == v:
                    rest(c, e, k)
                return
            p[name] = v
            try:
                rest(c, e, k)
            finally:
                del p[name]

        return assign_then
    return lambda c, e, k: a(c, e, lambda: rest(c, e, k))
