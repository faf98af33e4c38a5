---- MODULE SkipInv ----
\* Invariants are skipped on a step that leaves the variables they read untouched
\* (reads.py). y counts 0..3 on every step; x moves from 0 to 1 only when y = 3, once.
\* States: (x, y) for y in 0..3 with x = 0, then (1, 3)... so 4 + 1 = 5 distinct states:
\* (0,0) (0,1) (0,2) (0,3) (1,3). Generated: Init 1 + one successor from each of the
\* first four states + (1,3) has none = 5. XSmall (x = 0) fails in the fifth state, whose
\* parent (0,3) satisfied it: only the step that changes x can break it.
EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = 0
Next == \/ /\ y < 3
           /\ y' = y + 1
           /\ UNCHANGED x
        \/ /\ y = 3 /\ x = 0
           /\ x' = 1
           /\ UNCHANGED y
XSmall == x = 0
XHelper == x + 0
XViaDef == XHelper = 0
YOk == y \in 0..3
====
