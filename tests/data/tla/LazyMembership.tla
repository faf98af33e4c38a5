---- MODULE LazyMembership ----
\* Membership in infinite sets is decided without enumerating them, as TLC does (SetCupValue,
\* SetCapValue, SetDiffValue, UnionValue, SetOfFcnsValue, SeqValue, SubsetValue, ...).
\* n counts 0..3, so there are 4 distinct states, 4 generated (Init 1 + one successor from
\* each of n = 0, 1, 2), depth 4. InRange fails first at n = 2 (the third state: 3 generated,
\* 3 distinct).
EXTENDS Naturals, Integers, Sequences, FiniteSets
CONSTANT NULL
VARIABLES f, g, s, t, n
S == {1, 2}
Init == /\ f = [i \in S |-> NULL] /\ g = [i \in S |-> {i}]
        /\ s = <<>> /\ t = <<<<1>>>> /\ n = 0
Next == /\ n < 3
        /\ n' = n + 1
        /\ f' = [f EXCEPT ![1] = n - 1]
        /\ s' = Append(s, "a")
        /\ UNCHANGED <<g, t>>
TypeOK == /\ f \in [S -> Int \cup {NULL}]
          /\ s \in Seq({"a", "b"})
          /\ n \in Nat
          /\ [x |-> n, y |-> s] \in [x : Nat, y : Seq(STRING)]
          /\ {n} \in SUBSET Nat
          /\ f \in [S -> (Int \ {-5}) \cup {NULL}]
          /\ s \in Seq(STRING) \ {<<"b">>}
          /\ n \in {k \in Nat : k < 10}
          /\ <<n, n>> \in Nat \X Int
          /\ g \in [S -> SUBSET Nat]
          /\ t \in Seq(Seq(Nat))
          /\ n \in Int \cap Nat
          /\ g \in [S -> SUBSET Int] \cup {NULL}
          /\ {n} \subseteq Nat
          /\ NULL \notin Nat
          /\ n \in UNION {Nat, {NULL}}
          /\ -1 \notin UNION {Nat, {NULL}}
          /\ -1 \notin Int \cap Nat
InRange == n \in Int \cap {k \in Nat : k < 2}
====
