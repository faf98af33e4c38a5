---- MODULE Stuck ----
\* Two counters; x stops at 2 and nothing else is enabled there: a deadlock.
EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = 0
Next == x < 2 /\ x' = x + 1 /\ y' = y
Spec == Init /\ [][Next]_<<x, y>>
====
