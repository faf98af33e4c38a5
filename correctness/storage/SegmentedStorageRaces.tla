----------------------- MODULE SegmentedStorageRaces -----------------------
(***************************************************************************)
(* SegmentedStorage with the claim transaction split at its statements and *)
(* prune split into its guard and its TRUNCATE, so that other transactions *)
(* can run in between.                                                     *)
(*                                                                         *)
(*  ClaimBegin(w)  : claim.sql up to its first write: take the claim       *)
(*                   ring's advisory lock SHARED, read ring_state's        *)
(*                   current claim slot (`claiming[w]`), lock the lane row *)
(*                   (FOR UPDATE SKIP LOCKED; `lane_lock`).                *)
(*  ClaimCommit(w) : INSERT the claim row into that slot, advance the      *)
(*                   cursor, COMMIT (releases both locks).                 *)
(*                                                                         *)
(* ringq's claim holds the ring lock from its read of the slot to its      *)
(* commit, and RotateClaim takes it EXCLUSIVE (rotate.sql), so a claim's   *)
(* slot cannot be sealed, let alone pruned, under it.                      *)
(* BugNaiveClaimCommit: the claim reads the slot without that lock and     *)
(* inserts later without re-checking it: rotation and prune can run in    *)
(* between and the claim row lands in a pruned slot (PruneSafety).         *)
(*                                                                         *)
(* The lane row lock: enqueue-like transactions (Enqueue, Promote, Rescue, *)
(* DlqRetry) and Cancel lock the lane row too (lock order step 3), so they *)
(* wait while a claim holds it.                                            *)
(*                                                                         *)
(* Prune of the claim ring evaluates its guard after its locks (slots row  *)
(* FOR UPDATE NOWAIT, partitions ACCESS EXCLUSIVE NOWAIT): one atomic step *)
(* PruneClaim(k). BugPruneCheckThenAct evaluates the guard first           *)
(* (PruneClaimCheck(k), remembered in `pruning`) and truncates later       *)
(* (PruneClaimLater) without re-checking. Another prune (a second          *)
(* maintenance node, or the next run) may prune the slot meanwhile, and    *)
(* rotation reopen it; the late TRUNCATE then destroys live claim rows.    *)
(*                                                                         *)
(* Crash points: claim.before_commit is RCrash(w) between ClaimBegin and   *)
(* ClaimCommit: the transaction rolls back (locks released, nothing        *)
(* written). A crash of the maintenance process between check and act is   *)
(* the act never happening. The rest is as in SegmentedStorage.            *)
(***************************************************************************)
EXTENDS SegmentedStorage, Integers

CONSTANTS BugNaiveClaimCommit, BugPruneCheckThenAct

VARIABLES
    lane_lock,   \* "none" or the worker whose claim holds the lane row lock
    claiming,    \* [Workers -> claim slot read by ClaimBegin, or -1]
    pruning      \* claim slot whose prune passed its (unlocked) check, or -1

rvars == <<vars, lane_lock, claiming, pruning>>

RInit ==
    /\ Init
    /\ lane_lock = "none"
    /\ claiming = [w \in Workers |-> -1]
    /\ pruning = -1

LaneFree == lane_lock = "none"

ClaimBegin(w) ==
    /\ LaneFree
    /\ claiming[w] = -1
    /\ held[w] = {} /\ post[w] = {}
    /\ lanes.claim_seq < lanes.next_seq
    /\ lane_lock' = w
    /\ claiming' = [claiming EXCEPT ![w] = ring_state.claim]
    /\ UNCHANGED <<vars, pruning>>

ReleaseClaim(w) ==
    /\ lane_lock' = "none"
    /\ claiming' = [claiming EXCEPT ![w] = -1]

ClaimCommit(w) ==
    /\ claiming[w] # -1
    /\ ClaimAt(w, claiming[w])
    /\ ReleaseClaim(w)
    /\ UNCHANGED pruning

\* RotateClaim waits for the claims holding the ring lock SHARED (unless they do not take it).
NoClaimInFlight == BugNaiveClaimCommit \/ \A w \in Workers : claiming[w] = -1

PruneClaimCheck(k) ==
    /\ BugPruneCheckThenAct
    /\ pruning = -1
    /\ slots.claim[k] = "sealed"
    /\ ~ClaimSlotLive(k)
    /\ pruning' = k
    /\ UNCHANGED <<vars, lane_lock, claiming>>

PruneClaimLater ==
    /\ pruning # -1
    /\ PruneClaimAct(pruning)
    /\ pruning' = -1
    /\ UNCHANGED <<lane_lock, claiming>>

RCrash(w) ==
    /\ held[w] # {} \/ post[w] # {} \/ claiming[w] # -1
    /\ held' = [held EXCEPT ![w] = {}]
    /\ post' = [post EXCEPT ![w] = {}]
    /\ claiming' = [claiming EXCEPT ![w] = -1]
    /\ lane_lock' = IF lane_lock = w THEN "none" ELSE lane_lock
    /\ UNCHANGED <<storage, enqueued, terminal, completed, tries, dlq_retries, pruned_live, pruning>>

Unlocked == UNCHANGED <<lane_lock, claiming, pruning>>

RNext ==
    \/ \E j \in Jobs : LaneFree /\ (Enqueue(j) \/ Cancel(j) \/ DlqRetry(j)) /\ Unlocked
    \/ \E w \in Workers :
          \/ ClaimBegin(w) \/ ClaimCommit(w) \/ RCrash(w)
          \/ (Complete(w) \/ Fail(w) \/ Heartbeat(w) \/ AdvanceCursor(w) \/ WriteResult(w)) /\ Unlocked
    \/ (Tick \/ RotateQueue \/ \E k \in QSlotIds : PruneQueue(k)) /\ Unlocked
    \/ NoClaimInFlight /\ RotateClaim /\ Unlocked
    \/ LaneFree /\ (Rescue \/ Promote) /\ Unlocked
    \/ (\E k \in CSlotIds : PruneClaim(k)) /\ Unlocked
    \/ \E k \in CSlotIds : PruneClaimCheck(k)
    \/ PruneClaimLater

RSpec == RInit /\ [][RNext]_rvars

RTypeOK ==
    /\ TypeOK
    /\ lane_lock \in Workers \cup {"none"}
    /\ DOMAIN claiming = Workers
    /\ \A w \in Workers : claiming[w] \in CSlotIds \cup {-1}
    /\ pruning \in CSlotIds \cup {-1}
=============================================================================
