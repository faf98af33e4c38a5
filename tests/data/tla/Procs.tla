---- MODULE Procs ----
\* N processes (model values) each toggle a flag; a token moves along a queue.
EXTENDS Naturals, Sequences, FiniteSets, TLC
CONSTANTS Proc, Limit
VARIABLES flag, log
ASSUME Limit \in Nat /\ Cardinality(Proc) > 0
vars == <<flag, log>>
Init == /\ flag = [p \in Proc |-> FALSE]
        /\ log = <<>>
Toggle(p) == /\ flag' = [flag EXCEPT ![p] = ~@]
             /\ log' = Append(log, p)
Next == \E p \in Proc : Toggle(p)
Spec == Init /\ [][Next]_vars
InModel == Len(log) <= Limit
TypeOK == /\ flag \in [Proc -> BOOLEAN]
          /\ log \in Seq(Proc)
Sym == Permutations(Proc)
View == flag
====
