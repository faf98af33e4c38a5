"""64-bit fingerprints of TLA+ values and states (what the checker stores instead of states).

A value's fingerprint is a structural hash that respects TLA+ equality, not Python's: it is
independent of dict and set iteration order, and TRUE differs from 1 (Python conflates them).

* Leaves: booleans are fixed constants; integers (two's complement, 64 bits) go through
  MurmurHash3's 64-bit finaliser (`fmix64`, a bijection, so distinct small integers never
  collide); strings and model values are BLAKE2b-64 digests of a tagged UTF-8 encoding
  (deterministic across processes, unlike Python's randomised `hash(str)`). Leaf
  fingerprints are memoised.
* Functions (records, tuples, sequences): the pair sum S = sum of m(k) * (fp(v) + 1) over
  their pairs, as an exact integer, where m(k) = fmix64(fp(k) ^ tag) + 1 is a second,
  independent function of the key (with fp(k) itself, keys and values from one set would
  make the form symmetric and value cycles such as <<2,4,2,3>> / <<2,3,4,2>> collide); the fingerprint is `fmix64` of (S mod p, p the
  largest prime below 2^64, plus a length/type tag). Finite sets likewise with S = sum of
  fp(x)^2. Summing makes the encoding canonical without sorting; the summands are
  products of avalanche-mixed 64-bit values, so distinct pair sets give sums that differ by
  a non-trivial bilinear (quadratic) form of independent random values, which vanishes mod
  p with probability about 1/p (a linear pair hash would not do: swapping two values
  between two keys keeps a sum of linear terms equal). An `FV` caches its fingerprint (slot `f`) and
  pair sum (slot `s`); EXCEPT on a function of more than 6 pairs derives the new sum from
  the old one in O(1); sub-values are shared between a state and its successors, so a
  successor costs only the parts an action rebuilt. All of it is deterministic across
  processes and runs.
* A state's fingerprint is sum_i m_i * (fp(x_i) + 1) mod p over its variables x_i in
  declaration order, with fixed random multipliers m_i (a universal-hash style linear form
  of avalanche-mixed values), shifted into the signed 64-bit range.

Collisions: as with TLC, two distinct states with the same fingerprint are treated as one
(the second is silently not explored). Modelling the fingerprint as a uniform 64-bit value,
the probability of any collision among n distinct states is about n^2 / 2^65: 2.7e-8 for
10^6 states, 2.7e-6 for 10^7 (TLC prints the same "optimistic" estimate).
"""

from __future__ import annotations

import hashlib
from operator import mul
from typing import Any

from tlacheck.builtin.values import FV, LazySet, to_frozenset
from tlacheck.canonical import ModelValue

M64 = (1 << 64) - 1
_P64 = (1 << 64) - 59  # the largest prime below 2^64
_K_PAIR = 0x9E3779B97F4A7C15
_TAG_FN = 0x2545F4914F6CDD1D
_TAG_SET = 0x5851F42D4C957F2D
_TAG_INT = 0x14057B7EF767814F
_C1 = 0xFF51AFD7ED558CCD
_C2 = 0xC4CEB9FE1A85EC53


def fmix64(x: int) -> int:
    """MurmurHash3's 64-bit finaliser (a bijection on 64-bit integers)."""
    x ^= x >> 33
    x = (x * _C1) & M64
    x ^= x >> 33
    x = (x * _C2) & M64
    return x ^ (x >> 33)


