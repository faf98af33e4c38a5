"""Folds, FiniteSetsExt, Functions and BagsExt.

Fold order: where TLC overrides an operator in Java (FoldSet, FoldFunction, FoldFunctionOnSet,
FoldBag), the native version folds like TLC's override: the elements in TLC's order, each
combined with the accumulator so far (`acc := op(x, acc)`, FoldBag `acc := op(acc, x)`). The
TLA+ definitions leave the order unspecified ("op should be associative and commutative");
for such an op all orders agree. MapThenFoldSet has no override and follows its definition:
`op(f(x1), op(f(x2), ... op(f(xn), base)))` with x1 = choose(S), x2 = choose(S \\ {x1}), ...
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from tlacheck.builtin.community.base import (
    FV,
    EvalError,
    apply,
    boolean,
    elems,
    fn,
    fset,
    integer,
    native,
    render,
)
from tlacheck.builtin.runtime import Ctx
from tlacheck.builtin.values import FnSet, vkey

# --- Folds -----------------------------------------------------------------------------------


@native("Folds", "MapThenFoldSet", 5)
def map_then_fold_set(c: Ctx, op: Any, base: Any, f: Any, choose: Any, s: Any) -> Any:
    rest = set(fset(s))
    order = []
    while rest:
        x = choose(c, frozenset(rest))
        if x not in rest:
            raise EvalError(f"MapThenFoldSet: choose returned {render(x)}, not an element of the set")
        order.append(x)
        rest.discard(x)
    acc = base
    for x in reversed(order):
        acc = op(c, f(c, x), acc)
    return acc


# --- FiniteSetsExt ---------------------------------------------------------------------------


def fold_set(c: Ctx, op: Any, base: Any, s: Any) -> Any:
    acc = base
    for x in elems(s):
        acc = op(c, x, acc)
    return acc


native("FiniteSetsExt", "FoldSet", 3)(fold_set)


@native("FiniteSetsExt", "SumSet", 1)
def sum_set(c: Ctx, s: Any) -> int:
    return sum(integer(x) for x in elems(s))


@native("FiniteSetsExt", "ProductSet", 1)
def product_set(c: Ctx, s: Any) -> int:
    return math.prod(integer(x) for x in elems(s))


@native("FiniteSetsExt", "ReduceSet", 3)
def reduce_set(c: Ctx, op: Any, s: Any, acc: Any) -> Any:
    return fold_set(c, op, acc, s)


@native("FiniteSetsExt", "MapThenSumSet", 2)
def map_then_sum_set(c: Ctx, op: Any, s: Any) -> int:
    return sum(integer(op(c, x)) for x in elems(s))


@native("FiniteSetsExt", "FlattenSet", 1)
def flatten_set(c: Ctx, s: Any) -> frozenset[Any]:
    out: set[Any] = set()
    for x in elems(s):
        out.update(fset(x))
    return frozenset(out)


@native("FiniteSetsExt", "SymDiff", 2)
def sym_diff(c: Ctx, a: Any, b: Any) -> frozenset[Any]:
    return fset(a) ^ fset(b)


@native("FiniteSetsExt", "Quantify", 2)
def quantify(c: Ctx, s: Any, p: Any) -> int:
    return sum(1 for x in elems(s) if boolean(p(c, x), "the predicate of Quantify"))


@native("FiniteSetsExt", "kSubset", 2)
def k_subset(c: Ctx, k: Any, s: Any) -> frozenset[Any]:
    k = integer(k)
    items = elems(s)
    if k < 0 or k > len(items):
        return frozenset()
    return frozenset(frozenset(t) for t in itertools.combinations(items, k))


def _extreme(s: Any, name: str, pick: Any) -> int:
    xs = [integer(x, "a set of integers") for x in elems(s)]
    if not xs:
        raise EvalError(f"{name} of the empty set: CHOOSE x \\in {{}} has no value")
    return int(pick(xs))


@native("FiniteSetsExt", "Max", 1)
def max_(c: Ctx, s: Any) -> int:
    return _extreme(s, "Max", max)


@native("FiniteSetsExt", "Min", 1)
def min_(c: Ctx, s: Any) -> int:
    return _extreme(s, "Min", min)


@native("FiniteSetsExt", "Choices", 1)
def choices(c: Ctx, sets: Any) -> frozenset[Any]:
    members = [elems(t) for t in elems(sets)]
    return frozenset(frozenset(combo) for combo in itertools.product(*members))


@native("FiniteSetsExt", "ChooseUnique", 2)
def choose_unique(c: Ctx, s: Any, p: Any) -> Any:
    hits = [x for x in elems(s) if boolean(p(c, x), "the predicate of ChooseUnique")]
    if len(hits) != 1:
        raise EvalError(
            f"ChooseUnique: {len(hits)} elements of {render(s)} satisfy the predicate (CHOOSE needs exactly one)"
        )
    return hits[0]


# --- Functions -------------------------------------------------------------------------------


def _dom(f: Any) -> list[Any]:
    return sorted(fn(f).d, key=vkey)


@native("Functions", "Restrict", 2)
def restrict(c: Ctx, f: Any, s: Any) -> FV:
    return FV({x: apply(f, x) for x in elems(s)})


@native("Functions", "RestrictDomain", 2)
def restrict_domain(c: Ctx, f: Any, test: Any) -> FV:
    d = fn(f).d
    return FV({x: d[x] for x in _dom(f) if boolean(test(c, x), "the test of RestrictDomain")})


@native("Functions", "RestrictValues", 2)
def restrict_values(c: Ctx, f: Any, test: Any) -> FV:
    d = fn(f).d
    return FV({x: d[x] for x in _dom(f) if boolean(test(c, d[x]), "the test of RestrictValues")})


@native("Functions", "IsRestriction", 2)
def is_restriction(c: Ctx, narrow: Any, wide: Any) -> bool:
    dn, dw = fn(narrow).d, fn(wide).d
    return all(x in dw and dw[x] == v for x, v in dn.items())


def range_(f: Any) -> frozenset[Any]:
    return frozenset(fn(f).d.values())


native("Functions", "Range", 1)(lambda c, f: range_(f))


@native("Functions", "Pointwise", 3)
def pointwise(c: Ctx, f: Any, g: Any, t: Any) -> FV:
    d = fn(f).d
    return FV({x: t(c, d[x], apply(g, x)) for x in _dom(f)})


def inverse(f: Any, s: Any, t: Any) -> FV:
    d = fn(f).d
    rng = frozenset(d.values())
    dom = elems(s)
    out: dict[Any, Any] = {}
    for y in elems(t):
        if y not in rng:
            if not dom:
                raise EvalError("Inverse: CHOOSE s \\in {} has no value")
            out[y] = dom[0]
            continue
        for x in dom:
            if apply(f, x) == y:
                out[y] = x
                break
        else:
            raise EvalError(f"Inverse: no element of {render(s)} is mapped to {render(y)}")
    return FV(out)


native("Functions", "Inverse", 3)(lambda c, f, s, t: inverse(f, s, t))
native("Functions", "AntiFunction", 1)(lambda c, f: inverse(f, frozenset(fn(f).d), range_(f)))


def is_injective(f: Any) -> bool:
    vals = list(fn(f).d.values())
    return len(set(vals)) == len(vals) and len({vkey(v) for v in vals}) == len(vals)


native("Functions", "IsInjective", 1)(lambda c, f: is_injective(f))


def _maps(s: Any, t: Any) -> list[FV]:
    return list(FnSet(fset(s), fset(t)))


@native("Functions", "Injection", 2)
def injection(c: Ctx, s: Any, t: Any) -> frozenset[Any]:
    return frozenset(m for m in _maps(s, t) if is_injective(m))


@native("Functions", "Surjection", 2)
def surjection(c: Ctx, s: Any, t: Any) -> frozenset[Any]:
    tt = fset(t)
    return frozenset(m for m in _maps(s, t) if frozenset(m.d.values()) >= tt)


@native("Functions", "Bijection", 2)
def bijection(c: Ctx, s: Any, t: Any) -> frozenset[Any]:
    tt = fset(t)
    return frozenset(m for m in _maps(s, t) if is_injective(m) and frozenset(m.d.values()) >= tt)


@native("Functions", "ExistsInjection", 2)
def exists_injection(c: Ctx, s: Any, t: Any) -> bool:
    return len(fset(s)) <= len(fset(t))


@native("Functions", "ExistsSurjection", 2)
def exists_surjection(c: Ctx, s: Any, t: Any) -> bool:
    ns, nt = len(fset(s)), len(fset(t))
    return (ns == 0 and nt == 0) or 0 < nt <= ns


@native("Functions", "ExistsBijection", 2)
def exists_bijection(c: Ctx, s: Any, t: Any) -> bool:
    return len(fset(s)) == len(fset(t))


def fold_function_on_set(c: Ctx, op: Any, base: Any, f: Any, indices: Any) -> Any:
    acc = base
    for i in elems(indices):
        acc = op(c, apply(f, i), acc)
    return acc


native("Functions", "FoldFunctionOnSet", 4)(fold_function_on_set)


def fold_function(c: Ctx, op: Any, base: Any, f: Any) -> Any:
    return fold_function_on_set(c, op, base, f, frozenset(fn(f).d))


native("Functions", "FoldFunction", 3)(fold_function)


@native("Functions", "SumFunctionOnSet", 2)
def sum_function_on_set(c: Ctx, f: Any, indices: Any) -> int:
    return sum(integer(apply(f, i)) for i in elems(indices))


@native("Functions", "SumFunction", 1)
def sum_function(c: Ctx, f: Any) -> int:
    return sum(integer(v) for v in fn(f).d.values())


# --- BagsExt (a bag is a function from elements to positive counts) --------------------------


@native("BagsExt", "BagAdd", 2)
def bag_add(c: Ctx, b: Any, x: Any) -> FV:
    d = dict(fn(b).d)
    d[x] = integer(d[x]) + 1 if x in d else 1
    return FV(d)


@native("BagsExt", "BagRemove", 2)
def bag_remove(c: Ctx, b: Any, x: Any) -> FV:
    d = dict(fn(b).d)
    if x not in d:
        return fn(b)
    if d[x] == 1:
        del d[x]
    else:
        d[x] = integer(d[x]) - 1
    return FV(d)


@native("BagsExt", "BagRemoveAll", 2)
def bag_remove_all(c: Ctx, b: Any, x: Any) -> FV:
    return FV({k: v for k, v in fn(b).d.items() if k != x or type(k) is not type(x)})


@native("BagsExt", "MapThenFoldBag", 5)
def map_then_fold_bag(c: Ctx, op: Any, base: Any, f: Any, choose: Any, b: Any) -> Any:
    d = fn(b).d

    def handle(c2: Ctx, x: Any) -> Any:
        n = integer(d[x])
        if n < 1:
            raise EvalError(f"MapThenFoldBag: {render(x)} occurs {n} times in the bag")
        acc = op(c2, base, f(c2, x))
        for _ in range(n - 1):
            acc = op(c2, acc, f(c2, x))
        return acc

    def first(c2: Ctx, s: Any) -> Any:
        return elems(s)[0]

    return map_then_fold_set(c, op, base, handle, first, frozenset(d))


def fold_bag(c: Ctx, op: Any, base: Any, b: Any) -> Any:
    d = fn(b).d
    acc = base
    for x in sorted(d, key=vkey):
        n = d[x]
        if type(n) is not int or n <= 0:
            raise EvalError(f"FoldBag: {render(x)} :> {render(n)} is not a bag entry (count in Nat \\ {{0}})")
        for _ in range(n):
            acc = op(c, acc, x)
    return acc


native("BagsExt", "FoldBag", 3)(fold_bag)


@native("BagsExt", "SumBag", 1)
def sum_bag(c: Ctx, b: Any) -> int:
    return sum(integer(x) * integer(n) for x, n in fn(b).d.items())


@native("BagsExt", "ProductBag", 1)
def product_bag(c: Ctx, b: Any) -> int:
    return math.prod(integer(x) ** integer(n) for x, n in fn(b).d.items())
