---- MODULE Counter ----
\* Counts from 0 to 3 and stops: 4 states, no deadlock check.
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x < 3 /\ x' = x + 1
Spec == Init /\ [][Next]_x
TypeOK == x \in 0..3
Small == x < 2
====
