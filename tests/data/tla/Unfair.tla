---- MODULE Unfair ----
\* Same counter without fairness: the behaviour may stutter forever in the initial state.
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x' = (x + 1) % 4
Spec == Init /\ [][Next]_x
Reaches3 == <>(x = 3)
====
