"""Compiles tree-sitter TLA+ expressions into Python closures.

Expressions compile to `f(c, e) -> value` (c: Ctx, e: bound names). Actions (Init / Next and
everything TLC enumerates) compile to `a(c, e, k)` in continuation-passing style: `a` calls
`k()` once for every way it can be satisfied, with the assignment it made present in the
target dict (c.p for Next, c.s for Init) and undone afterwards.

`loc` maps the names bound around an expression at compile time to their kind:
"val" (a value in e), "op" (an operator value in e: callable(c, *args)), "lazy" (a LET
zero-arity definition in e, a runtime.Lazy).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tlacheck.builtin import stdlib
from tlacheck.builtin.fingerprint import except_sum
from tlacheck.builtin.runtime import (
    CONST_CTX,
    Act,
    Ctx,
    Fn,
    Lazy,
    NeedsState,
    PDict,
    RecFn,
    apply_fn,
    as_fv,
    bind,
)
from tlacheck.builtin.scope import (
    AliasDef,
    ConstDef,
    Def,
    InstDef,
    ModScope,
    OpDef,
    SemanticError,
    SubstDef,
    Unsupported,
    VarDef,
)
from tlacheck.builtin.syntax import Module, ModuleLoader, Node, kids
from tlacheck.builtin.values import (
    FV,
    DiffSet,
    EvalError,
    FilterSet,
    FnSet,
    LazySet,
    PowerSet,
    ProductSet,
    RecSet,
    StringSet,
    UnionSet,
    is_finite,
    iter_set,
    member,
    mkseq,
    render,
    sorted_elems,
    to_frozenset,
)

Loc = dict[str, str]

BOOLEAN_SET = frozenset({False, True})

INFIX_SYMBOL_TEXT = {
    "dots_2": "..",
    "plus": "+",
    "minus": "-",
    "mul": "*",
    "pow": "^",
    "div": "\\div",
    "mod": "%",
    "lt": "<",
    "gt": ">",
    "leq": "<=",
    "geq": ">=",
    "circ": "\\o",
    "map_to": ":>",
    "compose": "@@",
    "oplus": "(+)",
    "ominus": "(-)",
    "sqsubseteq": "\\sqsubseteq",
}

TEMPORAL_PREFIX = {"always", "eventually"}


# Node types whose value is worth caching when it turns out to be constant.
HOISTABLE = frozenset(
    {
        "bound_infix_op",
        "bound_prefix_op",
        "bound_op",
        "set_of_functions",
        "set_of_records",
        "set_map",
        "set_filter",
        "finite_set_literal",
        "function_literal",
        "choose",
        "tuple_literal",
        "record_literal",
        "parentheses",
        "if_then_else",
        "case",
    }
)


def _cache_constant(f: Fn) -> Fn:
    """Evaluate f once in a constant context; fall back to f whenever it needs the state."""
    state = [0, None]  # 0 untried, 1 constant, 2 not constant

    def cached(c: Ctx, e: dict[str, Any]) -> Any:
        st = state[0]
        if st == 1:
            return state[1]
        if st == 0:
            try:
                state[1] = f(CONST_CTX, {})
                state[0] = 1
                return state[1]
            except (NeedsState, EvalError, KeyError):
                state[0] = 2
        return f(c, e)

    return cached


class Found(Exception):
    """Raised to stop an enumeration early (ENABLED)."""


def _truth(v: Any, what: str) -> bool:
    if v is True:
        return True
    if v is False:
        return False
    raise EvalError(f"{what} evaluated to the non-boolean {render(v)}")


class Compiler:
    """Loads modules into scopes and compiles expressions and actions."""

    def __init__(self, loader: ModuleLoader) -> None:
        self.loader = loader
        self.variables: list[str] = []
        self.assumptions: list[tuple[Node, ModScope]] = []
        self.scoped_overrides: dict[tuple[str, str], str] = {}
        self._state_level_memo: dict[int, bool] = {}
        self.std_overrides: dict[str, Def] = {}
        self.root_ms: ModScope | None = None
        self.scoped_values: dict[tuple[str, str], Any] = {}
        self._primed_memo: dict[int, set[str]] = {}

    # ------------------------------------------------------------------ loading modules

    def load_root(self, module: Module) -> ModScope:
        ms = ModScope(module, self)
        self.root_ms = ms

        def binder(name: str, arity: int, node: Node, kind: str) -> Def:
            if kind == "var":
                if name not in self.variables:
                    self.variables.append(name)
                return VarDef(name)
            return ConstDef(name, arity, node, ms)

        self._load_into(ms, module, binder)
        return ms

    def _load_into(self, ms: ModScope, module: Module, binder: Callable[[str, int, Node, str], Def]) -> None:
        if module.name in ms.loaded:
            return
        ms.loaded.add(module.name)
        for ext in module.extends:
            sub = module.submodules.get(ext) or self.loader.load(ext)
            if sub is not None:
                self._load_into(ms, sub, binder)
        for name, arity, node in module.constants:
            ms.names[name] = binder(name, arity, node, "const")
        for name in module.variables:
            ms.names[name] = binder(name, 0, None, "var")
        for kind, node, _local in module.units:
            if kind == "operator_definition":
                self._def_operator(ms, module, node)
            elif kind == "function_definition":
                name = module.text(node.child_by_field_name("name"))
                body = node.child_by_field_name("definition")
                ms.names[name] = OpDef(
                    name, [], body, ms, fn_bounds=node, recursive_fn=self._refers_to(module, body, name)
                )
            elif kind == "module_definition":
                name = module.text(node.child_by_field_name("name"))
                params = [module.text(p) for p in node.children_by_field_name("parameter") if p.is_named]
                ms.names[name] = InstDef(name, node.child_by_field_name("definition"), ms, params)
            elif kind == "instance":
                inst = self._instantiate(node, ms)
                for n, d in inst.names.items():
                    if isinstance(d, OpDef | InstDef):
                        ms.names[n] = d
            elif kind == "assumption":
                self.assumptions.append((node, ms))
        for (mod_name, name), value in self.scoped_values.items():
            od = ms.names.get(name)
            if mod_name == module.name and isinstance(od, OpDef):
                od.const_state = 1
                od.value = value
                od.fn = lambda c, e, v=value: v
            elif mod_name == module.name and isinstance(od, ConstDef):
                od.value = value
                od.has_value = True
        for (mod_name, const), def_name in self.scoped_overrides.items():
            if (
                mod_name == module.name
                and (const in ms.names or const in stdlib.NAMED)
                and self.root_ms is not None
            ):
                # `C <- [M] D`: C as seen in module M is D of the model (root) module
                ms.names[const] = AliasDef(def_name, self.root_ms)

    def _def_operator(self, ms: ModScope, module: Module, node: Node) -> None:
        name_node = node.child_by_field_name("name")
        name = module.text(name_node)
        params: list[tuple[str, int]] = []
        for p in node.children_by_field_name("parameter"):
            if p.type == "identifier":
                params.append((module.text(p), 0))
            elif p.type == "operator_declaration":
                params.append(
                    (
                        module.text(p.child_by_field_name("name")),
                        sum(1 for c in p.named_children if c.type == "placeholder"),
                    )
                )
        body = node.child_by_field_name("definition")
        ms.names[name] = OpDef(name, params, body, ms)

    def _refers_to(self, module: Module, node: Node, name: str) -> bool:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "identifier_ref" and module.text(n) == name:
                return True
            stack.extend(n.named_children)
        return False

    def _instantiate(self, inst_node: Node, outer: ModScope, params: Loc | None = None) -> ModScope:
        m = outer.module
        ks = kids(inst_node)
        mod_name = m.text(ks[0])
        target = m.submodules.get(mod_name) or self.loader.load(mod_name)
        if target is None:
            # a standard module: its operators are built in
            return ModScope(Module(mod_name, None, b"", None), self)
        substs: dict[str, Node] = {}
        for s in ks[1:]:
            if s.type == "substitution":
                sk = kids(s)
                lhs = m.text(sk[0])
                substs[lhs] = sk[-1]
        ms = ModScope(target, self)

        def binder(name: str, arity: int, node: Node, kind: str) -> Def:
            if name in substs:
                return SubstDef(name, substs[name], outer)
            return AliasDef(name, outer)

        self._load_into(ms, target, binder)
        return ms

    def instance_scope(self, d: InstDef) -> ModScope:
        if d.params:
            raise Unsupported(f"parameterized INSTANCE definition {d.name} at {d.ms.where(d.node)}")
        if d.inst is None:
            d.inst = self._instantiate(d.node, d.ms)
        return d.inst

    # ------------------------------------------------------------------ helpers

    def err(self, ms: ModScope, node: Node, what: str) -> Unsupported:
        return Unsupported(f"unsupported construct {what} at {ms.where(node)}")

    def text(self, ms: ModScope, node: Node) -> str:
        return ms.module.text(node)

    def resolve(self, name: str, ms: ModScope, node: Node) -> Def | None:
        d = ms.lookup(name)
        if d is None and name not in stdlib.NAMED:
            raise SemanticError(f"unknown identifier {name} at {ms.where(node)}")
        return d

    def resolve_prefixed(self, node: Node, ms: ModScope) -> tuple[ModScope, Node]:
        """For I!J!Op: the scope of the innermost instance and the op node."""
        prefix = node.child_by_field_name("prefix")
        op = node.child_by_field_name("op")
        cur = ms
        for comp in prefix.named_children:
            if comp.type != "subexpr_component":
                raise self.err(ms, node, "subexpression selector")
            inner = comp.named_children[0]
            if inner.type != "identifier_ref":
                raise self.err(ms, node, "parameterized instance reference")
            d = cur.lookup(self.text(cur, inner))
            if not isinstance(d, InstDef):
                raise self.err(cur, node, f"{self.text(cur, inner)}! (not an instance)")
            cur = self.instance_scope(d)
        return cur, op

    # ------------------------------------------------------------------ operator defs

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
                    d.value = f(CONST_CTX, {})
                    d.const_state = 1
                    return d.value
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

    # ------------------------------------------------------------------ expressions

    def expr(self, node: Node, ms: ModScope, loc: Loc) -> Fn:
        t = node.type
        m = getattr(self, "x_" + t, None)
        if m is None:
            raise self.err(ms, node, t)
        f: Fn = m(node, ms, loc)
        if t in HOISTABLE and self._maybe_constant(node, ms, loc):
            return _cache_constant(f)
        return f

    def _maybe_constant(self, node: Node, ms: ModScope, loc: Loc) -> bool:
        """No bound names, variables, primes or @ syntactically: worth trying to evaluate once."""
        stack = [node]
        while stack:
            x = stack.pop()
            t = x.type
            if t in ("prime", "prev_func_val", "enabled", "unchanged"):
                return False
            if t == "identifier_ref":
                name = self.text(ms, x)
                if name in loc:
                    return False
                if isinstance(ms.lookup(name), VarDef | SubstDef):
                    return False
            elif t in ("quantifier_bound", "lambda", "let_in", "prefixed_op", "subexpression"):
                # bound names introduced inside are fine at runtime; the check below stays conservative
                if t in ("prefixed_op", "subexpression", "let_in"):
                    return False
            stack.extend(x.named_children)
        return True

    def x_parentheses(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        return self.expr(kids(n)[0], ms, loc)

    def x_label(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        return self.expr(n.child_by_field_name("expression"), ms, loc)

    def x_nat_number(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        v = int(self.text(ms, n))
        return lambda c, e: v

    def x_boolean(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        v = self.text(ms, n) == "TRUE"
        return lambda c, e: v

    def x_string(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        raw = self.text(ms, n)[1:-1]
        v = raw.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")
        return lambda c, e: v

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
        return self.expr(target[0], target[1], {})

    def subexpression(self, n: Node, ms: ModScope) -> tuple[Node, ModScope] | None:
        """Name!i for a definition whose body is a conjunction/disjunction list: its i-th item."""
        prefix = next((x for x in n.named_children if x.type == "subexpr_prefix"), None)
        nav = next((x for x in n.named_children if x.type == "subexpr_tree_nav"), None)
        if prefix is None or nav is None:
            return None
        comps = [x for x in prefix.named_children if x.type == "subexpr_component"]
        if len(comps) != 1 or comps[0].named_children[0].type != "identifier_ref":
            return None
        d = ms.lookup(self.text(ms, comps[0].named_children[0]))
        ids = [x for x in nav.named_children if x.type == "child_id"]
        if not isinstance(d, OpDef) or d.params or len(ids) != 1:
            return None
        body = d.body
        while body.type == "parentheses":
            body = kids(body)[0]
        if body.type not in ("conj_list", "disj_list"):
            return None
        items = [kids(i)[-1] for i in kids(body) if i.type in ("conj_item", "disj_item")]
        k = int(self.text(ms, ids[0]))
        if not 1 <= k <= len(items):
            return None
        return items[k - 1], d.ms

    def x_string_set(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        v = StringSet()
        return lambda c, e: v

    def x_identifier_ref(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        return self.ref(self.text(ms, n), [], n, ms, loc)

    def x_bound_op(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        name = self.text(ms, n.child_by_field_name("name"))
        args = [a for a in n.children_by_field_name("parameter") if a.is_named and a.type not in ("comment",)]
        return self.ref(name, args, n, ms, loc)

    def x_prefixed_op(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
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
                return lambda c, e: e[name]
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
            return lambda c, e: c.s[vn]
        if isinstance(d, ConstDef):
            if not d.has_value:
                raise SemanticError(f"constant {name} has no value in the configuration", "config")
            v = d.value
            if args:
                afs = [self.op_value(a, ams, aloc, 0) for a in args]
                return lambda c, e: v(c, *[a(c, e) for a in afs])
            return lambda c, e: v
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

    # --- operators

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
        if st == "eq":
            return lambda c, e: a(c, e) == b(c, e)
        if st == "neq":
            return lambda c, e: a(c, e) != b(c, e)
        if st == "in":
            return lambda c, e: member(a(c, e), b(c, e))
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
        return lambda c, e: apply_fn(r(c, e), field)

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
            updates.append((path, self.expr(u.child_by_field_name("new_val"), ms, loc2)))

        def exc(c: Ctx, e: dict[str, Any]) -> Any:
            f = base(c, e)
            for path, val in updates:
                keys = [k(c, e) for k in path]
                f = _update(f, keys, 0, val, c, e)
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

    def x_lambda(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        return self.op_value(n, ms, loc, 1)

    def x_bound_nonfix_op(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        sym = n.child_by_field_name("symbol")
        args = [self.expr(x, ms, loc) for x in kids(n) if x != sym]
        opv = self.op_value(sym, ms, loc, len(args))
        return lambda c, e: opv(c, e)(c, *[a(c, e) for a in args])

    def x_fairness(self, n: Node, ms: ModScope, loc: Loc) -> Fn:
        raise self.err(ms, n, "fairness formula in a non-temporal context")

    # ------------------------------------------------------------------ actions (CPS)

    def action(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act:
        t = node.type
        if t == "parentheses":
            return self.action(kids(node)[0], ms, loc, top, init)
        if t == "label":
            return self.action(node.child_by_field_name("expression"), ms, loc, top, init)
        if t == "conj_list":
            return self._a_conj([kids(i)[-1] for i in kids(node) if i.type == "conj_item"], ms, loc, init)
        if t == "disj_list":
            return self._a_disj(
                [kids(i)[-1] for i in kids(node) if i.type == "disj_item"], ms, loc, top, init
            )
        if t == "bound_infix_op":
            st = node.child_by_field_name("symbol").type
            lhs = node.child_by_field_name("lhs")
            rhs = node.child_by_field_name("rhs")
            if st == "land":
                return self._a_conj(_flatten(node, "land"), ms, loc, init)
            if st == "lor":
                return self._a_disj(_flatten(node, "lor"), ms, loc, top, init)
            if st in ("eq", "in"):
                target = self._assign_target(lhs, ms, loc, init)
                if target is not None:
                    return self._a_assign(
                        target, st == "in", _located(self.expr(rhs, ms, loc), ms.where(rhs)), init
                    )
        if t == "bound_prefix_op":
            st = node.child_by_field_name("symbol").type
            if st == "unchanged" and not init:
                names = self._var_list(node.child_by_field_name("rhs"), ms, loc)
                if names is not None:
                    return self._a_unchanged(names)
        if t == "bounded_quantification" and node.child_by_field_name("quantifier").type == "exists":
            pats, sets, loc2, body_n = self._quant_parts(node, ms, loc)
            body = self.action(body_n, ms, loc2, top, init)
            envs = _env_gen(pats, sets)

            def ex(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                for env in envs(c, e):
                    body(c, env, k)

            return ex
        if t == "bounded_quantification" and node.child_by_field_name("quantifier").type == "forall":
            # TLC enumerates \A in an action as the conjunction of its instances
            pats, sets, loc2, body_n = self._quant_parts(node, ms, loc)
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
        if t == "if_then_else":
            cond = self.expr(node.child_by_field_name("if"), ms, loc)
            a = self.action(node.child_by_field_name("then"), ms, loc, top, init)
            b = self.action(node.child_by_field_name("else"), ms, loc, top, init)

            def ite(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                if _truth(cond(c, e), "IF condition"):
                    a(c, e, k)
                else:
                    b(c, e, k)

            return ite
        if t == "case":
            arms, other = self._case_arms(node, ms, loc, lambda x, m2, l2: self.action(x, m2, l2, top, init))

            def case(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                for g, a in arms:
                    if _truth(g(c, e), "CASE guard"):
                        a(c, e, k)
                        return
                if other is not None:
                    other(c, e, k)
                    return
                raise EvalError(f"no CASE arm applies at {where}")

            where = ms.where(node)
            return case
        if t == "let_in":
            loc2, binder = self._let_binder(node, ms, loc)
            body = self.action(node.child_by_field_name("expression"), ms, loc2, top, init)
            return lambda c, e, k: body(c, binder(c, e), k)
        if t in ("identifier_ref", "bound_op", "prefixed_op"):
            r = self._a_ref(node, ms, loc, top, init)
            if r is not None:
                return r
        if t == "step_expr_or_stutter":
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
        if t == "step_expr_no_stutter":
            ks = [x for x in kids(node) if x.type not in ("langle_bracket", "rangle_bracket_sub")]
            a = self.action(ks[0], ms, loc, top, init)
            v = self.expr(ks[-1], ms, loc)

            def ang(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                def k2() -> None:
                    if v(c.primed(), e) != v(c, e):
                        k()

                a(c, e, k2)

            return ang
        # anything else: a guard evaluated as a boolean (may read already assigned primes)
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

        def call(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
            body = cell.actions[key]
            env = {p: a(c, e) for p, a in zip(names, afs, strict=True)} if names else {}
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

        def chain(i: int) -> Act:
            a = acts[i]
            if i == len(acts) - 1:
                return a
            rest = chain(i + 1)
            return lambda c, e, k: a(c, e, lambda: rest(c, e, k))

        return chain(0)

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

    def _a_assign(self, name: str, is_in: bool, rhs: Fn, init: bool) -> Act:
        if is_in:

            def assign_in(c: Ctx, e: dict[str, Any], k: Callable[[], None]) -> None:
                p = c.s if init else c.p
                assert p is not None
                s = rhs(c, e)
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
            v = rhs(c, e)
            if name in p:
                if p[name] == v:
                    k()
                return
            p[name] = v
            try:
                k()
            finally:
                del p[name]

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


# ---------------------------------------------------------------------- runtime helpers


def _located(f: Fn, where: str) -> Fn:
    def located(c: Ctx, e: dict[str, Any]) -> Any:
        try:
            return f(c, e)
        except EvalError as ex:
            raise ex.located(where) from None

    return located


def _const_fn(v: Any) -> Fn:
    return lambda c, e: v


def _tuple_fn(items: list[Fn]) -> Fn:
    return lambda c, e: mkseq([a(c, e) for a in items])


def _idents(n: Node) -> list[Node]:
    out = []
    stack = [n]
    while stack:
        x = stack.pop()
        if x.type == "identifier_ref":
            out.append(x)
        stack.extend(x.named_children)
    return out


def _has_prime(n: Node) -> bool:
    stack = [n]
    while stack:
        x = stack.pop()
        t = x.type
        if t == "prime" or t == "unchanged":
            return True
        stack.extend(x.children)
    return False


def _pat_names(pats: list[Any]) -> list[str]:
    out: list[str] = []
    for p in pats:
        if isinstance(p, str):
            out.append(p)
        else:
            out.extend(p)
    return out


def _flatten(n: Node, sym: str) -> list[Node]:
    if n.type == "bound_infix_op" and n.child_by_field_name("symbol").type == sym:
        return _flatten(n.child_by_field_name("lhs"), sym) + _flatten(n.child_by_field_name("rhs"), sym)
    return [n]


def _env_gen(pats: list[Any], sets: list[Fn]) -> Callable[[Ctx, dict[str, Any]], Iterator[dict[str, Any]]]:
    if len(pats) == 1 and isinstance(pats[0], str):
        p0, s0 = pats[0], sets[0]

        def gen1(c: Ctx, e: dict[str, Any]) -> Iterator[dict[str, Any]]:
            for v in iter_set(s0(c, e)):
                env = dict(e)
                env[p0] = v
                yield env

        return gen1

    def gen(c: Ctx, e: dict[str, Any]) -> Iterator[dict[str, Any]]:
        svals = [list(iter_set(s(c, e))) for s in sets]
        for combo in itertools.product(*svals):
            env = dict(e)
            for p, v in zip(pats, combo, strict=True):
                bind(p, v, env)
            yield env

    return gen


def _let_op(name: str, params: list[str], body: Fn) -> Callable[[Ctx, dict[str, Any]], None]:
    def step(c: Ctx, e2: dict[str, Any]) -> None:
        def op(c2: Ctx, *args: Any) -> Any:
            env = dict(e2)
            env.update(zip(params, args, strict=True))
            return body(c2, env)

        e2[name] = op

    return step


def _let_lazy(name: str, body: Fn) -> Callable[[Ctx, dict[str, Any]], None]:
    def step(c: Ctx, e2: dict[str, Any]) -> None:
        e2[name] = Lazy(body, c, e2)

    return step


def _let_recfn(name: str, pats: list[Any], sets: list[Fn], body: Fn) -> Callable[[Ctx, dict[str, Any]], None]:
    def step(c: Ctx, e2: dict[str, Any]) -> None:
        def mk(c3: Ctx, e3: dict[str, Any]) -> Any:
            svals = [s(c3, e3) for s in sets]
            dom = svals[0] if len(svals) == 1 else _cartesian(svals)
            return RecFn(name, dom, pats, body, c3, e3)

        e2[name] = Lazy(mk, c, e2)

    return step


def _update(f: Any, keys: list[Any], i: int, val: Fn, c: Ctx, e: dict[str, Any]) -> Any:
    fv = as_fv(f)
    k = keys[i]
    if k not in fv.d:
        return fv  # TLC: EXCEPT at a point outside the domain leaves the function unchanged
    d = dict(fv.d)
    if i == len(keys) - 1:
        env = dict(e)
        env["@"] = d[k]
        d[k] = val(c, env)
    else:
        d[k] = _update(d[k], keys, i + 1, val, c, e)
    r = FV(d)
    if fv.s is not None and len(d) > 6:  # small functions: cheaper to re-hash when needed
        except_sum(fv, r, k)
    return r


def _add(a: Any, b: Any) -> int:
    if type(a) is int and type(b) is int:
        return a + b
    raise EvalError(f"+ applied to non-integers {render(a)}, {render(b)}")


def _sub(a: Any, b: Any) -> int:
    if type(a) is int and type(b) is int:
        return a - b
    raise EvalError(f"- applied to non-integers {render(a)}, {render(b)}")


def _lt(a: Any, b: Any) -> bool:
    if type(a) is int and type(b) is int:
        return a < b
    raise EvalError(f"< applied to non-integers {render(a)}, {render(b)}")


def _union(a: Any, b: Any) -> Any:
    if type(a) is frozenset and type(b) is frozenset:
        return a | b
    if not (is_finite(a) and is_finite(b)):
        return UnionSet(a, b)
    return to_frozenset(a) | to_frozenset(b)


def _inter(a: Any, b: Any) -> frozenset[Any]:
    if isinstance(a, frozenset) and isinstance(b, LazySet):
        return frozenset(x for x in a if b.contains(x))
    if isinstance(b, frozenset) and isinstance(a, LazySet):
        return frozenset(x for x in b if a.contains(x))
    return to_frozenset(a) & to_frozenset(b)


def _minus(a: Any, b: Any) -> Any:
    if not is_finite(a):
        return DiffSet(a, b)
    if isinstance(b, LazySet):
        return frozenset(x for x in to_frozenset(a) if not b.contains(x))
    return to_frozenset(a) - to_frozenset(b)


def _subseteq(a: Any, b: Any) -> bool:
    if isinstance(b, frozenset):
        return to_frozenset(a) <= b
    return all(member(x, b) for x in iter_set(a))


def _big_union(s: Any) -> frozenset[Any]:
    out: set[Any] = set()
    for x in iter_set(s):
        out.update(iter_set(x))
    return frozenset(out)


def _domain(f: Any) -> Any:
    if isinstance(f, FV):
        return frozenset(f.d)
    if isinstance(f, RecFn):
        return f.dom
    raise EvalError(f"DOMAIN applied to a non-function {render(f)}")


def _cartesian(sets: list[Any]) -> Any:
    if not all(is_finite(s) for s in sets):
        return ProductSet(sets)
    return frozenset(mkseq(t) for t in itertools.product(*(list(iter_set(s)) for s in sets)))


def compile_root(path: Path) -> tuple[Compiler, ModScope]:
    loader = ModuleLoader(path.parent)
    from tlacheck.builtin.syntax import parse_file

    mod = parse_file(path)
    comp = Compiler(loader)
    ms = comp.load_root(mod)
    return comp, ms
