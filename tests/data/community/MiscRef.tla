------------------------------- MODULE MiscRef -------------------------------
(* Bitwise, Combinatorics, DyadicRationals, TLCExt and IOUtils: each native operator against
   its TLA+ definition in tlaplus/CommunityModules / tlaplus/tlaplus (typed in below as
   Ref<Op>) on small inputs, or against TLC's documented behaviour where the definition is a
   placeholder for a Java override. *)
EXTENDS Integers, Sequences, TLC, Bitwise, Combinatorics, DyadicRationals, TLCExt, IOUtils

RECURSIVE RefAnd(_, _, _, _)
RefAnd(x, y, n, m) ==
  LET exp == 2^n
  IN IF m = 0 THEN 0 ELSE exp * ((x \div exp) % 2) * ((y \div exp) % 2) + RefAnd(x, y, n + 1, m \div 2)
RECURSIVE RefOr(_, _, _, _)
RefOr(x, y, n, m) ==
  LET exp == 2^n
      xdm == (x \div exp) % 2
      ydm == (y \div exp) % 2
  IN IF m = 0 THEN 0 ELSE exp * (((xdm + ydm) + (xdm * ydm)) % 2) + RefOr(x, y, n + 1, m \div 2)
RECURSIVE RefXor(_, _, _, _)
RefXor(x, y, n, m) ==
  LET exp == 2^n
  IN IF m = 0 THEN 0 ELSE exp * (((x \div exp) + (y \div exp)) % 2) + RefXor(x, y, n + 1, m \div 2)
RECURSIVE RefNotR(_, _, _)
RefNotR(x, n, m) ==
  LET exp == 2^n
      xdm == (x \div exp) % 2
  IN IF m = 0 THEN 0 ELSE exp * ((xdm + 1) % 2) + RefNotR(x, n + 1, m \div 2)
RefBitAnd(x, y) == IF x >= y THEN RefAnd(x, y, 0, x) ELSE RefAnd(y, x, 0, y)
RefBitOr(x, y) == IF x >= y THEN RefOr(x, y, 0, x) ELSE RefOr(y, x, 0, y)
RefBitXor(x, y) == IF x >= y THEN RefXor(x, y, 0, x) ELSE RefXor(y, x, 0, y)
RefNot(a) == RefNotR(a, 0, a)
RECURSIVE RefshiftR(_, _)
RefshiftR(n, pos) ==
  IF pos = 0 THEN n
  ELSE LET odd(z) == z % 2 = 1
           m == IF odd(n) THEN (n - 1) \div 2 ELSE n \div 2
       IN RefshiftR(m, pos - 1)

Reffactorial[n \in Nat] == IF n = 0 THEN 1 ELSE n * Reffactorial[n - 1]
Refchoose(n, k) == Reffactorial[n] \div (Reffactorial[k] * Reffactorial[n - k])

RefRational(num, den) == [num |-> num, den |-> den]
RefDivides(p, q) == \E d \in 1..q : q = p * d
RefDivisors(q) == {d \in 1..q : RefDivides(d, q)}
RefMax(S) == CHOOSE x \in S : \A y \in S : x >= y
RefGCD(n, m) == RefMax(RefDivisors(n) \cap RefDivisors(m))
RefReduce(p) ==
  LET gcd == RefGCD(p.num, p.den)
  IN IF gcd = 1 THEN p ELSE RefRational(p.num \div gcd, p.den \div gcd)
RefIsDyadicRational(r) == \E i \in 0..r.den : 2^i = r.den
RefZero == RefRational(0, 1)
RefOne == RefRational(1, 1)
RefAdd(p, q) ==
  IF p = RefZero THEN q ELSE
  LET lcn == RefMax({p.den, q.den})
      qq == RefRational(q.num * (lcn \div q.den), q.den * (lcn \div q.den))
      pp == RefRational(p.num * (lcn \div p.den), p.den * (lcn \div p.den))
  IN RefReduce(RefRational(qq.num + pp.num, lcn))
