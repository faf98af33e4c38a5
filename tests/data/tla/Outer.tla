---- MODULE Outer ----
\* INSTANCE with substitution, N!Op, unnamed INSTANCE, cfg <- substitution.
EXTENDS Naturals
CONSTANT Max
VARIABLE n
Cap == Max + 1
In == INSTANCE Inner WITH v <- n, Bound <- Cap
Init == In!IInit
Next == In!INext
Spec == Init /\ [][Next]_n
Inv == In!Ok
MyMax == 2
====
