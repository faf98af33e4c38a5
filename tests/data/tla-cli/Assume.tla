---- MODULE Assume ----
\* The assumption about the constant N fails for N = 3.
EXTENDS Naturals
CONSTANT N
ASSUME N > 5
VARIABLE x
Init == x = N
Next == UNCHANGED x
Spec == Init /\ [][Next]_x
====
