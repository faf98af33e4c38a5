---- MODULE DeferredState ----
\* Constant-looking definitions whose value reads variables later: a filter over an infinite
\* set tests its predicate on membership, a recursive function evaluates its body on
\* application. (They used to be cached as constants and failed with NeedsState().)
\* x counts 0..3 and y = x + 2: 4 distinct states, 4 generated, depth 4.
\* Far (4 \notin Below) fails first when y = 5, in the fourth state.
EXTENDS Naturals
VARIABLES x, y
Below == {k \in Nat : k < y}
f[n \in Nat] == IF n = 0 THEN y ELSE f[n - 1]
Init == x = 0 /\ y = 2
Next == /\ x < 3
        /\ x' = x + 1
        /\ y' = y + 1
Inv == x \in Below /\ f[x] = y /\ f[0] = y
Far == 4 \notin Below
====
