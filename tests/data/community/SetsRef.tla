------------------------------ MODULE SetsRef ------------------------------
(* Folds, FiniteSetsExt, Functions and BagsExt: each native operator against its TLA+
   definition in tlaplus/CommunityModules (typed in below as Ref<Op>) on small inputs. *)
EXTENDS Integers, Sequences, FiniteSets, FiniteSetsExt, BagsExt

RefMapThenFoldSet(op(_,_), base, f(_), choose(_), S) ==
  LET iter[s \in SUBSET S] ==
        IF s = {} THEN base ELSE LET x == choose(s) IN op(f(x), iter[s \ {x}])
  IN iter[S]
First(s) == CHOOSE x \in s : TRUE
RefFoldSet(op(_,_), base, set) == RefMapThenFoldSet(op, base, LAMBDA x : x, First, set)
RefSumSet(set) == RefFoldSet(+, 0, set)
RefProductSet(set) == RefFoldSet(LAMBDA x, y : x * y, 1, set)
RefReduceSet(op(_,_), set, acc) == RefFoldSet(op, acc, set)
RefMapThenSumSet(op(_), set) == RefMapThenFoldSet(+, 0, op, First, set)
RefFlattenSet(S) == UNION S
RefSymDiff(A, B) == (A \ B) \cup (B \ A)
RefQuantify(S, P(_)) == Cardinality({s \in S : P(s)})
RefkSubset(k, S) == {s \in SUBSET S : Cardinality(s) = k}
RefMax(S) == CHOOSE x \in S : \A y \in S : x >= y
RefMin(S) == CHOOSE x \in S : \A y \in S : x =< y
RefRange(f) == {f[x] : x \in DOMAIN f}
RefChoices(Sets) ==
  LET ChoiceFunction(Ts) == {f \in [Ts -> UNION Ts] : \A T \in Ts : f[T] \in T}
  IN {RefRange(f) : f \in ChoiceFunction(Sets)}
RefChooseUnique(S, P(_)) == CHOOSE x \in S : P(x) /\ \A y \in S : P(y) => y = x

RefRestrict(f, S) == [x \in S |-> f[x]]
RefRestrictDomain(f, Test(_)) == RefRestrict(f, {x \in DOMAIN f : Test(x)})
RefRestrictValues(f, Test(_)) == LET S == {x \in DOMAIN f : Test(f[x])} IN RefRestrict(f, S)
RefIsRestriction(narrow, wide) ==
  /\ DOMAIN narrow \subseteq DOMAIN wide
  /\ \A x \in DOMAIN narrow \intersect DOMAIN wide : narrow[x] = wide[x]
RefPointwise(f, g, T(_,_)) == [e \in DOMAIN f |-> T(f[e], g[e])]
RefInverse(f, S, T) == [t \in T |-> CHOOSE s \in S : t \in RefRange(f) => f[s] = t]
RefAntiFunction(f) == RefInverse(f, DOMAIN f, RefRange(f))
RefIsInjective(f) == \A a, b \in DOMAIN f : f[a] = f[b] => a = b
RefInjection(S, T) == {M \in [S -> T] : RefIsInjective(M)}
RefSurjection(S, T) == {M \in [S -> T] : \A t \in T : \E s \in S : M[s] = t}
RefBijection(S, T) == RefInjection(S, T) \cap RefSurjection(S, T)
RefExistsInjection(S, T) == RefInjection(S, T) # {}
RefExistsSurjection(S, T) == RefSurjection(S, T) # {}
RefExistsBijection(S, T) == RefBijection(S, T) # {}
RefFoldFunctionOnSet(op(_,_), base, fun, indices) ==
  RefMapThenFoldSet(op, base, LAMBDA i : fun[i], First, indices)
RefFoldFunction(op(_,_), base, fun) == RefFoldFunctionOnSet(op, base, fun, DOMAIN fun)
RefSumFunctionOnSet(fun, indices) == RefFoldFunctionOnSet(+, 0, fun, indices)
RefSumFunction(fun) == RefSumFunctionOnSet(fun, DOMAIN fun)

