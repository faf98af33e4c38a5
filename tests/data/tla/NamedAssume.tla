---- MODULE NamedAssume ----
\* ASSUME referring to a named assumption that is false: the run stops before exploring
\* with the assumption's verdict (exit 10).
EXTENDS Naturals
VARIABLE x
ASSUMPTION Wrong == 1 > 2
THEOREM Fine == 2 > 1
ASSUME Fine
ASSUME Wrong
Init == x = 0
Next == UNCHANGED x
====
