---- MODULE Wrap ----
\* Counts modulo 3, so the action property "x never decreases" fails on 2 -> 0.
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x' = (x + 1) % 3
Spec == Init /\ [][Next]_x
Monotonic == [][x' >= x]_x
====
