---- MODULE TemporalForms ----
\* Temporal property forms that reduce to supported ones: [](P ~> Q) is P ~> Q, [][]P is []P,
\* <><>P is <>P. x cycles 0 -> 1 -> 2 -> 0 under weak fairness: 3 distinct states,
\* 4 generated (Init 1 + one successor of each state), depth 3. Never3 fails: x never
\* reaches 3, so the counterexample is the whole cycle, back to state 1.
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x' = (x + 1) % 3
Spec == Init /\ [][Next]_x /\ WF_x(Next)
AlwaysLeads == [](x = 0 ~> x = 2)
AlwaysAlways == [][](x < 3)
EvEv == <><>(x = 2)
Never3 == [](x = 0 ~> x = 3)
====
