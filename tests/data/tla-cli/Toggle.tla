---- MODULE Toggle ----
\* x flips between 0 and 1. Without fairness it may stutter at 0 forever (EventuallyOne
\* fails); with weak fairness it flips forever, so it never settles at 0 (SettlesAtZero fails).
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x' = 1 - x
Spec == Init /\ [][Next]_x
FairSpec == Spec /\ WF_x(Next)
EventuallyOne == <>(x = 1)
SettlesAtZero == <>[](x = 0)
====
