"""SequencesExt. Sequences are tuples (functions with domain 1..n); where TLC's Java override
accepts strings (IsPrefix, LongestCommonPrefix, FlattenSeq, ReplaceFirstSubSeq,
ReplaceAllSubSeqs), so do these."""

from __future__ import annotations

import itertools
from typing import Any

from tlacheck.builtin.community.base import (
    FV,
    EvalError,
    boolean,
    elems,
    fn,
    integer,
    native,
    render,
    seq,
    tup,
)
from tlacheck.builtin.community.sets import fold_function
from tlacheck.builtin.runtime import Ctx, sorted_by_op
from tlacheck.builtin.values import FnSet, LazySet, member

M = "SequencesExt"


def _sub(items: list[Any], m: int, n: int) -> list[Any]:
    """SubSeq(s, m, n) on a list (1-based, inclusive; empty when m > n)."""
    if m > n:
        return []
    if m < 1 or n > len(items):
        raise EvalError(f"SubSeq({render(tup(items))}, {m}, {n}) out of range")
    return items[m - 1 : n]


@native(M, "ToSet", 1)
def to_set(c: Ctx, s: Any) -> frozenset[Any]:
    return frozenset(fn(s).d.values())  # any function: {s[i] : i \in DOMAIN s}


@native(M, "ToBag", 1)
def to_bag(c: Ctx, s: Any) -> FV:
    d: dict[Any, int] = {}
    for x in fn(s).d.values():
        d[x] = d.get(x, 0) + 1
    return FV(d)


def set_to_seq(s: Any) -> FV:
    return tup(elems(s))


native(M, "SetToSeq", 1)(lambda c, s: set_to_seq(s))


@native(M, "SetToSeqs", 1)
def set_to_seqs(c: Ctx, s: Any) -> frozenset[Any]:
    return frozenset(tup(p) for p in itertools.permutations(elems(s)))


@native(M, "SetToSortSeq", 2)
def set_to_sort_seq(c: Ctx, s: Any, op: Any) -> FV:
    return tup(sorted_by_op(c, elems(s), op))


@native(M, "SetToAllKPermutations", 1)
def set_to_all_k_permutations(c: Ctx, s: Any) -> frozenset[Any]:
    items = elems(s)
    return frozenset(tup(p) for k in range(len(items) + 1) for p in itertools.permutations(items, k))


@native(M, "TupleOf", 2)
def tuple_of(c: Ctx, s: Any, n: Any) -> FnSet:
    return FnSet(frozenset(range(1, integer(n) + 1)), s)


class BoundedSeqSet(LazySet):
    """SeqOf(S, n) = UNION {[1..m -> S] : m \\in 0..n}: membership without enumeration."""

    def __init__(self, base: Any, n: int) -> None:
        self.base = base
        self.n = n
        self.finite = True
        self._elems: frozenset[Any] | None = None

    def contains(self, v: Any) -> bool:
        if not isinstance(v, FV):
            return False
        d = v.d
        k = len(d)
        return k <= self.n and all(i in d and member(d[i], self.base) for i in range(1, k + 1))

    def __iter__(self) -> Any:
        items = elems(self.base)
        for m in range(max(self.n, -1) + 1):
            for combo in itertools.product(items, repeat=m):
                yield tup(combo)

    def elements(self) -> frozenset[Any]:
        if self._elems is None:
            self._elems = frozenset(iter(self))
        return self._elems

    def __repr__(self) -> str:
        return f"SeqOf({self.base!r}, {self.n})"

    def __hash__(self) -> int:
        return hash(self.elements())


native(M, "SeqOf", 2)(lambda c, s, n: BoundedSeqSet(s, integer(n)))
native(M, "BoundedSeq", 2)(lambda c, s, n: BoundedSeqSet(s, integer(n)))


@native(M, "Contains", 2)
def contains(c: Ctx, s: Any, e: Any) -> bool:
    return any(x == e and type(x) is type(e) for x in seq(s))


@native(M, "IsSorted", 2)
def is_sorted(c: Ctx, s: Any, op: Any) -> bool:
    items = seq(s)
    n = len(items)
    return all(
        boolean(op(c, items[i], items[j]), "the order of IsSorted") for i in range(n) for j in range(i + 1, n)
    )


