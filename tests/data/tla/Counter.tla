---- MODULE Counter ----
\* x counts 0 -> 1 -> 2 -> 3 -> 0.  4 distinct states; each has exactly one successor.
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == \/ x < 3 /\ x' = x + 1
        \/ x = 3 /\ x' = 0
Spec == Init /\ [][Next]_x /\ WF_x(Next)
SpecNoFair == Init /\ [][Next]_x
TypeOK == x \in 0..3
Small == x < 2
Increasing == [][x' > x]_x
Infinitely0 == []<>(x = 0)
Reaches3 == <>(x = 3)
Leads == (x = 1) ~> (x = 0)
THEOREM Spec => []TypeOK
====
