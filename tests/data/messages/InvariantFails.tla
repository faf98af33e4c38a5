---- MODULE InvariantFails ----
EXTENDS Integers
VARIABLES x
Init == x = 0
Next == x < 2 /\ x' = x + 1
Inv == x # 2 \/ x[1] = 0
====
