---- MODULE NamedAssumptions ----
EXTENDS Naturals
CONSTANT N
ASSUME NPos == N > 0
THEOREM Thm == NPos => N >= 1
ASSUME Both == NPos /\ Thm
====
