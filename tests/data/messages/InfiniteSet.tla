---- MODULE InfiniteSet ----
EXTENDS Integers
CONSTANT NULL
VARIABLE x
Init == x = [i \in 1..2 |-> 0]
Next == /\ x[1] < 3
        /\ x' = [x EXCEPT ![1] = x[1] + 1]
        /\ x[1] = 2 => \E s \in SUBSET (Nat \cup {NULL}) : s = {}
====
