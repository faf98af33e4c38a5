------------------------- MODULE DeferredMaterialize -------------------------
(***************************************************************************)
(* The design ringq did NOT build, modelled to show what it would cost.    *)
(* See spec/adr/0010-deferred-materialisation.md.                          *)
(*                                                                         *)
(* In ringq, `complete` writes the closure row (claim slot) and the        *)
(* terminal `done` row (queue slot of the job's ready row) in ONE          *)
(* transaction.  The alternative modelled here makes completion cheaper:   *)
(* `complete` appends only the closure, and a background materialiser      *)
(* later copies it into a `done` row.  Readers answer "what happened to    *)
(* job j?" from the union of `done` and not-yet-materialised closures.     *)
(*                                                                         *)
(* The question the spec answers: what must prune respect so that the      *)
(* closure -- for a while the ONLY terminal evidence of a job -- is never  *)
(* dropped before it has been copied?  Answer: both prune guards must also *)
(* wait for un-materialised closures (claim slot: its source; queue slot:  *)
(* its target).  With IgnoreUnmaterialised = TRUE prune uses ringq's       *)
(* ordinary guards only, and ClosureSourceNotPruned fails.                  *)
(*                                                                         *)
(* Actions and the transaction each stands for (spec/MAPPING.md names):    *)
(*   Enqueue(j)      enqueue      ready row in the current queue slot      *)
(*   Claim(j)        claim        lane cursor passes j; claim row appended *)
(*                                to the current claim slot               *)
(*   Complete(j)     complete     closure row only (the deferred design)   *)
(*   Materialise(j)  (new) background materialiser: done row written into  *)
(*                                the job's queue slot, watermark advanced *)
(*   RotateQueue,    rotate       seal the current slot, open the next one *)
(*   RotateClaim                  (only once it has been pruned)           *)
(*   PruneQueue(k),  prune        TRUNCATE a sealed slot when its guard    *)
(*   PruneClaim(c)                holds (evaluated under the lock)         *)
(*                                                                         *)
(* Deliberately left out, and why:                                         *)
(*   - fail / retry / rescue / cancel / DLQ: each closes an attempt the    *)
(*     same way `complete` does; one closer shows the materialisation      *)
(*     hazard, more would only multiply states.                            *)
(*   - leases, heartbeats, time: irrelevant to where terminal evidence     *)
(*     lives.                                                              *)
(*   - run leases: one attempt per job suffices (no retries modelled), so  *)
(*     attempt identity is the job.                                        *)
(*   - lanes and claim order: the lane cursor is reduced to a per-job      *)
(*     "cursor passed" flag; ClaimOrder is SegmentedStorage's concern.     *)
(*   - slot generations: a pruned slot is empty and reusable; every        *)
(*     action here is atomic (one committed transaction), so the in-flight *)
(*     races of SegmentedStorageRaces do not arise.                        *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    Jobs,                 \* job ids (model values)
    QueueSlots,           \* length of the queue ring (>= 2)
    ClaimSlots,           \* length of the claim ring (>= 2)
    IgnoreUnmaterialised  \* BROKEN switch: prune ignores un-materialised closures

ASSUME QueueSlots >= 2 /\ ClaimSlots >= 2 /\ IgnoreUnmaterialised \in BOOLEAN

NoSlot == -1
QSlots == 0 .. (QueueSlots - 1)
CSlots == 0 .. (ClaimSlots - 1)
SlotStates == {"open", "sealed", "pruned"}

VARIABLES
    qcur, ccur,       \* ring_state.current_slot of the queue and claim rings
    qstate, cstate,   \* slots.state per ring
    readyRow,         \* readyRow[j]: queue slot holding j's ready row, or NoSlot
    cursorPassed,     \* cursorPassed[j]: the lane cursor has passed j's ready row
    homeSlot,         \* homeSlot[j]: claims.ready_slot -- where j's done row belongs
    claimRow,         \* claimRow[j]: claim slot holding j's claim row, or NoSlot
    closureRow,       \* closureRow[j]: claim slot holding j's closure row, or NoSlot
    doneRow,          \* doneRow[j]: queue slot holding j's done row, or NoSlot
    materialised,     \* the materialiser's durable watermark: closures already copied
    truth,            \* ghost: what really happened to j
    retired           \* ghost: jobs whose done row was pruned (retention expired)

vars == <<qcur, ccur, qstate, cstate, readyRow, cursorPassed, homeSlot, claimRow,
          closureRow, doneRow, materialised, truth, retired>>

TypeOK ==
    /\ qcur \in QSlots /\ ccur \in CSlots
    /\ qstate \in [QSlots -> SlotStates] /\ cstate \in [CSlots -> SlotStates]
    /\ readyRow \in [Jobs -> QSlots \cup {NoSlot}]
    /\ cursorPassed \in [Jobs -> BOOLEAN]
    /\ homeSlot \in [Jobs -> QSlots \cup {NoSlot}]
    /\ claimRow \in [Jobs -> CSlots \cup {NoSlot}]
    /\ closureRow \in [Jobs -> CSlots \cup {NoSlot}]
    /\ doneRow \in [Jobs -> QSlots \cup {NoSlot}]
    /\ materialised \subseteq Jobs
    /\ truth \in [Jobs -> {"none", "queued", "running", "completed"}]
    /\ retired \subseteq Jobs

Init ==
    /\ qcur = 0 /\ ccur = 0
    /\ qstate = [k \in QSlots |-> IF k = 0 THEN "open" ELSE "pruned"]
    /\ cstate = [c \in CSlots |-> IF c = 0 THEN "open" ELSE "pruned"]
    /\ readyRow = [j \in Jobs |-> NoSlot]
    /\ cursorPassed = [j \in Jobs |-> FALSE]
    /\ homeSlot = [j \in Jobs |-> NoSlot]
    /\ claimRow = [j \in Jobs |-> NoSlot]
    /\ closureRow = [j \in Jobs |-> NoSlot]
    /\ doneRow = [j \in Jobs |-> NoSlot]
    /\ materialised = {}
    /\ truth = [j \in Jobs |-> "none"]
    /\ retired = {}

-----------------------------------------------------------------------------
(* Row-level predicates, as SQL would evaluate them. *)
Unclaimed(j)      == readyRow[j] # NoSlot /\ ~cursorPassed[j]
OpenAttempt(j)    == claimRow[j] # NoSlot /\ closureRow[j] = NoSlot
Unmaterialised(j) == closureRow[j] # NoSlot /\ j \notin materialised

Enqueue(j) ==
    /\ truth[j] = "none"
    /\ readyRow' = [readyRow EXCEPT ![j] = qcur]
    /\ homeSlot' = [homeSlot EXCEPT ![j] = qcur]
    /\ truth' = [truth EXCEPT ![j] = "queued"]
    /\ UNCHANGED <<qcur, ccur, qstate, cstate, cursorPassed, claimRow, closureRow,
                   doneRow, materialised, retired>>

Claim(j) ==
    /\ Unclaimed(j)
    /\ cursorPassed' = [cursorPassed EXCEPT ![j] = TRUE]
    /\ claimRow' = [claimRow EXCEPT ![j] = ccur]
    /\ truth' = [truth EXCEPT ![j] = "running"]
    /\ UNCHANGED <<qcur, ccur, qstate, cstate, readyRow, homeSlot, closureRow,
                   doneRow, materialised, retired>>

\* The deferred design: the closure is the only row written.
Complete(j) ==
    /\ OpenAttempt(j)
    /\ closureRow' = [closureRow EXCEPT ![j] = claimRow[j]]
    /\ truth' = [truth EXCEPT ![j] = "completed"]
    /\ UNCHANGED <<qcur, ccur, qstate, cstate, readyRow, cursorPassed, homeSlot,
                   claimRow, doneRow, materialised, retired>>

\* Background materialiser: copies one closure into the job's queue slot.
\* Nothing stops it writing into a slot prune has already emptied -- as in SQL,
\* where an INSERT into a truncated partition simply succeeds.
Materialise(j) ==
    /\ Unmaterialised(j)
    /\ doneRow' = [doneRow EXCEPT ![j] = homeSlot[j]]
    /\ materialised' = materialised \cup {j}
    /\ UNCHANGED <<qcur, ccur, qstate, cstate, readyRow, cursorPassed, homeSlot,
                   claimRow, closureRow, truth, retired>>

RotateQueue ==
    LET next == (qcur + 1) % QueueSlots IN
    /\ qstate[next] = "pruned"
    /\ qstate' = [qstate EXCEPT ![qcur] = "sealed", ![next] = "open"]
    /\ qcur' = next
    /\ UNCHANGED <<ccur, cstate, readyRow, cursorPassed, homeSlot, claimRow,
                   closureRow, doneRow, materialised, truth, retired>>

RotateClaim ==
    LET next == (ccur + 1) % ClaimSlots IN
    /\ cstate[next] = "pruned"
    /\ cstate' = [cstate EXCEPT ![ccur] = "sealed", ![next] = "open"]
    /\ ccur' = next
    /\ UNCHANGED <<qcur, qstate, readyRow, cursorPassed, homeSlot, claimRow,
                   closureRow, doneRow, materialised, truth, retired>>

\* ringq's queue-slot guard (MAPPING.md "Prune guards"), plus -- unless broken --
\* "no un-materialised closure will write its done row here".
PruneQueueGuard(k) ==
    /\ \A j \in Jobs : readyRow[j] = k => cursorPassed[j]
    /\ \A j \in Jobs : OpenAttempt(j) => homeSlot[j] # k
    /\ IgnoreUnmaterialised \/ \A j \in Jobs : Unmaterialised(j) => homeSlot[j] # k

PruneQueue(k) ==
    /\ qstate[k] = "sealed"
    /\ PruneQueueGuard(k)
    /\ qstate' = [qstate EXCEPT ![k] = "pruned"]
    /\ readyRow' = [j \in Jobs |-> IF readyRow[j] = k THEN NoSlot ELSE readyRow[j]]
    /\ doneRow' = [j \in Jobs |-> IF doneRow[j] = k THEN NoSlot ELSE doneRow[j]]
    /\ retired' = retired \cup {j \in Jobs : doneRow[j] = k}
    /\ UNCHANGED <<qcur, ccur, cstate, cursorPassed, homeSlot, claimRow, closureRow,
                   materialised, truth>>

\* ringq's claim-slot guard, plus -- unless broken -- "no closure here is still
\* the only terminal evidence of its job".
PruneClaimGuard(c) ==
    /\ \A j \in Jobs : OpenAttempt(j) => claimRow[j] # c
    /\ IgnoreUnmaterialised \/ \A j \in Jobs : Unmaterialised(j) => closureRow[j] # c

PruneClaim(c) ==
    /\ cstate[c] = "sealed"
    /\ PruneClaimGuard(c)
    /\ cstate' = [cstate EXCEPT ![c] = "pruned"]
    /\ claimRow' = [j \in Jobs |-> IF claimRow[j] = c THEN NoSlot ELSE claimRow[j]]
    /\ closureRow' = [j \in Jobs |-> IF closureRow[j] = c THEN NoSlot ELSE closureRow[j]]
    /\ UNCHANGED <<qcur, ccur, qstate, readyRow, cursorPassed, homeSlot, doneRow,
                   materialised, truth, retired>>

Next ==
    \/ \E j \in Jobs : Enqueue(j) \/ Claim(j) \/ Complete(j) \/ Materialise(j)
    \/ RotateQueue \/ RotateClaim
    \/ \E k \in QSlots : PruneQueue(k)
    \/ \E c \in CSlots : PruneClaim(c)

Fairness ==
    /\ \A j \in Jobs : WF_vars(Materialise(j))
    /\ \A k \in QSlots : WF_vars(PruneQueue(k))
    /\ \A c \in CSlots : WF_vars(PruneClaim(c))

Spec == Init /\ [][Next]_vars /\ Fairness

-----------------------------------------------------------------------------
(* What a status reader sees: the union of done rows and closures. *)
Reader(j) ==
    IF doneRow[j] # NoSlot \/ closureRow[j] # NoSlot THEN "completed"
    ELSE IF claimRow[j] # NoSlot THEN "running"
    ELSE IF Unclaimed(j) THEN "queued"
    ELSE "gone"

\* The closure of a completed job survives at least until it has been copied.
ClosureSourceNotPruned ==
    \A j \in Jobs : (truth[j] = "completed" /\ j \notin materialised) => closureRow[j] # NoSlot

\* The union reader tells the truth; once retention has expired (the done row
\* was pruned) it may say "completed" (closure still there) or "gone".
ReaderProjectionConsistent ==
    \A j \in Jobs :
        truth[j] # "none" =>
            \/ Reader(j) = truth[j]
            \/ j \in retired /\ Reader(j) \in {"completed", "gone"}

\* Every enqueued job is in exactly one live place -- unclaimed, running, or
\* terminal (done row or closure) -- unless retention has expired.
InPlace(j, p) ==
    CASE p = "queued"   -> Unclaimed(j)
      [] p = "running"  -> OpenAttempt(j)
      [] p = "terminal" -> doneRow[j] # NoSlot \/ closureRow[j] # NoSlot

NoLostJob ==
    \A j \in Jobs :
        truth[j] # "none" =>
            \/ j \in retired
            \/ Cardinality({p \in {"queued", "running", "terminal"} : InPlace(j, p)}) = 1

\* A done row is never written into a slot that prune has emptied (its rows
\* would outlive or undercut the slot's retention).
TerminalRowInLiveSlot ==
    \A j \in Jobs : doneRow[j] # NoSlot => qstate[doneRow[j]] # "pruned"

EventuallyMaterialised ==
    \A j \in Jobs : (truth[j] = "completed") ~> (j \in materialised)
=============================================================================
