---- MODULE Broken ----
\* A syntax error: the definition of Next is missing its right-hand side.
VARIABLE x
Init == x = 0
Next ==
====
