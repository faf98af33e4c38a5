---- MODULE AssertFails ----
EXTENDS Integers, TLC
CONSTANT NULL
VARIABLE x
Init == x = 0
Next == x < 3 /\ x' = x + 1 /\ Assert(x' # 2, <<"bad", x', {0, 1}, NULL, [a |-> 1]>>)
Inv == x \in {0, 1, 2, 3} \cup {NULL}
====
