"""Python implementations of the standard modules' operators (Naturals, Integers, Sequences,
FiniteSets, TLC, Bags). Every builtin takes the evaluation context first, then argument values."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from typing import Any

from tlacheck.builtin.runtime import Ctx, as_fv, sorted_by_op
from tlacheck.builtin.values import (
    FV,
    EvalError,
    IntSet,
    NatSet,
    SeqSet,
    is_finite,
    iter_set,
    mkseq,
    render,
    sorted_elems,
    to_frozenset,
    vkey,
)
from tlacheck.canonical import ModelValue

Builtin = Callable[..., Any]


def _int(v: Any) -> int:
    if type(v) is not int:
        raise EvalError(f"expected an integer, got {render(v)}")
    return v


def _seq(v: Any) -> FV:
    f = as_fv(v)
    f.seq_len()
    return f


def _div(a: Any, b: Any) -> int:
    if _int(b) == 0:
        raise EvalError("division by zero (\\div)")
    return _int(a) // b  # TLC: \div rounds toward -infinity


def _mod(a: Any, b: Any) -> int:
    if _int(b) <= 0:
        raise EvalError(f"the second argument of % must be positive, got {b}")
    return _int(a) % b


def _len(c: Ctx, s: Any) -> int:
    if type(s) is str:
        return len(s)  # TLC: a string is a sequence of characters
    return _seq(s).seq_len()


def _append(c: Ctx, s: Any, x: Any) -> FV:
    f = _seq(s)
    d = dict(f.d)
    d[len(d) + 1] = x
    return FV(d)


def _head(c: Ctx, s: Any) -> Any:
    f = _seq(s)
    if not f.d:
        raise EvalError("Head applied to the empty sequence")
    return f.d[1]


def _tail(c: Ctx, s: Any) -> FV:
    f = _seq(s)
    if not f.d:
        raise EvalError("Tail applied to the empty sequence")
    n = len(f.d)
    return FV({i - 1: f.d[i] for i in range(2, n + 1)})


def _concat(a: Any, b: Any) -> Any:
    if type(a) is str and type(b) is str:
        return a + b
    fa, fb = _seq(a), _seq(b)
    n = len(fa.d)
    d = dict(fa.d)
    for i in range(1, len(fb.d) + 1):
        d[n + i] = fb.d[i]
    return FV(d)


def _subseq(c: Ctx, s: Any, m: Any, n: Any) -> Any:
    m, n = _int(m), _int(n)
    if type(s) is str:  # TLC: a string is a sequence of characters
        if m > n:
            return ""
        if m < 1 or n > len(s):
            raise EvalError(f"SubSeq({render(s)}, {m}, {n}) out of range")
        return s[m - 1 : n]
    f = _seq(s)
    if m > n:
        return FV({})
    if m < 1 or n > len(f.d):
        raise EvalError(f"SubSeq({render(s)}, {m}, {n}) out of range")
    return FV({i - m + 1: f.d[i] for i in range(m, n + 1)})


def _selectseq(c: Ctx, s: Any, test: Any) -> FV:
    return mkseq(x for x in _seq(s).seq_items() if test(c, x) is True)


def _cardinality(c: Ctx, s: Any) -> int:
    return len(to_frozenset(s))


def _permutations(c: Ctx, s: Any) -> frozenset[Any]:
    items = sorted_elems(s)
    return frozenset(FV(dict(zip(items, p, strict=True))) for p in itertools.permutations(items))


def _tostring(c: Ctx, v: Any) -> str:
    return render(v)


def _print(c: Ctx, out: Any, val: Any) -> Any:
    print(render(out), file=sys.stderr)
    return val


def _printt(c: Ctx, out: Any) -> bool:
    print(render(out), file=sys.stderr)
    return True


def _assert(c: Ctx, cond: Any, msg: Any) -> bool:
    if cond is not True:
        # TLC's text (EC.TLC_VALUE_ASSERT_FAILED); its exit code is 14 (VIOLATION_ASSERT)
        raise EvalError(
            f"The first argument of Assert evaluated to FALSE; the second argument was:\n{render(msg)}",
            kind="assert",
        )
    return True


def _sortseq(c: Ctx, s: Any, op: Any) -> FV:
    return mkseq(sorted_by_op(c, _seq(s).seq_items(), op))


def _random_element(c: Ctx, s: Any) -> Any:
    items = sorted_elems(s)
    if not items:
        raise EvalError("RandomElement of the empty set")
    return items[0]


def _map_to(a: Any, b: Any) -> FV:
    return FV({a: b})


def _compose(f: Any, g: Any) -> FV:
    d = dict(as_fv(g).d)
    d.update(as_fv(f).d)
    return FV(d)


# --- Bags: a bag is a function from elements to positive counts ---------------------------------


def _bag(v: Any) -> dict[Any, Any]:
    return as_fv(v).d


def _set_to_bag(c: Ctx, s: Any) -> FV:
    return FV(dict.fromkeys(iter_set(s), 1))


def _bag_to_set(c: Ctx, b: Any) -> frozenset[Any]:
    return frozenset(_bag(b))


def _bag_in(c: Ctx, e: Any, b: Any) -> bool:
    return e in _bag(b)


def _copies_in(c: Ctx, e: Any, b: Any) -> int:
    return int(_bag(b).get(e, 0))


def _bag_plus(a: Any, b: Any) -> FV:
    d = dict(_bag(a))
    for k, n in _bag(b).items():
        d[k] = d.get(k, 0) + n
    return FV(d)


def _bag_minus(a: Any, b: Any) -> FV:
    d = dict(_bag(a))
    for k, n in _bag(b).items():
        if k in d:
            r = d[k] - n
            if r > 0:
                d[k] = r
            else:
                del d[k]
    return FV(d)


def _bag_cardinality(c: Ctx, b: Any) -> int:
    return int(sum(_bag(b).values()))


def _bag_union(c: Ctx, s: Any) -> FV:
    out = FV({})
    for b in iter_set(s):
        out = _bag_plus(out, b)
    return out


def _subbag_eq(a: Any, b: Any) -> bool:
    db = _bag(b)
    return all(k in db and db[k] >= n for k, n in _bag(a).items())


def _subbag(c: Ctx, b: Any) -> frozenset[Any]:
    items = list(_bag(b).items())
    out = []
    for counts in itertools.product(*(range(n + 1) for _, n in items)):
        out.append(FV({k: n for (k, _), n in zip(items, counts, strict=True) if n > 0}))
    return frozenset(out)


def _bag_of_all(c: Ctx, op: Any, b: Any) -> FV:
    d: dict[Any, Any] = {}
    for k, n in _bag(b).items():
        y = op(c, k)
        d[y] = d.get(y, 0) + n
    return FV(d)


# Prefix / named operators callable as Name(args): name -> (arity, implementation(ctx, *args))
NAMED: dict[str, tuple[int, Builtin]] = {
    "Len": (1, _len),
    "Append": (2, _append),
    "Head": (1, _head),
    "Tail": (1, _tail),
    "SubSeq": (3, _subseq),
    "SelectSeq": (2, _selectseq),
    "Seq": (1, lambda c, s: SeqSet(s)),
    "Cardinality": (1, _cardinality),
    "IsFiniteSet": (1, lambda c, s: is_finite(s)),
    "Permutations": (1, _permutations),
    "ToString": (1, _tostring),
    "Print": (2, _print),
    "PrintT": (1, _printt),
    "Assert": (2, _assert),
    "JavaTime": (0, lambda c: 0),
    "SortSeq": (2, _sortseq),
    "RandomElement": (1, _random_element),
    "TLCEval": (1, lambda c, v: v),
    "EmptyBag": (0, lambda c: FV({})),
    "SetToBag": (1, _set_to_bag),
    "BagToSet": (1, _bag_to_set),
    "BagIn": (2, _bag_in),
    "CopiesIn": (2, _copies_in),
    "BagCardinality": (1, _bag_cardinality),
    "BagUnion": (1, _bag_union),
    "SubBag": (1, _subbag),
    "BagOfAll": (2, _bag_of_all),
    "IsABag": (1, lambda c, b: isinstance(b, FV) and all(type(n) is int and n > 0 for n in b.d.values())),
    "Nat": (0, lambda c: NatSet()),
    "Int": (0, lambda c: IntSet()),
}

# Infix operators by their source text (user definitions of the same symbol take precedence).
INFIX: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: _int(a) + _int(b),
    "-": lambda a, b: _int(a) - _int(b),
    "*": lambda a, b: _int(a) * _int(b),
    "^": lambda a, b: _int(a) ** _int(b),
    "\\div": _div,
    "%": _mod,
    "<": lambda a, b: _int(a) < _int(b),
    ">": lambda a, b: _int(a) > _int(b),
    "<=": lambda a, b: _int(a) <= _int(b),
    "=<": lambda a, b: _int(a) <= _int(b),
    "\\leq": lambda a, b: _int(a) <= _int(b),
    ">=": lambda a, b: _int(a) >= _int(b),
    "\\geq": lambda a, b: _int(a) >= _int(b),
    "..": lambda a, b: frozenset(range(_int(a), _int(b) + 1)),
    "\\o": _concat,
    "\\circ": _concat,
    ":>": _map_to,
    "@@": _compose,
    "(+)": _bag_plus,
    "\\oplus": _bag_plus,
    "(-)": _bag_minus,
    "\\ominus": _bag_minus,
    "\\sqsubseteq": _subbag_eq,
}


def model_value_key(v: ModelValue) -> Any:
    return vkey(v)


def _register_community() -> None:
    """CommunityModules / TLCExt operators: built-ins named CM_<Module>_<Op>, called only from the
    bundled module files (tlacheck/stdlib/*.tla), so they are in scope where the module is."""
    from tlacheck.builtin.community import NATIVE

    NAMED.update(NATIVE)


_register_community()
