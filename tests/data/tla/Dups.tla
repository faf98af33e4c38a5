---- MODULE Dups ----
\* Duplicates count as generated states: Init has 2 derivations, every state has
\* 3 (\E witnesses) + 1 (disjunct) + 1 (UNCHANGED) derivations.
EXTENDS Naturals
VARIABLE x
Init == x \in {0, 1}
Next == \/ \E i \in 1..3 : x' = 1 - x
        \/ x' = x
        \/ UNCHANGED x
====
