---- MODULE Orderings ----
(* Community operators in Next and in an invariant. Hand count: a state is a sequence of distinct
   elements of 1..4 (q records the growing sums, s the set): 1 + 4 + 12 + 24 + 24 = 65 states, each
   reached once (65 generated), depth 5. *)
EXTENDS Integers, FiniteSetsExt, SequencesExt
VARIABLES s, q
Init == s = {} /\ q = <<>>
Next == \E x \in 1..4 : /\ x \notin s /\ s' = s \cup {x} /\ q' = Append(q, SumSet(s'))
Inv == Len(q) <= 4 /\ (q # <<>> => Last(q) = FoldSet(+, 0, s)) /\ IsSorted(q, <)
====
