--------------------------- MODULE SkipLockedQueue ---------------------------
(***************************************************************************)
(* A classic Postgres job queue: one `jobs` table; a worker claims the     *)
(* oldest claimable row with FOR UPDATE SKIP LOCKED and sets a visibility  *)
(* timeout (`locked_until`) and a fresh lease token; a row whose timeout   *)
(* passed is claimable again (the job is "rescued" by the next claim);     *)
(* completion DELETEs the row. queue.sql is the implementation.            *)
(*                                                                         *)
(* MODELLED: enqueue, claim (oldest first), the timeout passing (Expire),  *)
(* completion, a worker crash after commit (it forgets what it holds).     *)
(* A transaction killed before COMMIT is a stutter. LEFT OUT: payloads,    *)
(* failures/retries, more than one queue, the clock (Expire(j) passes one  *)
(* job's timeout, in any order). Bound: at most MaxClaims claims in all   *)
(* (each claim takes a fresh lease token).                                 *)
(*                                                                         *)
(* BugNoOwnerCheck: completion deletes the running row without checking    *)
(* that the completing worker holds its current lease: a worker whose job *)
(* timed out and was re-claimed completes it under the new owner          *)
(* (CompletedByOwner is violated).                                         *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS Jobs, Workers, MaxClaims, BugNoOwnerCheck

VARIABLES
    status,      \* [Jobs -> {"absent", "queued", "running", "deleted"}]
    lease,       \* [Jobs -> Nat]: the row's current lease token (0: never claimed)
    seq,         \* [Jobs -> Nat]: insertion order (the id), 0 before enqueue
    expired,     \* running jobs whose visibility timeout passed
    held,        \* [Workers -> SUBSET (Jobs \X Nat)]: what each worker believes it holds
    nextLease,
    nextSeq,
    stale        \* ghost: completions by a worker that was not the current owner

vars == <<status, lease, seq, expired, held, nextLease, nextSeq, stale>>

Init ==
    /\ status = [j \in Jobs |-> "absent"]
    /\ lease = [j \in Jobs |-> 0]
    /\ seq = [j \in Jobs |-> 0]
    /\ expired = {}
    /\ held = [w \in Workers |-> {}]
    /\ nextLease = 1
    /\ nextSeq = 1
    /\ stale = 0

Enqueue(j) ==
    /\ status[j] = "absent"
    /\ status' = [status EXCEPT ![j] = "queued"]
    /\ seq' = [seq EXCEPT ![j] = nextSeq]
    /\ nextSeq' = nextSeq + 1
    /\ UNCHANGED <<lease, expired, held, nextLease, stale>>

Claimable(j) == status[j] = "queued" \/ (status[j] = "running" /\ j \in expired)

\* ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED: the oldest claimable row
Claim(w) ==
    /\ held[w] = {}
    /\ nextLease <= MaxClaims
    /\ \E j \in Jobs :
        /\ Claimable(j)
        /\ \A k \in Jobs : Claimable(k) => seq[j] <= seq[k]
        /\ status' = [status EXCEPT ![j] = "running"]
        /\ lease' = [lease EXCEPT ![j] = nextLease]
        /\ expired' = expired \ {j}
        /\ held' = [held EXCEPT ![w] = {<<j, nextLease>>}]
        /\ nextLease' = nextLease + 1
    /\ UNCHANGED <<seq, nextSeq, stale>>

Expire(j) ==
    /\ status[j] = "running"
    /\ j \notin expired
    /\ expired' = expired \cup {j}
    /\ UNCHANGED <<status, lease, seq, held, nextLease, nextSeq, stale>>

\* DELETE ... WHERE id = j AND lease = l (BugNoOwnerCheck: AND lease = l is missing);
\* no row deleted: the worker is told its lease was lost and drops the job.
Complete(w) ==
    \E a \in held[w] :
        /\ held' = [held EXCEPT ![w] = {}]
        /\ IF status[a[1]] = "running" /\ (lease[a[1]] = a[2] \/ BugNoOwnerCheck)
           THEN /\ status' = [status EXCEPT ![a[1]] = "deleted"]
                /\ expired' = expired \ {a[1]}
                /\ stale' = stale + (IF lease[a[1]] = a[2] THEN 0 ELSE 1)
                /\ UNCHANGED <<lease, seq, nextLease, nextSeq>>
           ELSE UNCHANGED <<status, lease, seq, expired, nextLease, nextSeq, stale>>

Crash(w) ==
    /\ held[w] # {}
    /\ held' = [held EXCEPT ![w] = {}]
    /\ UNCHANGED <<status, lease, seq, expired, nextLease, nextSeq, stale>>

Next ==
    \/ \E j \in Jobs : Enqueue(j) \/ Expire(j)
    \/ \E w \in Workers : Claim(w) \/ Complete(w) \/ Crash(w)

Spec == Init /\ [][Next]_vars

TypeOK ==
    /\ status \in [Jobs -> {"absent", "queued", "running", "deleted"}]
    /\ expired \subseteq Jobs
    /\ \A w \in Workers : Cardinality(held[w]) <= 1

\* every completion was made by the worker holding the job's current lease
CompletedByOwner == stale = 0
=============================================================================
