---- MODULE Inner ----
EXTENDS Naturals
CONSTANT Bound
VARIABLE v
IInit == v = 0
Step(k) == v' = (v + k) % Bound
INext == Step(1) \/ Step(2)
Ok == v < Bound
====
