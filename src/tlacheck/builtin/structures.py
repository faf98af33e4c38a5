"""Sets, tuples, records and functions: literals, filters and maps, function sets, application, EXCEPT, [A]_v / <<A>>_v as values."""

from __future__ import annotations

import itertools
from typing import Any

from tlacheck.builtin.core import CompilerCore
from tlacheck.builtin.ops import (
    Loc,
    _const_fn,
    _env_gen,
    _pat_names,
    _truth,
    _tuple_fn,
    _update,
    leaf_of,
)
from tlacheck.builtin.runtime import (
    Ctx,
    Fn,
    apply_fn,
    bind,
)
from tlacheck.builtin.scope import (
    ModScope,
    SemanticError,
)
from tlacheck.builtin.syntax import Node, kids
from tlacheck.builtin.values import (
    FV,
    FilterSet,
    FnSet,
    LazySet,
    RecSet,
    iter_set,
    mkseq,
)


class Structures(CompilerCore):
    """Compiles set, record, tuple and function expressions."""

    def x_finite_set_literal(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        items = [self.expr(x, ms, loc) for x in kids(n)]
        if not items:
            empty: frozenset[Any] = frozenset()
            return lambda c, e: empty
        return lambda c, e: frozenset([f(c, e) for f in items])

    def x_set_filter(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        gen = n.child_by_field_name("generator")
        pats, sets = self._bounds([gen], ms, loc)
        pat, sf = pats[0], sets[0]
        body = self.expr(
            n.child_by_field_name("filter"), ms, {**loc, **{x: "val" for x in _pat_names([pat])}}
        )
        if isinstance(pat, str):

            def filt(c: Ctx, e: dict[str, Any]) -> Any:
                out = []
                env = dict(e)
                base = sf(c, e)
                if isinstance(base, LazySet) and not base.finite:

                    def pred(v: Any) -> Any:
                        return body(c, {**e, pat: v})

                    return FilterSet(base, pred)
                for v in iter_set(base):
                    env[pat] = v
                    if _truth(body(c, env), "set filter"):
                        out.append(v)
                return frozenset(out)

            return filt

        def filt_t(c: Ctx, e: dict[str, Any]) -> frozenset[Any]:
            out = []
            for v in iter_set(sf(c, e)):
                env = dict(e)
                bind(pat, v, env)
                if _truth(body(c, env), "set filter"):
                    out.append(v)
            return frozenset(out)

        return filt_t

    def x_set_map(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        bounds = [b for b in n.children_by_field_name("generator") if b.type == "quantifier_bound"]
        pats, sets = self._bounds(bounds, ms, loc)
        body = self.expr(n.child_by_field_name("map"), ms, {**loc, **{x: "val" for x in _pat_names(pats)}})
        envs = _env_gen(pats, sets)
        return lambda c, e: frozenset([body(c, env) for env in envs(c, e)])

    def x_tuple_literal(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        items = [self.expr(x, ms, loc) for x in kids(n) if x.type not in ("langle_bracket", "rangle_bracket")]
        if not items:
            empty = FV({})
            return lambda c, e: empty
        return lambda c, e: FV({i: f(c, e) for i, f in enumerate(items, 1)})

    def x_record_literal(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        ks = [x for x in kids(n) if x.type != "all_map_to"]
        fields = [(self.text(ms, ks[i]), self.expr(ks[i + 1], ms, loc)) for i in range(0, len(ks), 2)]
        return lambda c, e: FV({k: f(c, e) for k, f in fields})

    def x_set_of_records(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        ks = kids(n)
        fields = [(self.text(ms, ks[i]), self.expr(ks[i + 1], ms, loc)) for i in range(0, len(ks), 2)]
        return lambda c, e: RecSet({k: f(c, e) for k, f in fields})

    def x_record_value(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        ks = kids(n)
        r = self.expr(ks[0], ms, loc)
        field = self.text(ms, ks[1])
        lr = leaf_of(r)
        if lr is not None and lr[0] != "const":
            x = lr[1]
            if lr[0] == "var":

                def dot_var(c: Ctx, e: dict[str, Any]) -> Any:
                    fv = c.s[x]
                    if type(fv) is FV:
                        try:
                            return fv.d[field]
                        except KeyError:
                            pass
                    return apply_fn(fv, field)

                return dot_var

            def dot_val(c: Ctx, e: dict[str, Any]) -> Any:
                fv = e[x]
                if type(fv) is FV:
                    try:
                        return fv.d[field]
                    except KeyError:
                        pass
                return apply_fn(fv, field)

            return dot_val

        def dot(c: Ctx, e: dict[str, Any]) -> Any:
            fv = r(c, e)
            if type(fv) is FV:
                try:
                    return fv.d[field]
                except KeyError:
                    pass
            return apply_fn(fv, field)

        return dot

    def x_set_of_functions(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        ks = [x for x in kids(n) if x.type != "maps_to"]
        a, b = self.expr(ks[0], ms, loc), self.expr(ks[1], ms, loc)
        return lambda c, e: FnSet(a(c, e), b(c, e))

    def _fn_literal_from(self, pats: list[Any], sets: list[Fn], body: Fn) -> Fn:
        if len(pats) == 1 and isinstance(pats[0], str):
            p = pats[0]
            s0 = sets[0]

            def fn1(c: Ctx, e: dict[str, Any]) -> FV:
                env = dict(e)
                d = {}
                for v in iter_set(s0(c, e)):
                    env[p] = v
                    d[v] = body(c, env)
                return FV(d)

            return fn1

        def fnn(c: Ctx, e: dict[str, Any]) -> FV:
            svals = [s(c, e) for s in sets]
            d = {}
            if len(pats) == 1:
                for v in iter_set(svals[0]):
                    env = dict(e)
                    bind(pats[0], v, env)
                    d[v] = body(c, env)
                return FV(d)
            for combo in itertools.product(*(list(iter_set(s)) for s in svals)):
                env = dict(e)
                for p, v in zip(pats, combo, strict=True):
                    bind(p, v, env)
                d[mkseq(combo)] = body(c, env)
            return FV(d)

        return fnn

    def x_function_literal(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        bounds = [b for b in kids(n) if b.type == "quantifier_bound"]
        pats, sets = self._bounds(bounds, ms, loc)
        body = self.expr(kids(n)[-1], ms, {**loc, **{x: "val" for x in _pat_names(pats)}})
        return self._fn_literal_from(pats, sets, body)

    def x_function_evaluation(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        ks = kids(n)
        f = self.expr(ks[0], ms, loc)
        args = [self.expr(x, ms, loc) for x in ks[1:]]
        if len(args) == 1:
            a0 = args[0]
            fast = _app_leaves(f, a0)
            if fast is not None:
                return fast

            def app(c: Ctx, e: dict[str, Any]) -> Any:
                fv = f(c, e)
                if type(fv) is FV:
                    try:
                        return fv.d[a0(c, e)]
                    except (KeyError, TypeError):
                        pass
                return apply_fn(fv, a0(c, e))

            return app
        return lambda c, e: apply_fn(f(c, e), mkseq([a(c, e) for a in args]))

    def x_prev_func_val(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        if "@" not in loc:
            raise SemanticError(f"@ used outside EXCEPT at {ms.where(n)}")
        return lambda c, e: e["@"]

    def x_except(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        base = self.expr(n.child_by_field_name("expr_to_update"), ms, loc)
        updates = []
        loc2 = {**loc, "@": "val"}
        for u in kids(n):
            if u.type != "except_update":
                continue
            spec = next(x for x in u.named_children if x.type == "except_update_specifier")
            path: list[Fn] = []
            for p in kids(spec):
                if p.type == "except_update_record_field":
                    fld = self.text(ms, kids(p)[0])
                    path.append(_const_fn(fld))
                else:
                    ak = [self.expr(x, ms, loc) for x in kids(p)]
                    if len(ak) == 1:
                        path.append(ak[0])
                    else:
                        path.append(_tuple_fn(ak))
            nv = u.child_by_field_name("new_val")
            updates.append((path, self.expr(nv, ms, loc2), _uses_at(nv)))

        def exc(c: Ctx, e: dict[str, Any]) -> Any:
            f = base(c, e)
            for path, val, at in updates:
                keys = [k(c, e) for k in path]
                f = _update(f, keys, 0, val, c, e, at)
            return f

        return exc

    def x_step_expr_or_stutter(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        ks = kids(n)
        a, v = self.expr(ks[0], ms, loc), self.expr(ks[-1], ms, loc)
        return lambda c, e: _truth(a(c, e), "action") or v(c.primed(), e) == v(c, e)

    def x_step_expr_no_stutter(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        ks = [x for x in kids(n) if x.type not in ("langle_bracket", "rangle_bracket_sub")]
        a, v = self.expr(ks[0], ms, loc), self.expr(ks[-1], ms, loc)
        return lambda c, e: _truth(a(c, e), "action") and v(c.primed(), e) != v(c, e)


def _uses_at(n: Node) -> bool:
    """Does an EXCEPT's new value mention @ (only then is it bound)?"""
    stack = [n]
    while stack:
        x = stack.pop()
        if x.type == "prev_func_val":
            return True
        stack.extend(x.named_children)
    return False


def _app_leaves(f: Fn, a: Fn) -> Fn | None:
    """f[a] for a state variable f and a bound name or constant a (`pc[p]`, `x[1]`)."""
    lf, la = leaf_of(f), leaf_of(a)
    if lf is None or lf[0] != "var" or la is None or la[0] == "var":
        return None
    fx = lf[1]
    if la[0] == "val":
        kx = la[1]

        def app_var_val(c: Ctx, e: dict[str, Any]) -> Any:
            fv = c.s[fx]
            k = e[kx]
            if type(fv) is FV:
                try:
                    return fv.d[k]
                except (KeyError, TypeError):
                    pass
            return apply_fn(fv, k)

        return app_var_val
    kc = la[1]

    def app_var_const(c: Ctx, e: dict[str, Any]) -> Any:
        fv = c.s[fx]
        if type(fv) is FV:
            try:
                return fv.d[kc]
            except (KeyError, TypeError):
                pass
        return apply_fn(fv, kc)

    return app_var_const
