"""Shared pieces of the compiler: node-type tables, constant caching, and the value-level helpers that compiled closures call at run time."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from tlacheck.builtin.fingerprint import except_sum
from tlacheck.builtin.runtime import (
    CONST_CTX,
    Ctx,
    Fn,
    Lazy,
    NeedsState,
    RecFn,
    as_fv,
    bind,
)
from tlacheck.builtin.syntax import Node
from tlacheck.builtin.values import (
    FV,
    BigUnionSet,
    DiffSet,
    EvalError,
    FilterSet,
    InterSet,
    LazySet,
    ProductSet,
    UnionSet,
    is_finite,
    iter_set,
    member,
    mkseq,
    render,
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
                v = f(CONST_CTX, {})
                if captures_context(v):
                    state[0] = 2
                else:
                    state[1] = v
                    state[0] = 1
                    return v
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


def _update(f: Any, keys: list[Any], i: int, val: Fn, c: Ctx, e: dict[str, Any], at: bool = True) -> Any:
    """f with the value at path keys[i:] replaced by val (evaluated with @ bound if `at`)."""
    fv = f if type(f) is FV else as_fv(f)
    k = keys[i]
    if k not in fv.d:
        return fv  # TLC: EXCEPT at a point outside the domain leaves the function unchanged
    d = dict(fv.d)
    if i == len(keys) - 1:
        if at:
            env = dict(e)
            env["@"] = d[k]
            d[k] = val(c, env)
        else:
            d[k] = val(c, e)
    else:
        d[k] = _update(d[k], keys, i + 1, val, c, e, at)
    r = FV(d)
    if fv.s is not None:  # O(1) from the old pair sum: cheaper than re-hashing even 1 pair
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


def _inter(a: Any, b: Any) -> Any:
    if isinstance(a, frozenset) and isinstance(b, LazySet):
        return frozenset(x for x in a if b.contains(x))
    if isinstance(b, frozenset) and isinstance(a, LazySet):
        return frozenset(x for x in b if a.contains(x))
    if isinstance(a, LazySet) and isinstance(b, LazySet) and not (a.finite and b.finite):
        # e.g. Int \cap Nat: kept symbolic, like TLC; a finite side is still enumerated
        if a.finite:
            return frozenset(x for x in a.elements() if b.contains(x))
        if b.finite:
            return frozenset(x for x in b.elements() if a.contains(x))
        return InterSet(a, b)
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


def _big_union(s: Any) -> Any:
    members = list(iter_set(s))
    if any(isinstance(x, LazySet) and not x.finite for x in members):
        return BigUnionSet(members)  # UNION {Nat, {NULL}}: membership only, like TLC
    out: set[Any] = set()
    for x in members:
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


def leaf_fn(kind: str, x: Any) -> Fn:
    """A leaf closure, tagged so that the operators around it can specialise: "const" (the
    value x), "var" (state variable x) or "val" (bound name x)."""
    if kind == "const":
        f: Fn = lambda c, e: x  # noqa: E731
    elif kind == "var":
        f = lambda c, e: c.s[x]  # noqa: E731
    else:
        f = lambda c, e: e[x]  # noqa: E731
    f.leaf = (kind, x)  # type: ignore[attr-defined]
    return f


def leaf_of(f: Fn) -> tuple[str, Any] | None:
    r: tuple[str, Any] | None = getattr(f, "leaf", None)
    return r


def captures_context(v: Any) -> bool:
    """Does v evaluate expressions later, in the context it was built in? (A set filter over an
    infinite set tests its predicate on membership; a recursive function evaluates its body on
    application.) Such a value built in the constant context must not be cached as a constant:
    its predicate or body may read variables."""
    if isinstance(v, FilterSet | RecFn):
        return True
    if isinstance(v, LazySet):
        for x in vars(v).values() if hasattr(v, "__dict__") else ():
            if isinstance(x, list | tuple):
                if any(captures_context(y) for y in x):
                    return True
            elif isinstance(x, dict):
                if any(captures_context(y) for y in x.values()):
                    return True
            elif captures_context(x):
                return True
    return False
