---- MODULE Selectors ----
\* Subexpression selectors and named assumptions/theorems. x cycles 0, 1, 2, 3, 4, 0:
\* 5 distinct states, 6 generated (Init 1 + one successor of each state, the last a
\* duplicate), depth 5. Each selected invariant below fails first in the state noted
\* (BFS: generated = distinct = that state's position, 1-based).
EXTENDS Naturals
VARIABLE x
ASSUMPTION Pos == 2 > 1
THEOREM Thm == 1 + 1 = 2
ASSUME Pos
ASSUME Thm
ASSUME Named == 3 > 2

Inv == /\ x >= 0
       /\ x < 3                         \* Inv!2 fails at x = 3 (state 4)
Lab == /\ lo :: x >= 0
       /\ hi :: x # 2                   \* Lab!hi fails at x = 2 (state 3)
Par(n) == /\ n >= 0
          /\ n # 1                      \* Par(x)!2 fails at x = 1 (state 2)
IfE == IF x > 10 THEN FALSE ELSE x < 4  \* IfE!3 fails at x = 4 (state 5)
Deep == (x >= 0 /\ x < 100) /\ x # 4    \* Deep!1!2 holds; Deep!2 fails at x = 4

Init == x = 0
Next == x' = (x + 1) % 5

Holds == Inv!1 /\ Lab!lo /\ Par(x)!1 /\ Deep!1!2 /\ Deep!1!1
S1 == Inv!2
S2 == Lab!hi
S3 == Par(x)!2
S4 == IfE!3
S5 == Deep!2
====
