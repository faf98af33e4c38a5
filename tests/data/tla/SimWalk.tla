---- MODULE SimWalk ----
\* For `tlacheck simulate`: x starts at 0 and grows by 1 or 2 per step until it reaches Max,
\* where the system deadlocks. Every behaviour is strictly increasing, so after k steps
\* k <= x <= 2k: with Max = 6 a behaviour has between 4 and 7 states.
EXTENDS Naturals
CONSTANT Max
VARIABLE x

Init == x = 0
Next == /\ x < Max
        /\ \E d \in {1, 2} : x' = IF x + d > Max THEN Max ELSE x + d

Small == x < 5          \* violated by every behaviour that runs long enough
Bounded == x <= Max     \* holds in every state
Grows == [][x' > x]_x   \* an action property that holds
Shrinks == [][x' < x]_x \* an action property every step violates
====