RefBagAdd(B, x) ==
  IF x \in DOMAIN B
  THEN [e \in DOMAIN B |-> IF e = x THEN B[e] + 1 ELSE B[e]]
  ELSE [e \in DOMAIN B \union {x} |-> IF e = x THEN 1 ELSE B[e]]
RefBagRemove(B, x) ==
  IF x \in DOMAIN B
  THEN IF B[x] = 1 THEN [e \in DOMAIN B \ {x} |-> B[e]]
       ELSE [e \in DOMAIN B |-> IF e = x THEN B[e] - 1 ELSE B[e]]
  ELSE B
RefBagRemoveAll(B, x) == [e \in DOMAIN B \ {x} |-> B[e]]
RefMapThenFoldBag(op(_,_), base, f(_), choose(_), B) ==
  LET handle(x) ==
        LET pow[n \in Nat \ {0}] == op(IF n = 1 THEN base ELSE pow[n - 1], f(x))
        IN pow[B[x]]
  IN RefMapThenFoldSet(op, base, handle, First, DOMAIN B)
RefFoldBag(op(_,_), base, B) == RefMapThenFoldBag(op, base, LAMBDA x : x, First, B)
RefSumBag(B) == RefFoldBag(LAMBDA x, y : x + y, 0, B)
RefProductBag(B) == RefFoldBag(LAMBDA x, y : x * y, 1, B)

Sets == SUBSET (1..4)
Fs == [1..3 -> 0..2] \cup [{"a", "b"} -> {"x", "y"}]
Bs == UNION {[D -> 1..2] : D \in SUBSET (1..3)}
Cat(x, y) == <<x>> \o y
Max3(s) == RefMax(s)

\* Folds
ASSUME \A S \in Sets : MapThenFoldSet(Cat, <<>>, LAMBDA x : 2 * x, First, S)
                         = RefMapThenFoldSet(Cat, <<>>, LAMBDA x : 2 * x, First, S)
ASSUME \A S \in Sets : MapThenFoldSet(Cat, <<>>, LAMBDA x : x, Max3, S)
                         = RefMapThenFoldSet(Cat, <<>>, LAMBDA x : x, Max3, S)
\* FiniteSetsExt
ASSUME \A S \in Sets : FoldSet(+, 7, S) = RefFoldSet(+, 7, S)
ASSUME \A S \in Sets : FoldSet(\cup, {}, {S, {5}}) = RefFoldSet(\cup, {}, {S, {5}})
ASSUME \A S \in Sets : SumSet(S) = RefSumSet(S) /\ ProductSet(S) = RefProductSet(S)
ASSUME \A S \in Sets : ReduceSet(LAMBDA x, y : x * y, S, 3) = RefReduceSet(LAMBDA x, y : x * y, S, 3)
ASSUME \A S \in Sets : MapThenSumSet(LAMBDA x : x * x, S) = RefMapThenSumSet(LAMBDA x : x * x, S)
ASSUME \A S \in SUBSET {{1, 2}, {2, 3}, {}, {4}} : FlattenSet(S) = RefFlattenSet(S)
ASSUME \A A, B \in SUBSET (1..3) : SymDiff(A, B) = RefSymDiff(A, B)
ASSUME \A S \in Sets : Quantify(S, LAMBDA n : n % 2 = 0) = RefQuantify(S, LAMBDA n : n % 2 = 0)
ASSUME \A S \in Sets : \A k \in -1..5 : kSubset(k, S) = RefkSubset(k, S)
ASSUME \A S \in Sets \ {{}} : Max(S) = RefMax(S) /\ Min(S) = RefMin(S)
ASSUME \A Ss \in SUBSET {{1, 2}, {2, 3}, {5}, {}} : Choices(Ss) = RefChoices(Ss)
ASSUME \A S \in Sets : \A k \in 1..4 :
         k \in S => ChooseUnique(S, LAMBDA x : x = k) = RefChooseUnique(S, LAMBDA x : x = k)
