---- MODULE UnusedUndefined ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x' = 1 - x
Unused(n) == \A i \in 1..n : i + undefinedThing > 0
====
