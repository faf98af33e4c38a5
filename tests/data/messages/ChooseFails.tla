---- MODULE ChooseFails ----
EXTENDS Integers
CONSTANT NULL
VARIABLE x
Init == x = 0
Next == x' = CHOOSE y \in {x + 1, NULL} : y = 7
====