RefHalf(p) == RefReduce(RefRational(p.num, p.den * 2))
RefPrettyPrint(p) ==
  IF p = RefZero THEN "0" ELSE IF p = RefOne THEN "1" ELSE ToString(p.num) \o "/" \o ToString(p.den)

RefAssertEq(a, b) == a = b
RefTLCNoOp(val) == val
RefPickSuccessor(exp) == IF exp THEN TRUE ELSE CHOOSE bool \in BOOLEAN : TRUE
RefTLCCache(expression, closure) == expression
RefzeroPadN(n, width) ==
  LET s == ToString(n)
      padLen == width - Len(s)
      zeros == [i \in 1..padLen |-> "0"]
      top == IF padLen < 0 THEN 0 ELSE padLen
      cat[i \in 0..top] == IF i = 0 THEN "" ELSE cat[i - 1] \o zeros[i]
  IN cat[top] \o s

\* Bitwise
ASSUME \A x, y \in 0..20 :
         /\ (x & y) = RefBitAnd(x, y)
         /\ (x | y) = RefBitOr(x, y)
         /\ (x ^^ y) = RefBitXor(x, y)
ASSUME \A x \in 0..40 : Not(x) = RefNot(x) /\ \A p \in 0..5 : shiftR(x, p) = RefshiftR(x, p)
\* Combinatorics
ASSUME \A n \in 0..8 : factorial[n] = Reffactorial[n] /\ \A k \in 0..n : choose(n, k) = Refchoose(n, k)
\* DyadicRationals
\* (the definition of Reduce needs num > 0: Divisors(0) = {}; TLC overrides Reduce in Java)
Dy == {RefRational(n, d) : n \in 1..4, d \in {1, 2, 4, 8}}
ASSUME \A p \in Dy : IsDyadicRational(p) = RefIsDyadicRational(p)
ASSUME \A d \in 1..9 : IsDyadicRational(RefRational(1, d)) = RefIsDyadicRational(RefRational(1, d))
ASSUME Zero = RefZero /\ One = RefOne
ASSUME \A p \in Dy \ {RefZero} : \A q \in Dy :
         /\ RefReduce(q) = q => Add(p, q) = RefAdd(p, q)
         /\ Half(p) = RefHalf(p)
         /\ PrettyPrint(p) = RefPrettyPrint(p)
ASSUME \A q \in Dy : Add(Zero, q) = RefAdd(RefZero, q) /\ PrettyPrint(q) = RefPrettyPrint(q)
ASSUME PrettyPrint(Zero) = "0" /\ Half(Zero) = RefRational(0, 1) /\ Add(Half(One), Half(One)) = One
\* TLCExt (the others are Java-only in TLC: TLCGetOrDefault/TLCGetAndSet keep per-worker
\* registers, TLCModelValue makes a model value, TLCFP fingerprints)
ASSUME \A a, b \in {0, 1, "x", <<1>>} : AssertEq(a, a) = RefAssertEq(a, a)
ASSUME AssertEq(1, 2) = FALSE
ASSUME \A v \in {0, "x", <<1, 2>>} : TLCNoOp(v) = RefTLCNoOp(v) /\ TLCCache(v, {}) = RefTLCCache(v, {})
ASSUME \A b \in BOOLEAN : PickSuccessor(b) = RefPickSuccessor(b)
ASSUME TLCDefer(1 + 1 = 2)
ASSUME TLCModelValue("m") = TLCModelValue("m") /\ TLCModelValue("m") # TLCModelValue("n")
ASSUME TLCGetOrDefault("k", 7) = 7
ASSUME TLCGetAndSet("k", +, 5, 1) = 1 /\ TLCGetOrDefault("k", 0) = 6
ASSUME TLCFP(<<1, 2>>) = TLCFP(<<1, 2>>) /\ TLCFP(<<1, 2>>) \in Nat
\* IOUtils
ASSUME \A i \in -12..12 : atoi(ToString(i)) = i
ASSUME \A n \in {0, 7, 42, 123} : \A w \in 0..5 : zeroPadN(n, w) = RefzeroPadN(n, w)
ASSUME IOEnv \in [DOMAIN IOEnv -> STRING]
=============================================================================
