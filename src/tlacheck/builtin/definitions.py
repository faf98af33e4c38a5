"""Operator definitions and references to names: compiled bodies, constant and per-state caching, operator arguments, by-name substitution of primed arguments."""

from __future__ import annotations

from typing import Any

from tlacheck.builtin import stdlib
from tlacheck.builtin.core import CompilerCore
from tlacheck.builtin.ops import (
    Loc,
    _cartesian,
    _has_prime,
    _idents,
    _pat_names,
    captures_context,
    leaf_fn,
)
from tlacheck.builtin.runtime import (
    CONST_CTX,
    Ctx,
    Fn,
    NeedsState,
    RecFn,
)
from tlacheck.builtin.scope import (
    ConstDef,
    Def,
    InstDef,
    ModScope,
    OpDef,
    SemanticError,
    SubstDef,
    VarDef,
)
from tlacheck.builtin.syntax import Node, kids
from tlacheck.builtin.values import (
    EvalError,
)


class Definitions(CompilerCore):
    """Compiles definitions and the references that use them."""

    def op_fn(self, d: OpDef) -> Fn:
        """Compiled body of an operator definition: f(c, env-of-params)."""
        if d.fn is None:
            if d.compiling:
                return lambda c, e: d.fn(c, e)
            d.compiling = True
            loc: Loc = {p: ("op" if a > 0 else "val") for p, a in d.params}
            if d.fn_bounds is not None:
                d.fn = self._fn_def(d, loc)
            else:
                d.fn = self.expr(d.body, d.ms, loc)
            d.compiling = False
        return d.fn

    def _fn_def(self, d: OpDef, loc: Loc) -> Fn:
        ms = d.ms
        bounds = [b for b in kids(d.fn_bounds) if b.type == "quantifier_bound"]
        pats, sets = self._bounds(bounds, ms, loc)
        body = self.expr(d.body, ms, {**loc, **{n: "val" for n in _pat_names(pats)}, d.name: "val"})
        name = d.name
        if d.recursive_fn:

            def rec(c: Ctx, e: dict[str, Any]) -> Any:
                svals = [s(c, e) for s in sets]
                dom = svals[0] if len(svals) == 1 else _cartesian(svals)
                return RecFn(name, dom, pats, body, c, e)

            return rec
        return self._fn_literal_from(pats, sets, body)

    def eval0(self, d: OpDef) -> Fn:
        """Closure for a reference to a zero-arity definition.

        Constant ones are evaluated once; state-level ones once per state (Ctx.cache)."""
        f = self.op_fn(d)
        per_state = self.state_level(d)

        def ref(c: Ctx, e: dict[str, Any]) -> Any:
            if d.const_state == 1:
                return d.value
            if d.const_state == 0:
                try:
                    v = f(CONST_CTX, {})
                    if captures_context(v):
                        d.const_state = 2  # it would read variables later, in no state
                    else:
                        d.value = v
                        d.const_state = 1
                        return v
                except NeedsState:
                    d.const_state = 2
                except EvalError:
                    d.const_state = 2
            cache = c.cache
            if per_state and cache is not None:
                try:
                    return cache[d]
                except KeyError:
                    v = cache[d] = f(c, {})
                    return v
            return f(c, {})

        return ref

    def state_level(self, d: OpDef, visiting: set[int] | None = None) -> bool:
        """True if d's value depends only on the current state (no primes/ENABLED, transitively)."""
        memo = self._state_level_memo
        key = id(d)
        if key in memo:
            return memo[key]
        visiting = visiting or set()
        if key in visiting:
            return True
        visiting.add(key)
        ok = True
        stack = [d.body]
        while stack and ok:
            x = stack.pop()
            t = x.type
            if t in ("prime", "unchanged", "enabled", "step_expr_or_stutter", "step_expr_no_stutter"):
                ok = False
            elif t in ("prefixed_op", "subexpression"):
                ok = False
            elif t == "identifier_ref":
                dd = d.ms.lookup(d.ms.module.text(x))
                if isinstance(dd, OpDef):
                    ok = self.state_level(dd, visiting)
                elif isinstance(dd, SubstDef):
                    ok = False
            stack.extend(x.children)
        memo[key] = ok
        return ok

    def op_value(self, node: Node, ms: ModScope, loc: Loc, arity: int) -> Fn:
        """An argument passed for an operator parameter: returns callable(c, *args)."""
        t = node.type
        if t == "lambda":
            names = [self.text(ms, x) for x in node.named_children if x.type == "identifier"]
            body_node = kids(node)[-1]
            body = self.expr(body_node, ms, {**loc, **dict.fromkeys(names, "val")})

            def mk_lambda(c: Ctx, e: dict[str, Any]) -> Any:
                def lam(c2: Ctx, *args: Any) -> Any:
                    env = dict(e)
                    env.update(zip(names, args, strict=True))
                    return body(c2, env)

                return lam

            return mk_lambda
        if t in ("infix_op_symbol", "prefix_op_symbol"):
            sym = self.text(ms, node)
            user = ms.lookup(sym)
            if isinstance(user, OpDef):
                return self._opdef_value(user)
            if t == "prefix_op_symbol" and sym == "-":
                return lambda c, e: lambda c2, a: -a
            if sym in stdlib.INFIX:
                f2 = stdlib.INFIX[sym]
                return lambda c, e: lambda c2, a, b: f2(a, b)
            bin_ops = self._bool_infix(sym)
            if bin_ops is not None:
                return lambda c, e: lambda c2, a, b: bin_ops(a, b)
            raise self.err(ms, node, f"operator symbol {sym} as an argument")
        if t == "identifier_ref":
            name = self.text(ms, node)
            k = loc.get(name)
            if k == "op":
                return lambda c, e: e[name]
            if k is None:
                d = ms.lookup(name)
                if isinstance(d, OpDef) and (d.params or arity > 0):
                    return self._opdef_value(d)
                if d is None and name in stdlib.NAMED:
                    impl = stdlib.NAMED[name][1]
                    return lambda c, e: impl
                if isinstance(d, ConstDef) and d.has_value and callable(d.value):
                    v = d.value
                    return lambda c, e: v
        if t == "prefixed_op":
            sub, op = self.resolve_prefixed(node, ms)
            if op.type == "identifier_ref":
                d = sub.lookup(self.text(sub, op))
                if isinstance(d, OpDef):
                    return self._opdef_value(d)
        if arity == 0:
            return self.expr(node, ms, loc)
        raise self.err(ms, node, f"{t} passed as an operator argument")

    def _opdef_value(self, d: OpDef) -> Fn:
        names = [p for p, _ in d.params]

        def mk(c: Ctx, e: dict[str, Any]) -> Any:
            body = self.op_fn(d)

            def call(c2: Ctx, *args: Any) -> Any:
                return body(c2, dict(zip(names, args, strict=True)))

            return call

        return mk

    def _args(
        self, d_params: list[tuple[str, int]], arg_nodes: list[Node], ms: ModScope, loc: Loc
    ) -> list[Fn]:
        out = []
        for (_, arity), a in zip(d_params, arg_nodes, strict=True):
            out.append(self.op_value(a, ms, loc, arity) if arity > 0 else self.expr(a, ms, loc))
        return out

    def x_identifier_ref(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        return self.ref(self.text(ms, n), [], n, ms, loc)

    def x_bound_op(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        name = self.text(ms, n.child_by_field_name("name"))
        args = [a for a in n.children_by_field_name("parameter") if a.is_named and a.type not in ("comment",)]
        return self.ref(name, args, n, ms, loc)

    def x_prefixed_op(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        labelled = self.label_target(n, ms)
        if labelled is not None:
            return self._in_definition(labelled[0], labelled[1], labelled[2], ms, loc)
        sub, op = self.resolve_prefixed(n, ms)
        if op.type == "identifier_ref":
            return self.ref(self.text(sub, op), [], op, sub, {}, arg_ms=ms, arg_loc=loc)
        if op.type == "bound_op":
            name = self.text(sub, op.child_by_field_name("name"))
            args = [a for a in op.children_by_field_name("parameter") if a.is_named]
            return self.ref(name, args, op, sub, {}, arg_ms=ms, arg_loc=loc)
        return self.expr(op, sub, {})

    def ref(
        self,
        name: str,
        args: list[Node],
        n: Node,
        ms: ModScope,
        loc: Loc,
        arg_ms: ModScope | None = None,
        arg_loc: Loc | None = None,
    ) -> Fn:
        """A use of a name, with argument expressions (compiled in arg_ms/arg_loc)."""
        ams = arg_ms or ms
        aloc = loc if arg_loc is None else arg_loc
        kind = loc.get(name)
        if isinstance(kind, tuple):
            # a parameter passed by name (an argument containing primes)
            if args:
                raise self.err(ms, n, f"by-name operator parameter {name} applied to arguments")
            return self.expr(kind[1], kind[2], kind[3])
        if kind is not None:
            if kind == "val":
                if args:
                    raise SemanticError(f"{name} is not an operator at {ms.where(n)}")
                return leaf_fn("val", name)
            if kind == "lazy":
                return lambda c, e: e[name].force()
            afs = [self.op_value(a, ams, aloc, 0) for a in args]
            if len(afs) == 1:
                a0 = afs[0]
                return lambda c, e: e[name](c, a0(c, e))
            return lambda c, e: e[name](c, *[a(c, e) for a in afs])
        d = self.resolve(name, ms, n)
        if d is None:
            arity, impl = stdlib.NAMED[name]
            if len(args) != arity:
                raise SemanticError(f"{name} expects {arity} arguments at {ms.where(n)}")
            afs = [self.op_value(a, ams, aloc, 0) for a in args]
            if arity == 0:
                return lambda c, e: impl(c)
            if arity == 1:
                a0 = afs[0]
                return lambda c, e: impl(c, a0(c, e))
            return lambda c, e: impl(c, *[a(c, e) for a in afs])
        return self.ref_def(d, name, args, n, ms, ams, aloc)

    def ref_def(
        self, d: Def, name: str, args: list[Node], n: Node, ms: ModScope, ams: ModScope, aloc: Loc
    ) -> Fn:
        if isinstance(d, VarDef):
            vn = d.name
            return leaf_fn("var", vn)
        if isinstance(d, ConstDef):
            if not d.has_value:
                raise SemanticError(f"constant {name} has no value in the configuration", "config")
            v = d.value
            if args:
                afs = [self.op_value(a, ams, aloc, 0) for a in args]
                return lambda c, e: v(c, *[a(c, e) for a in afs])
            return leaf_fn("const", v)
        if isinstance(d, SubstDef):
            if d.fn is None:
                d.fn = self.expr(d.node, d.ms, {})
            if args:
                # an operator parameter substituted by an operator: evaluate to callable
                opv = self.op_value(d.node, d.ms, {}, len(args))
                afs = [self.op_value(a, ams, aloc, 0) for a in args]
                return lambda c, e: opv(c, {})(c, *[a(c, e) for a in afs])
            sf = d.fn
            return lambda c, e: sf(c, {})
        if isinstance(d, OpDef):
            if len(args) != len(d.params):
                raise SemanticError(f"{name} expects {len(d.params)} arguments at {ms.where(n)}")
            if not d.params:
                return self.eval0(d)
            if self._needs_by_name(d, args):
                return self._inline_call(d, args, ams, aloc)
            afs = self._args(d.params, args, ams, aloc)
            names = [p for p, _ in d.params]
            body_ref: list[Fn] = []

            if len(names) == 1:
                p0 = names[0]
                a0 = afs[0]

                def call1(c: Ctx, e: dict[str, Any]) -> Any:
                    if not body_ref:
                        body_ref.append(self.op_fn(d))
                    return body_ref[0](c, {p0: a0(c, e)})

                return call1

            def call(c: Ctx, e: dict[str, Any]) -> Any:
                if not body_ref:
                    body_ref.append(self.op_fn(d))
                return body_ref[0](c, {p: a(c, e) for p, a in zip(names, afs, strict=True)})

            return call
        if isinstance(d, InstDef):
            raise SemanticError(f"instance {name} used as a value at {ms.where(n)}")
        raise self.err(ms, n, f"reference to {name}")

    def _by_name_loc(
        self, d: OpDef, args: list[Node], ams: ModScope, aloc: Loc
    ) -> tuple[Loc, list[tuple[str, Fn]]]:
        """Body scope for a call whose primed arguments are substituted by name."""
        loc_b: Loc = {}
        strict: list[tuple[str, Fn]] = []
        primed = self._primed_params(d)
        for (p, arity), a in zip(d.params, args, strict=True):
            if arity == 0 and (_has_prime(a) or p in primed):
                loc_b[p] = ("subst", a, ams, aloc)  # type: ignore[assignment]
            else:
                loc_b[p] = "op" if arity else "val"
                strict.append((p, self.op_value(a, ams, aloc, arity) if arity else self.expr(a, ams, aloc)))
        return loc_b, strict

    def _needs_by_name(self, d: OpDef, args: list[Node]) -> bool:
        primed = self._primed_params(d)
        return any(
            a0 == 0 and (_has_prime(x) or p in primed) for (p, a0), x in zip(d.params, args, strict=True)
        )

    def _primed_params(self, d: OpDef) -> set[str]:
        """Parameters the body primes (p' or UNCHANGED p): TLC substitutes their argument expressions."""
        r = self._primed_memo.get(id(d))
        if r is None:
            names = {p for p, a in d.params if a == 0}
            r = set()
            stack = [d.body]
            while stack:
                x = stack.pop()
                if x.type == "bound_postfix_op" and x.child_by_field_name("symbol").type == "prime":
                    r |= {self.text(d.ms, y) for y in _idents(x) if self.text(d.ms, y) in names}
                elif x.type == "bound_prefix_op" and x.child_by_field_name("symbol").type == "unchanged":
                    r |= {self.text(d.ms, y) for y in _idents(x) if self.text(d.ms, y) in names}
                stack.extend(x.named_children)
            self._primed_memo[id(d)] = r
        return r

    def _inline_call(self, d: OpDef, args: list[Node], ams: ModScope, aloc: Loc) -> Fn:
        loc_b, strict = self._by_name_loc(d, args, ams, aloc)
        body = self.expr(d.body, d.ms, loc_b)

        def inl(c: Ctx, e: dict[str, Any]) -> Any:
            env = dict(e)
            for p, f in strict:
                env[p] = f(c, e)
            return body(c, env)

        return inl
