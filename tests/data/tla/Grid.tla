---- MODULE Grid ----
\* A scalable safety-only benchmark for the built-in checker: processes that move between
\* "idle" and "busy" and count their completed jobs up to N. |Procs| = P gives
\* (2 * N + 1)^P distinct states (Grid.cfg: P = 3, N = 2 -> 125; GridMedium.cfg: P = 4,
\* N = 9 -> 130,321; GridBig.cfg: P = 4, N = 15 -> 923,521).
EXTENDS Naturals
CONSTANTS Procs, N
VARIABLES pc, done, last

vars == <<pc, done, last>>

Init == /\ pc = [p \in Procs |-> "idle"]
        /\ done = [p \in Procs |-> 0]
        /\ last = [p \in Procs |-> [job |-> 0, ok |-> TRUE]]

Start(p) == /\ pc[p] = "idle"
            /\ done[p] < N
            /\ pc' = [pc EXCEPT ![p] = "busy"]
            /\ UNCHANGED <<done, last>>

Finish(p) == /\ pc[p] = "busy"
             /\ pc' = [pc EXCEPT ![p] = "idle"]
             /\ done' = [done EXCEPT ![p] = @ + 1]
             /\ last' = [last EXCEPT ![p] = [job |-> done[p] + 1, ok |-> TRUE]]

Reset(p) == /\ pc[p] = "idle"
            /\ done[p] = N
            /\ pc' = [pc EXCEPT ![p] = "busy"]
            /\ done' = [done EXCEPT ![p] = 0]
            /\ last' = [last EXCEPT ![p] = [job |-> 0, ok |-> TRUE]]

Next == \E p \in Procs : Start(p) \/ Finish(p) \/ Reset(p)

TypeOK == /\ pc \in [Procs -> {"idle", "busy"}]
          /\ done \in [Procs -> 0..N]
          /\ \A p \in Procs : last[p].job = done[p] /\ last[p].ok

Spec == Init /\ [][Next]_vars
====