ASSUME ChooseUnique({2, 3, 4, 5}, LAMBDA x : x % 3 = 1) = 4
\* the fold order of TLC's Java override (FoldSet, FoldFunction): acc := op(x, acc), x ascending
ASSUME FoldSet(LAMBDA x, acc : Append(acc, x), <<>>, {3, 1, 2}) = <<1, 2, 3>>
ASSUME RefFoldSet(LAMBDA x, acc : Append(acc, x), <<>>, {3, 1, 2}) = <<3, 2, 1>>
\* Functions
ASSUME \A f \in Fs : \A S \in SUBSET DOMAIN f : Restrict(f, S) = RefRestrict(f, S)
ASSUME \A f \in Fs : RestrictDomain(f, LAMBDA x : x \in {1, "a"}) = RefRestrictDomain(f, LAMBDA x : x \in {1, "a"})
ASSUME \A f \in Fs : RestrictValues(f, LAMBDA y : y \in {0, "x"}) = RefRestrictValues(f, LAMBDA y : y \in {0, "x"})
ASSUME \A f, g \in Fs : IsRestriction(f, g) = RefIsRestriction(f, g)
ASSUME \A f \in Fs : \A S \in SUBSET DOMAIN f : IsRestriction(RefRestrict(f, S), f)
ASSUME \A f \in Fs : Range(f) = RefRange(f)
ASSUME \A f, g \in [1..3 -> 0..2] : Pointwise(f, g, +) = RefPointwise(f, g, +)
ASSUME \A f \in [1..3 -> 0..2] : \A T \in SUBSET (0..3) : Inverse(f, DOMAIN f, T) = RefInverse(f, DOMAIN f, T)
ASSUME \A f \in Fs : AntiFunction(f) = RefAntiFunction(f)
ASSUME \A f \in Fs : IsInjective(f) = RefIsInjective(f)
ASSUME \A S \in SUBSET (1..3) : \A T \in SUBSET {"a", "b", "c"} :
         /\ Injection(S, T) = RefInjection(S, T)
         /\ Surjection(S, T) = RefSurjection(S, T)
         /\ Bijection(S, T) = RefBijection(S, T)
         /\ ExistsInjection(S, T) = RefExistsInjection(S, T)
         /\ ExistsSurjection(S, T) = RefExistsSurjection(S, T)
         /\ ExistsBijection(S, T) = RefExistsBijection(S, T)
ASSUME \A f \in [1..3 -> 0..2] : \A I \in SUBSET (1..3) :
         /\ FoldFunctionOnSet(+, 1, f, I) = RefFoldFunctionOnSet(+, 1, f, I)
         /\ SumFunctionOnSet(f, I) = RefSumFunctionOnSet(f, I)
ASSUME \A f \in [1..3 -> 0..2] :
         /\ FoldFunction(+, 0, f) = RefFoldFunction(+, 0, f)
         /\ FoldFunction(\cup, {}, [i \in 1..3 |-> {f[i]}]) = RefFoldFunction(\cup, {}, [i \in 1..3 |-> {f[i]}])
         /\ SumFunction(f) = RefSumFunction(f)
ASSUME FoldFunction(LAMBDA x, acc : Append(acc, x), <<>>, <<"a", "b">>) = <<"a", "b">>
\* BagsExt
ASSUME \A B \in Bs : \A x \in 1..4 :
         /\ BagAdd(B, x) = RefBagAdd(B, x)
         /\ BagRemove(B, x) = RefBagRemove(B, x)
         /\ BagRemoveAll(B, x) = RefBagRemoveAll(B, x)
ASSUME \A B \in Bs :
         /\ MapThenFoldBag(+, 5, LAMBDA x : x * x, First, B) = RefMapThenFoldBag(+, 5, LAMBDA x : x * x, First, B)
         /\ FoldBag(+, 0, B) = RefFoldBag(+, 0, B)
         /\ SumBag(B) = RefSumBag(B)
         /\ ProductBag(B) = RefProductBag(B)
=============================================================================