@native(M, "Reverse", 1)
def reverse(c: Ctx, s: Any) -> FV:
    return tup(reversed(seq(s)))


def _same(a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b)


@native(M, "Remove", 2)
def remove(c: Ctx, s: Any, e: Any) -> FV:
    return tup(x for x in seq(s) if not _same(x, e))


@native(M, "ReplaceAll", 3)
def replace_all(c: Ctx, s: Any, old: Any, new: Any) -> FV:
    return tup(new if _same(x, old) else x for x in seq(s))


def _first(c: Ctx, items: list[Any], test: Any, offset: int = 0) -> int:
    for i, x in enumerate(items, 1):
        if boolean(test(c, x), "the test"):
            return i + offset
    return 0


def _last(c: Ctx, items: list[Any], test: Any, offset: int = 0) -> int:
    for i in range(len(items), 0, -1):
        if boolean(test(c, items[i - 1]), "the test"):
            return i + offset
    return 0


native(M, "SelectInSeq", 2)(lambda c, s, test: _first(c, seq(s), test))
native(M, "SelectLastInSeq", 2)(lambda c, s, test: _last(c, seq(s), test))


@native(M, "SelectInSubSeq", 4)
def select_in_sub_seq(c: Ctx, s: Any, frm: Any, to: Any, test: Any) -> int:
    items = _sub(seq(s), integer(frm), integer(to))
    hit = _first(c, items, test)
    return hit + frm - 1 if hit else 0


@native(M, "SelectLastInSubSeq", 4)
def select_last_in_sub_seq(c: Ctx, s: Any, frm: Any, to: Any, test: Any) -> int:
    items = _sub(seq(s), integer(frm), integer(to))
    hit = _last(c, items, test)
    return hit + frm - 1 if hit else 0


@native(M, "InsertAt", 3)
def insert_at(c: Ctx, s: Any, i: Any, e: Any) -> FV:
    items = seq(s)
    i = integer(i)
    return tup([*_sub(items, 1, i - 1), e, *_sub(items, i, len(items))])


@native(M, "ReplaceAt", 3)
def replace_at(c: Ctx, s: Any, i: Any, e: Any) -> FV:
    f = FV(dict(seq_fv(s).d))
    if i not in f.d:
        return seq_fv(s)  # [s EXCEPT ![i] = e] leaves s unchanged outside its domain
    f.d[i] = e
    return f


def seq_fv(s: Any) -> FV:
    return tup(seq(s))


def remove_at(items: list[Any], i: int) -> FV:
    return tup(_sub(items, 1, i - 1) + _sub(items, i + 1, len(items)))


native(M, "RemoveAt", 2)(lambda c, s, i: remove_at(seq(s), integer(i)))


@native(M, "RemoveFirst", 2)
def remove_first(c: Ctx, s: Any, e: Any) -> FV:
    items = seq(s)
    for i, x in enumerate(items, 1):
        if _same(x, e):
            return remove_at(items, i)
    return tup(items)


@native(M, "RemoveFirstMatch", 2)
def remove_first_match(c: Ctx, s: Any, test: Any) -> FV:
    items = seq(s)
    i = _first(c, items, test)
    return remove_at(items, i) if i else tup(items)


native(M, "Cons", 2)(lambda c, e, s: tup([e, *seq(s)]))
native(M, "Snoc", 2)(lambda c, e, s: tup([*seq(s), e]))


@native(M, "Front", 1)
def front(c: Ctx, s: Any) -> FV:
    items = seq(s)
    return tup(_sub(items, 1, len(items) - 1))


@native(M, "Last", 1)
def last(c: Ctx, s: Any) -> Any:
    items = seq(s)
    if not items:
        raise EvalError("Last of the empty sequence: 0 is not in the domain of <<>>")
    return items[-1]


def is_prefix(s: Any, t: Any) -> bool:
    if type(s) is str and type(t) is str:
        return t.startswith(s)
    a, b = seq(s), seq(t)
    return len(a) <= len(b) and all(_same(x, y) for x, y in zip(a, b, strict=False))


