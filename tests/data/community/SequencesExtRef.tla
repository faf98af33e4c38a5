--------------------------- MODULE SequencesExtRef ---------------------------
(* SequencesExt: each native operator against its TLA+ definition in
   tlaplus/CommunityModules (typed in below as Ref<Op>) on small inputs. *)
EXTENDS Integers, Sequences, FiniteSets, SequencesExt

RefRange(f) == {f[x] : x \in DOMAIN f}
RefIsInjective(f) == \A a, b \in DOMAIN f : f[a] = f[b] => a = b
RefMin(S) == CHOOSE x \in S : \A y \in S : x =< y
RefMax(S) == CHOOSE x \in S : \A y \in S : x >= y
RefMapThenFoldSet(op(_,_), base, f(_), choose(_), S) ==
  LET iter[s \in SUBSET S] ==
        IF s = {} THEN base ELSE LET x == choose(s) IN op(f(x), iter[s \ {x}])
  IN iter[S]

RefToSet(s) == {s[i] : i \in DOMAIN s}
RefToBag(s) == [x \in RefRange(s) |-> Cardinality({i \in DOMAIN s : s[i] = x})]
RefSetToSeqs(S) ==
  LET D == 1..Cardinality(S) IN {f \in [D -> S] : \A i, j \in D : i # j => f[i] # f[j]}
RefSetToAllKPermutations(S) == UNION {RefSetToSeqs(s) : s \in SUBSET S}
RefTupleOf(set, n) == [1..n -> set]
RefSeqOf(set, n) == UNION {[1..m -> set] : m \in 0..n}
RefContains(s, e) == \E i \in 1..Len(s) : s[i] = e
RefIsSorted(s, op(_,_)) == \A i, j \in 1..Len(s) : i < j => op(s[i], s[j])
RefReverse(s) == [i \in 1..Len(s) |-> s[(Len(s) - i) + 1]]
RefRemove(s, e) == SelectSeq(s, LAMBDA t : t # e)
RefReplaceAll(s, old, new) == [i \in 1..Len(s) |-> IF s[i] = old THEN new ELSE s[i]]
RefSelectInSeq(s, Test(_)) ==
  LET I == {i \in 1..Len(s) : Test(s[i])} IN IF I # {} THEN RefMin(I) ELSE 0
RefSelectInSubSeq(s, from, to, Test(_)) == RefSelectInSeq(SubSeq(s, from, to), Test)
RefSelectLastInSeq(s, Test(_)) ==
  LET I == {i \in 1..Len(s) : Test(s[i])} IN IF I # {} THEN RefMax(I) ELSE 0
RefSelectLastInSubSeq(s, from, to, Test(_)) == RefSelectLastInSeq(SubSeq(s, from, to), Test)
RefInsertAt(s, i, e) == SubSeq(s, 1, i - 1) \o <<e>> \o SubSeq(s, i, Len(s))
RefReplaceAt(s, i, e) == [s EXCEPT ![i] = e]
RefRemoveAt(s, i) == SubSeq(s, 1, i - 1) \o SubSeq(s, i + 1, Len(s))
RefRemoveFirst(s, e) ==
  IF \E i \in 1..Len(s) : s[i] = e THEN RefRemoveAt(s, RefSelectInSeq(s, LAMBDA v : v = e)) ELSE s
RefRemoveFirstMatch(s, Test(_)) ==
  IF \E i \in 1..Len(s) : Test(s[i]) THEN RefRemoveAt(s, RefSelectInSeq(s, Test)) ELSE s
RefCons(elt, s) == <<elt>> \o s
RefSnoc(elt, s) == Append(s, elt)
RefFront(s) == SubSeq(s, 1, Len(s) - 1)
RefLast(s) == s[Len(s)]
RefIsPrefix(s, t) == Len(s) <= Len(t) /\ SubSeq(s, 1, Len(s)) = SubSeq(t, 1, Len(s))
RefIsStrictPrefix(s, t) == RefIsPrefix(s, t) /\ s # t
RefIsSuffix(s, t) == RefIsPrefix(RefReverse(s), RefReverse(t))
RefIsStrictSuffix(s, t) == RefIsSuffix(s, t) /\ s # t
RefPrefixes(s) == {SubSeq(s, 1, l) : l \in 0..Len(s)}
RefCommonPrefixes(S) ==
  LET P == UNION {RefPrefixes(q) : q \in S} IN {p \in P : \A t \in S : RefIsPrefix(p, t)}
RefLongestCommonPrefix(S) ==
  CHOOSE longest \in RefCommonPrefixes(S) :
    \A other \in RefCommonPrefixes(S) : Len(other) <= Len(longest)
RefSuffixes(s) == {SubSeq(s, l, Len(s)) : l \in 1..Len(s)} \cup {<<>>}
RefSeqMod(a, b) == IF a % b = 0 THEN b ELSE a % b
RefFoldLeft(op(_,_), base, s) ==
  RefMapThenFoldSet(LAMBDA x, y : op(y, x), base, LAMBDA i : s[i], LAMBDA S : RefMax(S), DOMAIN s)
RefFoldRight(op(_,_), s, base) ==
  RefMapThenFoldSet(op, base, LAMBDA i : s[i], LAMBDA S : RefMin(S), DOMAIN s)
RefFoldLeftDomain(op(_,_), base, s) == RefFoldLeft(op, base, [i \in DOMAIN s |-> i])
RefFoldRightDomain(op(_,_), s, base) == RefFoldRight(op, [i \in DOMAIN s |-> i], base)
RefFoldSeq(op(_,_), base, s) ==
  RefMapThenFoldSet(op, base, LAMBDA i : s[i], LAMBDA S : CHOOSE x \in S : TRUE, DOMAIN s)
RefFlattenSeq(seqs) ==
  IF Len(seqs) = 0 THEN seqs ELSE
    LET flatten[i \in 1..Len(seqs)] == IF i = 1 THEN seqs[i] ELSE flatten[i - 1] \o seqs[i]
    IN flatten[Len(seqs)]
RefZip(s, t) ==
  LET l == IF Len(s) <= Len(t) THEN Len(s) ELSE Len(t) IN [i \in 1..l |-> <<s[i], t[i]>>]
RefInterleave(s, t) ==
  CASE Len(s) = Len(t) /\ Len(s) > 0 ->
         LET u[i \in 1..Len(s)] ==
               IF i = 1 THEN << <<s[i]>> >> \o << <<t[i]>> >>
               ELSE u[i - 1] \o << <<s[i]>> >> \o << <<t[i]>> >>
         IN RefLast(u)
    [] Len(s) = Len(t) /\ Len(s) = 0 -> << <<>>, <<>> >>
RefSubSeqs(s) == {SubSeq(s, i + 1, j) : i, j \in 0..Len(s)}
RefAllSubSeqs(s) ==
  {RefFoldLeft(LAMBDA acc, x : Append(acc, x), <<>>, [k \in 1..Cardinality(D) |-> s[CHOOSE i \in D :
      Cardinality({j \in D : j < i}) = k - 1]]) : D \in SUBSET DOMAIN s}
RefIndexFirstSubSeq(s, t) ==
  LET last == CHOOSE i \in 0..Len(t) :
                /\ s \in RefSubSeqs(SubSeq(t, 1, i))
                /\ \A j \in 0..i - 1 : s \notin RefSubSeqs(SubSeq(t, 1, j))
  IN last - (Len(s) - 1)
RefReplaceSubSeqAt(i, r, s, t) ==
  LET prefix == SubSeq(t, 1, i - 1)
      suffix == SubSeq(t, i + Len(s), Len(t))
  IN prefix \o r \o suffix
RefReplaceFirstSubSeq(r, s, t) ==
  IF s \in RefSubSeqs(t) THEN RefReplaceSubSeqAt(RefIndexFirstSubSeq(s, t), r, s, t) ELSE t
RefReplaceAllSubSeqs(r, s, t) ==
  CASE s = t -> r
    [] r = s -> t
    [] s # t /\ Len(s) = 0 ->
         LET z == RefInterleave([i \in 1..Len(t) |-> r], [i \in 1..Len(t) |-> <<t[i]>>])
         IN RefFlattenSeq(RefFlattenSeq(z))
    [] s # t /\ Len(s) > 0 /\ s \in RefSubSeqs(t) ->
         LET match(f) == {i \in 1..Len(f) : s = f[i]}
             comp(p, q) == \A i \in 1..Len(p) : p[i] <= q[i]
             R == RefSeqOf(RefSeqOf(RefRange(t), Len(t)), Len(t))
             S == {f \in R : RefFlattenSeq(f) = t}
             T == {f \in S : \A g \in S : Cardinality(match(g)) <= Cardinality(match(f))}
             u == CHOOSE f \in T : \A g \in T : comp(SortSeq(SetToSeq(match(f)), <), SortSeq(SetToSeq(match(g)), <))
         IN RefFlattenSeq([i \in 1..Len(u) |-> IF s = u[i] THEN r ELSE u[i]])
    [] OTHER -> t

Seqs == UNION {[1..n -> 1..3] : n \in 0..3}
Short == UNION {[1..n -> 1..2] : n \in 0..2}
Sets == SUBSET (1..3)
Even(x) == x % 2 = 0
Sub(a, b) == a - b
Pair(a, b) == <<a, b>>

ASSUME \A s \in Seqs : ToSet(s) = RefToSet(s) /\ ToBag(s) = RefToBag(s)
\* SetToSeq: TLC's override lists the set in TLC's order (the definition: any injective listing)
ASSUME \A S \in Sets : LET q == SetToSeq(S) IN RefIsInjective(q) /\ RefToSet(q) = S /\ RefIsSorted(q, <)
ASSUME \A S \in Sets : SetToSeqs(S) = RefSetToSeqs(S)
ASSUME \A S \in Sets : SetToSortSeq(S, >) = SortSeq(SetToSeq(S), >)
ASSUME \A S \in Sets : SetToAllKPermutations(S) = RefSetToAllKPermutations(S)
ASSUME \A n \in 0..2 : TupleOf(1..2, n) = RefTupleOf(1..2, n) /\ SeqOf(1..2, n) = RefSeqOf(1..2, n)
ASSUME \A n \in 0..2 : BoundedSeq(1..2, n) = RefSeqOf(1..2, n)
ASSUME \A s \in Seqs : \A n \in 0..3 : (s \in SeqOf(1..2, n)) = (s \in RefSeqOf(1..2, n))
ASSUME \A s \in Seqs : \A e \in 0..3 :
         /\ Contains(s, e) = RefContains(s, e)
         /\ Remove(s, e) = RefRemove(s, e)
         /\ ReplaceAll(s, e, 9) = RefReplaceAll(s, e, 9)
         /\ RemoveFirst(s, e) = RefRemoveFirst(s, e)
         /\ Cons(e, s) = RefCons(e, s)
         /\ Snoc(e, s) = RefSnoc(e, s)
ASSUME \A s \in Seqs :
         /\ IsSorted(s, <) = RefIsSorted(s, <)
         /\ IsSorted(s, <=) = RefIsSorted(s, <=)
         /\ Reverse(s) = RefReverse(s)
         /\ SelectInSeq(s, Even) = RefSelectInSeq(s, Even)
         /\ SelectLastInSeq(s, Even) = RefSelectLastInSeq(s, Even)
         /\ RemoveFirstMatch(s, Even) = RefRemoveFirstMatch(s, Even)
         /\ Prefixes(s) = RefPrefixes(s)
         /\ Suffixes(s) = RefSuffixes(s)
         /\ SubSeqs(s) = RefSubSeqs(s)
         /\ AllSubSeqs(s) = RefAllSubSeqs(s)
ASSUME \A s \in Seqs \ {<<>>} : Front(s) = RefFront(s) /\ Last(s) = RefLast(s)
\* Select(Last)InSubSeq: TLC's override (and the module's own tests) give the index in s; the
\* definition gives the index in SubSeq(s, from, to)
Abs(r, from) == IF r = 0 THEN 0 ELSE r + from - 1
ASSUME \A s \in Seqs : \A i \in 1..Len(s) : \A j \in i..Len(s) :
         /\ SelectInSubSeq(s, i, j, Even) = Abs(RefSelectInSubSeq(s, i, j, Even), i)
         /\ SelectLastInSubSeq(s, i, j, Even) = Abs(RefSelectLastInSubSeq(s, i, j, Even), i)
ASSUME SelectInSubSeq(<<1, 1, 2>>, 2, 3, LAMBDA e : e = 1) = 2 /\ SelectInSubSeq(<<>>, 1, 0, Even) = 0
ASSUME \A s \in Seqs : \A i \in 1..Len(s) :
         /\ InsertAt(s, i, 7) = RefInsertAt(s, i, 7)
         /\ ReplaceAt(s, i, 7) = RefReplaceAt(s, i, 7)
         /\ RemoveAt(s, i) = RefRemoveAt(s, i)
ASSUME \A s \in Seqs : InsertAt(s, Len(s) + 1, 7) = RefInsertAt(s, Len(s) + 1, 7)
ASSUME \A s, t \in Seqs :
         /\ IsPrefix(s, t) = RefIsPrefix(s, t)
         /\ IsStrictPrefix(s, t) = RefIsStrictPrefix(s, t)
         /\ IsSuffix(s, t) = RefIsSuffix(s, t)
         /\ IsStrictSuffix(s, t) = RefIsStrictSuffix(s, t)
         /\ Zip(s, t) = RefZip(s, t)
ASSUME \A s, t \in Seqs : Len(s) = Len(t) => Interleave(s, t) = RefInterleave(s, t)
ASSUME \A S \in SUBSET {<<1>>, <<1, 2>>, <<1, 3>>, <<2>>, <<>>} :
         /\ CommonPrefixes(S) = RefCommonPrefixes(S)
         /\ S # {} => LongestCommonPrefix(S) = RefLongestCommonPrefix(S)
ASSUME LongestCommonPrefix({"abc", "abd", "ab"}) = "ab"
ASSUME \A a \in -3..6 : \A b \in 1..3 : SeqMod(a, b) = RefSeqMod(a, b)
ASSUME \A s \in Seqs :
         /\ FoldLeft(Sub, 10, s) = RefFoldLeft(Sub, 10, s)
         /\ FoldRight(Sub, s, 10) = RefFoldRight(Sub, s, 10)
         /\ FoldLeft(Pair, 0, s) = RefFoldLeft(Pair, 0, s)
         /\ FoldRight(Pair, s, 0) = RefFoldRight(Pair, s, 0)
         /\ FoldLeftDomain(Pair, 0, s) = RefFoldLeftDomain(Pair, 0, s)
         /\ FoldRightDomain(Pair, s, 0) = RefFoldRightDomain(Pair, s, 0)
         /\ FoldSeq(+, 0, s) = RefFoldSeq(+, 0, s)
\* FoldSeq folds like TLC's override (FoldFunction): acc := op(s[i], acc) for i = 1..Len(s)
ASSUME FoldSeq(LAMBDA x, acc : Append(acc, x), <<>>, <<1, 2, 3>>) = <<1, 2, 3>>
ASSUME \A s, t \in Short : \A u \in Short :
         /\ FlattenSeq(<<s, t, u>>) = RefFlattenSeq(<<s, t, u>>)
         /\ FlattenSeq(<<s>>) = RefFlattenSeq(<<s>>)
ASSUME FlattenSeq(<<>>) = <<>> /\ FlattenSeq(<<"ab", "c">>) = "abc"
ASSUME \A s \in Short : \A t \in Seqs :
         /\ s \in RefSubSeqs(t) => IndexFirstSubSeq(s, t) = RefIndexFirstSubSeq(s, t)
         /\ ReplaceFirstSubSeq(<<9>>, s, t) = RefReplaceFirstSubSeq(<<9>>, s, t)
         /\ \A i \in 1..Len(t) : ReplaceSubSeqAt(i, <<8, 9>>, s, t) = RefReplaceSubSeqAt(i, <<8, 9>>, s, t)
ASSUME \A s \in Short : \A t \in UNION {[1..n -> 1..2] : n \in 0..3} : \A r \in {<<>>, <<9>>} :
         ReplaceAllSubSeqs(r, s, t) = RefReplaceAllSubSeqs(r, s, t)
ASSUME ReplaceFirstSubSeq("x", "b", "abcb") = "axcb" /\ ReplaceAllSubSeqs("x", "b", "abcb") = "axcx"
ASSUME ReplaceAllSubSeqs("x", "", "ab") = "xaxb"
=============================================================================
