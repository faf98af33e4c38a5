"""Bitwise, Combinatorics, DyadicRationals, TLCExt and the offline, deterministic part of IOUtils."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

from tlacheck.builtin.community.base import (
    FV,
    EvalError,
    field,
    integer,
    native,
    record,
    render,
)
from tlacheck.builtin.runtime import Ctx
from tlacheck.canonical import ModelValue

# --- Bitwise (like TLC's override: Java int semantics on the 32-bit range) ---------------------

B_ = "Bitwise"


def _nat(v: Any) -> int:
    return integer(v, "a natural number")


native(B_, "And", 2)(lambda c, x, y: _nat(x) & _nat(y))
native(B_, "Or", 2)(lambda c, x, y: _nat(x) | _nat(y))
native(B_, "Xor", 2)(lambda c, x, y: _nat(x) ^ _nat(y))


@native(B_, "Not", 1)
def not_(c: Ctx, a: Any) -> int:
    a = _nat(a)
    if a <= 0:
        return 0  # TLC: the mask of a non-positive int is 0
    return ~a & ((1 << a.bit_length()) - 1)


@native(B_, "shiftR", 2)
def shift_r(c: Ctx, n: Any, pos: Any) -> int:
    n, pos = _nat(n), _nat(pos)
    if n < 0:
        n &= 0xFFFFFFFF  # Java's >>> on a 32-bit int
    return n >> pos


# --- Combinatorics ------------------------------------------------------------------------------


@native("Combinatorics", "choose", 2)
def choose(c: Ctx, n: Any, k: Any) -> int:
    n, k = _nat(n), _nat(k)
    if n < 0 or k < 0:
        raise EvalError(f"choose({n}, {k}): the arguments must be natural numbers")
    return math.comb(n, k)


# --- DyadicRationals: [num |-> n, den |-> d] ----------------------------------------------------

D_ = "DyadicRationals"


def _rat(n: int, d: int) -> FV:
    return record(num=n, den=d)


def _reduce(p: Any) -> FV:
    n, d = integer(field(p, "num")), integer(field(p, "den"))
    g = math.gcd(n, d)
    if g == 1 or g == 0:
        return p if isinstance(p, FV) else _rat(n, d)
    return _rat(n // g, d // g)


native(D_, "Zero", 0)(lambda c: _rat(0, 1))
native(D_, "One", 0)(lambda c: _rat(1, 1))


@native(D_, "IsDyadicRational", 1)
def is_dyadic(c: Ctx, r: Any) -> bool:
    d = integer(field(r, "den"))
    return d >= 1 and d & (d - 1) == 0


@native(D_, "Add", 2)
def add(c: Ctx, p: Any, q: Any) -> FV:
    if p == _rat(0, 1):
        return q
    pn, pd = integer(field(p, "num")), integer(field(p, "den"))
    qn, qd = integer(field(q, "num")), integer(field(q, "den"))
    lcn = max(pd, qd)
    return _reduce(_rat(qn * (lcn // qd) + pn * (lcn // pd), lcn))


native(D_, "Half", 1)(lambda c, p: _reduce(_rat(integer(field(p, "num")), integer(field(p, "den")) * 2)))


@native(D_, "PrettyPrint", 1)
def pretty_print(c: Ctx, p: Any) -> str:
    if p == _rat(0, 1):
        return "0"
    if p == _rat(1, 1):
        return "1"
    return f"{render(field(p, 'num'))}/{render(field(p, 'den'))}"


# --- TLCExt -------------------------------------------------------------------------------------

T_ = "TLCExt"
# TLCGetOrDefault / TLCGetAndSet registers: per process, like TLC's per-worker registers
_REGISTERS: dict[Any, Any] = {}


@native(T_, "AssertEq", 2)
def assert_eq(c: Ctx, a: Any, b: Any) -> bool:
    if a != b or type(a) is not type(b):
        print("Assertion failed", file=sys.stderr)
        print(render(a), file=sys.stderr)
        print(render(b), file=sys.stderr)
        return False
    return True


native(T_, "TLCGetOrDefault", 2)(lambda c, key, default: _REGISTERS.get(key, default))


@native(T_, "TLCGetAndSet", 4)
def tlc_get_and_set(c: Ctx, key: Any, op: Any, val: Any, default: Any) -> Any:
    old = _REGISTERS.get(key, default)
    _REGISTERS[key] = op(c, old, val)
    return old


@native(T_, "TLCModelValue", 1)
def tlc_model_value(c: Ctx, s: Any) -> ModelValue:
    if type(s) is not str:
        raise EvalError(f"TLCModelValue expects a string, got {render(s)}")
    return ModelValue(s)


native(T_, "TLCDefer", 1)(lambda c, e: True)
native(T_, "TLCNoOp", 1)(lambda c, v: v)
native(T_, "PickSuccessor", 1)(lambda c, e: e)
native(T_, "TLCCache", 2)(lambda c, e, closure: e)


@native(T_, "TLCFP", 1)
def tlc_fp(c: Ctx, v: Any) -> int:
    from tlacheck.builtin.fingerprint import fingerprint

    return fingerprint(v) & 0x7FFFFFFF  # the built-in checker's fingerprint, not TLC's


def _unsupported(module: str, name: str) -> Any:
    def f(c: Ctx, *args: Any) -> Any:
        raise EvalError(f"{module}!{name} is not supported by the built-in checker", kind="unsupported")

    return f


for _name, _arity in [
    ("AssertError", 2),
    ("Trace", 0),
    ("CounterExample", 0),
    ("ToTrace", 1),
    ("TLCEvalDefinition", 1),
]:
    native(T_, _name, _arity)(_unsupported(T_, _name))

# --- IOUtils (only what is offline and deterministic) ------------------------------------------

I_ = "IOUtils"


@native(I_, "atoi", 1)
def atoi(c: Ctx, s: Any) -> int:
    if type(s) is not str:
        raise EvalError(f"atoi expects a string, got {render(s)}")
    try:
        return int(s)
    except ValueError:
        raise EvalError(f"atoi: {render(s)} is not the decimal form of an integer") from None


@native(I_, "zeroPadN", 2)
def zero_pad_n(c: Ctx, n: Any, width: Any) -> str:
    s = render(n) if type(n) is not str else n
    return "0" * max(integer(width) - len(s), 0) + s


native(I_, "IOEnv", 0)(lambda c: FV(dict(os.environ)))

for _name, _arity in [
    ("IOSerialize", 3),
    ("IODeserialize", 2),
    ("Serialize", 3),
    ("Deserialize", 2),
    ("IOExec", 1),
    ("IOEnvExec", 2),
    ("IOExecTemplate", 2),
    ("IOEnvExecTemplate", 3),
]:
    native(I_, _name, _arity)(_unsupported(I_, _name))