native(M, "IsPrefix", 2)(lambda c, s, t: is_prefix(s, t))
native(M, "IsStrictPrefix", 2)(lambda c, s, t: is_prefix(s, t) and s != t)


def is_suffix(s: Any, t: Any) -> bool:
    a, b = seq(s), seq(t)
    return len(a) <= len(b) and all(_same(x, y) for x, y in zip(reversed(a), reversed(b), strict=False))


native(M, "IsSuffix", 2)(lambda c, s, t: is_suffix(s, t))
native(M, "IsStrictSuffix", 2)(lambda c, s, t: is_suffix(s, t) and s != t)


def prefixes(s: Any) -> frozenset[Any]:
    if type(s) is str:
        return frozenset(s[:k] for k in range(len(s) + 1))
    items = seq(s)
    return frozenset(tup(items[:k]) for k in range(len(items) + 1))


native(M, "Prefixes", 1)(lambda c, s: prefixes(s))


def common_prefixes(ss: Any) -> frozenset[Any]:
    all_ = elems(ss)
    cand: set[Any] = set()
    for s in all_:
        cand |= prefixes(s)
    return frozenset(p for p in cand if all(is_prefix(p, t) for t in all_))


native(M, "CommonPrefixes", 1)(lambda c, ss: common_prefixes(ss))


@native(M, "LongestCommonPrefix", 1)
def longest_common_prefix(c: Ctx, ss: Any) -> Any:
    all_ = elems(ss)
    if not all_:
        raise EvalError("LongestCommonPrefix of the empty set")
    if all(type(x) is str for x in all_):
        p: Any = all_[0]
        for x in all_[1:]:
            k = 0
            while k < min(len(p), len(x)) and p[k] == x[k]:
                k += 1
            p = p[:k]
        return p
    lists = [seq(x) for x in all_]
    k = 0
    while all(k < len(x) for x in lists) and all(_same(x[k], lists[0][k]) for x in lists):
        k += 1
    return tup(lists[0][:k])


@native(M, "Suffixes", 1)
def suffixes(c: Ctx, s: Any) -> frozenset[Any]:
    if type(s) is str:
        return frozenset(s[k:] for k in range(len(s) + 1))
    items = seq(s)
    return frozenset(tup(items[k:]) for k in range(len(items) + 1))


@native(M, "SeqMod", 2)
def seq_mod(c: Ctx, a: Any, b: Any) -> int:
    a, b = integer(a), integer(b)
    if b <= 0:
        raise EvalError(f"the second argument of % must be positive, got {b}")
    return b if a % b == 0 else a % b


native(M, "FoldSeq", 3)(fold_function)


@native(M, "FoldLeft", 3)
def fold_left(c: Ctx, op: Any, base: Any, s: Any) -> Any:
    acc = base
    for x in seq(s):
        acc = op(c, acc, x)
    return acc


@native(M, "FoldRight", 3)
def fold_right(c: Ctx, op: Any, s: Any, base: Any) -> Any:
    acc = base
    for x in reversed(seq(s)):
        acc = op(c, x, acc)
    return acc


@native(M, "FoldLeftDomain", 3)
def fold_left_domain(c: Ctx, op: Any, base: Any, s: Any) -> Any:
    acc = base
    for i in range(1, len(seq(s)) + 1):
        acc = op(c, acc, i)
    return acc


@native(M, "FoldRightDomain", 3)
def fold_right_domain(c: Ctx, op: Any, s: Any, base: Any) -> Any:
    acc = base
    for i in range(len(seq(s)), 0, -1):
        acc = op(c, i, acc)
    return acc


def flatten(s: Any) -> Any:
    if s == "":
        return s  # the empty string is the empty sequence: FlattenSeq returns it as is
    parts = seq(s)
    if not parts:
        return tup([])
    if all(type(p) is str for p in parts):
        return "".join(parts)
    out: list[Any] = []
    for p in parts:
        out.extend(seq(p))
    return tup(out)


native(M, "FlattenSeq", 1)(lambda c, s: flatten(s))