def _digest(tag: bytes, s: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(tag + s.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"
    )


_TRUE = _digest(b"b", "TRUE")
_FALSE = _digest(b"b", "FALSE")

# int, str and ModelValue leaves (bools never enter: True == 1 in a dict)
_LEAF: dict[Any, int] = {}
# frozensets cannot carry a slot: memoised by identity, holding a reference so ids stay valid
_SETS: dict[int, tuple[frozenset[Any], int]] = {}
_SETS_MAX = 200_000
# key fingerprint -> its multiplier in a function's pair sum (see _kmix); _KEYM: the same
# keyed by the key itself for int/str/model-value keys (never bools: True == 1 in a dict)
_KMIX: dict[int, int] = {}
_KEYM: dict[Any, int] = {}
_TAG_KEY = 0x632BE59BD9B4E019


def _leaf(v: Any) -> int:
    c = v.__class__
    if c is int:
        if -(1 << 63) <= v < (1 << 63):
            r = fmix64((v & M64) ^ _TAG_INT)
        else:
            r = _digest(b"I", str(v))
    elif c is str:
        r = _digest(b"s", v)
    elif c is ModelValue:
        r = _digest(b"m", v.name)
    else:
        return _other(v)
    if len(_LEAF) > 1_000_000:
        _LEAF.clear()
    _LEAF[v] = r
    return r


def _other(v: Any) -> int:
    if isinstance(v, LazySet):
        if v.finite:
            return _set_fp(to_frozenset(v))
        return _digest(b"L", repr(v))
    if isinstance(v, frozenset):
        return _set_fp(v)
    if isinstance(v, FV):
        return fingerprint(v)
    to_fv = getattr(v, "to_fv", None)  # a recursive function (RecFn) nested in a value
    if to_fv is not None:
        return fingerprint(to_fv())
    return _digest(b"?", repr(v))


def fingerprint(v: Any) -> int:
    """The 64-bit (unsigned) fingerprint of a value."""
    c = v.__class__
    if c is FV:
        f: int | None = v.f
        if f is None:
            f = v.f = _fn_fp(v)
        return f
    if c is bool:
        return _TRUE if v else _FALSE
    if c is frozenset:
        e = _SETS.get(id(v))
        if e is not None:
            return e[1]
        return _set_fp(v)
    if c is int or c is str or c is ModelValue:
        r = _LEAF.get(v)
        if r is None:
            return _leaf(v)
        return r
    return _other(v)


def _fn_fp(v: FV) -> int:
    s = v.s
    if s is None:
        s = v.s = _fn_sum(v.d)
    return fmix64((s % _P64 + len(v.d) * _K_PAIR + _TAG_FN) & M64)


def _fn_sum(d: dict[Any, Any]) -> int:
    """Exact integer sum over the pairs of kmix(fp(key)) * (fp(value) + 1)."""
    s = 0
    kget = _KEYM.get
    lget = _LEAF.get
    for k, x in d.items():
        ck = k.__class__
        if ck is str or ck is int or ck is ModelValue:
            km = kget(k)
            if km is None:
                km = _KEYM[k] = _kmix(fingerprint(k))
        else:
            fk = fingerprint(k)
            km = _KMIX.get(fk)
            if km is None:
                km = _kmix(fk)
        cx = x.__class__
        if cx is FV:
            fx = x.f
            if fx is None:
                fx = fingerprint(x)
        elif cx is str or cx is int or cx is ModelValue:
            fx = lget(x)
            if fx is None:
                fx = _leaf(x)
        elif cx is bool:
            fx = _TRUE if x else _FALSE
        else:
            fx = fingerprint(x)
        s += km * (fx + 1)
    return s


def _kmix(fk: int) -> int:
    """A key's multiplier: an independent function of its fingerprint (memoised: domains are
    small and shared). With the key's own fingerprint instead, keys and values drawn from the
    same set would give a symmetric bilinear form, and f = <<2,4,2,3>> and <<2,3,4,2>> (a
    3-cycle of values) would have equal sums."""
    if len(_KMIX) > 1_000_000:
        _KMIX.clear()
        _KEYM.clear()
    r = _KMIX[fk] = fmix64(fk ^ _TAG_KEY) + 1
    return r


def except_sum(old: FV, new: FV, k: Any) -> None:
    """`new` is `old` with the value at k replaced: derive its pair sum from old's in O(1)
    (when old's is known), so EXCEPT never re-hashes a whole function."""
    s = old.s
    if s is not None:
        fk = fingerprint(k)
        km = _KMIX.get(fk)
        if km is None:
            km = _kmix(fk)
        new.s = s + km * (fingerprint(new.d[k]) - fingerprint(old.d[k]))


def _set_fp(v: frozenset[Any]) -> int:
    s = 0
    for x in v:
        fx = fingerprint(x)
        s += fx * fx
    r = fmix64((s % _P64 + len(v) * _K_PAIR + _TAG_SET) & M64)
    if len(_SETS) > _SETS_MAX:
        _SETS.clear()
    _SETS[id(v)] = (v, r)
    return r


_VAR_MULT: list[int] = [fmix64(i ^ 0x7A5E5D3F1B2C4D6F) + 1 for i in range(64)]
_VAR_SUM: list[int] = [sum(_VAR_MULT[:i]) for i in range(65)]  # _VAR_SUM[n] = m_0 + ... + m_{n-1}


def state_fingerprint(values: tuple[Any, ...]) -> int:
    """Fingerprint of a state (its variables' values in declaration order), as a signed 64-bit
    integer: sum_i m_i * (fp(value_i) + 1) mod p, m_i fixed random multipliers (a linear form
    of avalanche-mixed values; no further mixing needed)."""
    n = len(values)
    while n >= len(_VAR_SUM):
        i = len(_VAR_MULT)
        _VAR_MULT.append(fmix64(i ^ 0x7A5E5D3F1B2C4D6F) + 1)
        _VAR_SUM.append(_VAR_SUM[-1] + _VAR_MULT[-1])
    # most values are shared with the parent state: read a function's cached fingerprint inline
    fps = [x.f if x.__class__ is FV and x.f is not None else fingerprint(x) for x in values]
    return (sum(map(mul, _VAR_MULT, fps)) + _VAR_SUM[n]) % _P64 - (1 << 63)


def clear_caches() -> None:
    _LEAF.clear()
    _SETS.clear()
