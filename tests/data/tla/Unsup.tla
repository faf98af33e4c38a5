---- MODULE Unsup ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x' = CHOOSE y : y = 1
====