@native(M, "Zip", 2)
def zip_(c: Ctx, s: Any, t: Any) -> FV:
    return tup(FV({1: a, 2: b}) for a, b in zip(seq(s), seq(t), strict=False))


@native(M, "Interleave", 2)
def interleave(c: Ctx, s: Any, t: Any) -> FV:
    a, b = seq(s), seq(t)
    if len(a) != len(b):
        raise EvalError(
            f"Interleave: the sequences {render(s)} and {render(t)} differ in length (no CASE arm applies)"
        )
    if not a:
        return tup([tup([]), tup([])])
    out: list[Any] = []
    for x, y in zip(a, b, strict=True):
        out += [tup([x]), tup([y])]
    return tup(out)


def sub_seqs(items: list[Any]) -> frozenset[Any]:
    n = len(items)
    return frozenset(tup(items[i:j]) for i in range(n + 1) for j in range(i, n + 1))


native(M, "SubSeqs", 1)(
    lambda c, s: (
        frozenset(s[i:j] for i in range(len(s) + 1) for j in range(i, len(s) + 1))
        if type(s) is str
        else sub_seqs(seq(s))
    )
)


@native(M, "AllSubSeqs", 1)
def all_sub_seqs(c: Ctx, s: Any) -> frozenset[Any]:
    items = seq(s)
    n = len(items)
    return frozenset(
        tup(items[i] for i in idx) for k in range(n + 1) for idx in itertools.combinations(range(n), k)
    )


def _find(a: list[Any], b: list[Any], start: int = 0) -> int:
    """0-based index of the first occurrence of a in b at or after start, or -1."""
    k = len(a)
    for i in range(start, len(b) - k + 1):
        if all(_same(x, y) for x, y in zip(a, b[i : i + k], strict=True)):
            return i
    return -1


@native(M, "IndexFirstSubSeq", 2)
def index_first_sub_seq(c: Ctx, s: Any, t: Any) -> int:
    if type(s) is str and type(t) is str:
        i = t.find(s)
    else:
        i = _find(seq(s), seq(t))
    if i < 0:
        raise EvalError(
            f"IndexFirstSubSeq: {render(s)} is not a subsequence of {render(t)} (CHOOSE has no value)"
        )
    return i + 1


def _replace_at(i: int, r: list[Any], s: list[Any], t: list[Any]) -> FV:
    return tup(_sub(t, 1, i - 1) + r + _sub(t, i + len(s), len(t)))


@native(M, "ReplaceSubSeqAt", 4)
def replace_sub_seq_at(c: Ctx, i: Any, r: Any, s: Any, t: Any) -> Any:
    i = integer(i)
    if type(r) is str and type(s) is str and type(t) is str:
        return t[: max(i - 1, 0)] + r + t[i - 1 + len(s) :]
    return _replace_at(i, seq(r), seq(s), seq(t))


@native(M, "ReplaceFirstSubSeq", 3)
def replace_first_sub_seq(c: Ctx, r: Any, s: Any, t: Any) -> Any:
    if type(r) is str and type(s) is str and type(t) is str:
        return r + t if s == "" else t.replace(s, r, 1)
    a, b = seq(s), seq(t)
    i = _find(a, b)
    if i < 0:
        return t
    return _replace_at(i + 1, seq(r), a, b)


@native(M, "ReplaceAllSubSeqs", 3)
def replace_all_sub_seqs(c: Ctx, r: Any, s: Any, t: Any) -> Any:
    if type(r) is str and type(s) is str and type(t) is str:
        if s == t:
            return r
        if s == "":
            return "".join(r + ch for ch in t)
        return t.replace(s, r)
    if s == t:
        return r
    if r == s:
        return t
    a, b, rr = seq(s), seq(t), seq(r)
    if not a:
        out: list[Any] = []
        for x in b:
            out += [*rr, x]
        return tup(out)
    if _find(a, b) < 0:
        return t
    res: list[Any] = []
    i = 0
    while i < len(b):
        j = _find(a, b, i)
        if j < 0:
            res += b[i:]
            break
        res += b[i:j] + rr
        i = j + len(a)
    return tup(res)
