------------------------------ MODULE LockOrder ------------------------------
(***************************************************************************)
(* Can ringq's transactions deadlock one another?                          *)
(*                                                                         *)
(* Every ringq transaction (spec/MAPPING.md names: enqueue, claim,         *)
(* complete, fail, heartbeat, rescue, cancel, promote, rotate, prune,      *)
(* dlq_retry) is written down as the ordered sequence of lock acquisitions *)
(* its SQL in src/ringq/sql/<name>.sql performs, statement by statement:   *)
(* advisory locks, row locks (FOR UPDATE / FOR NO KEY UPDATE / ...), table *)
(* locks on the slot partitions (ACCESS SHARE for reads, ROW EXCLUSIVE for *)
(* inserts, ACCESS EXCLUSIVE for prune), and unique-index insertions (an   *)
(* uncommitted key makes a second inserter of that key wait -- the         *)
(* "exactly one closer wins" fencing point). Where a transaction can take  *)
(* different paths (cancel of a deferred / queued / running job, fail into *)
(* retry / backoff / DLQ, batches) each path is a Variant. The caller's    *)
(* enqueue transaction (Queue.enqueue(..., conn=conn): enqueue.sql         *)
(* statements with p_staged, which stage their jobs, then the commit-time  *)
(* trigger enqueue_commit.sql, which sequences them) is a path of enqueue: *)
(* the enqueue_staged_... variants: one transaction enqueuing into       *)
(* several queues across separate statements in any order.               *)
(*                                                                         *)
(* Transactions then interleave one lock acquisition at a time, with       *)
(* Postgres's conflict tables for the modes used (Postgres docs 13.3, Table *)
(* 13.2 and 13.3).  A request that conflicts with another transaction's    *)
(* lock waits (how = "wait"), fails and aborts the transaction ("nowait",   *)
(* NOWAIT), is passed over ("skip", SKIP LOCKED), or waits but may give up *)
(* at any moment ("timeout", lock_timeout).  Locks are held to commit.     *)
(*                                                                         *)
(* Checks                                                                  *)
(*   NoDeadlock        no cycle in the waits-for graph of the transactions *)
(*                     in flight (at most MaxInFlight at a time).          *)
(*   LockCompatibility no two transactions hold conflicting locks on one   *)
(*                     resource (the grant rule is what it claims to be).  *)
(*   LockGraphAcyclic  static and unbounded: the static waits-for graph    *)
(*                     has no cycle. Its nodes are (plan, a request of it  *)
(*                     that may wait) with the locks the plan holds there; *)
(*                     x -> y when x's request conflicts with a lock y     *)
(*                     holds and the two can be there at once (compatible  *)
(*                     held locks). A deadlock among ANY number of         *)
(*                     concurrent transactions is a cycle of this graph,   *)
(*                     so this covers what the bounded MaxInFlight         *)
(*                     exploration cannot.                                 *)
(*   GlobalLockOrder   (not listed in any cfg): the coarser resource graph *)
(*                     (h -> r when some plan waits for r holding h) is    *)
(*                     acyclic, i.e. the plans agree with one global       *)
(*                     order. It held until issue 12; the commit of a      *)
(*                     caller's transaction that enqueued with a dedup key *)
(*                     breaks it (see enqueue_staged_dedup) without a      *)
(*                     deadlock.                                           *)
(*                                                                         *)
(* Switches                                                                *)
(*   ReversedEnqueue      DEMO: the second enqueue locks its lanes in      *)
(*                        descending lane_id order (a batch enqueue that   *)
(*                        forgot ORDER BY lane_id): NoDeadlock must fail.  *)
(*   SeqAtStatement       TRUE is the design before issue 12 (ADR 0001):   *)
(*                        each enqueue statement of a caller's transaction *)
(*                        takes the queue ring SHARED and its lane FOR     *)
(*                        UPDATE, held until the caller ends, so two       *)
(*                        callers enqueuing into two queues in opposite    *)
(*                        statement orders deadlock (regression witness    *)
(*                        LockOrderSeqAtStatement). FALSE is the SQL as    *)
(*                        built: the statements stage, the commit locks    *)
(*                        the lanes sorted.                                *)
(*   LaneCreationOrdered  TRUE is the SQL as built: enqueue, promote and   *)
(*                        dlq_retry create missing lanes in (queue,        *)
(*                        priority) order (_ensure_lanes).  FALSE is the   *)
(*                        earlier SQL, which created them in an            *)
(*                        unspecified order and could deadlock: kept as a  *)
(*                        regression witness (LockOrderLanesUnordered).    *)
(*                                                                         *)
(* The model's world: slot 0 of each ring (the slot prune targets and the  *)
(* hot path writes); job J with attempt A in lane 1, job K with attempt B  *)
(* in lane 2 (batches touch both); lanes 3 and 4 do not exist yet and are  *)
(* created by whoever first enqueues into them.                            *)
(*                                                                         *)
(* Deliberately left out, and why                                          *)
(*   - table locks on the unpartitioned tables (lanes, ring_state, slots,  *)
(*     cancels, deferred, dlq, dedup) and on the partitioned parents: every *)
(*     transaction takes them in ACCESS SHARE / ROW SHARE / ROW EXCLUSIVE, *)
(*     which never conflict with each other, so they cannot wait.          *)
(*   - partitions of other slots: reads of a parent lock every partition,  *)
(*     but only prune ever takes a conflicting mode, and prune is modelled *)
(*     on slot 0; another slot would repeat the same pattern.              *)
(*   - plain reads of rows (MVCC: no row lock), sequences (no waits).      *)
(*   - steps no other plan can conflict with are dropped from the dynamic  *)
(*     exploration (Live): they cannot wait or be waited for.              *)
(*   - a DELETE does not really wait for an uncommitted INSERT of the same *)
(*     key (it cannot see it); the model says it does.  Both at once would *)
(*     mean one job has two deferred/dlq/cancel rows, which the primary    *)
(*     keys exclude, so the symmetric conflict removes no real behaviour.  *)
(*   - sessions composing several ringq calls in one transaction: only the *)
(*     caller's enqueue transaction (enqueue.sql with p_staged: its        *)
(*     statements, then its COMMIT; variants enqueue_staged_...) is        *)
(*     modelled; the caller's own locks are the caller's order. Dedup keys *)
(*     are locked in hash order within ONE statement only: two caller      *)
(*     transactions that enqueue the same two dedup keys in opposite       *)
(*     statement orders wait on each other's key (Postgres aborts one):    *)
(*     one key per caller transaction here. Likewise a caller who runs SET *)
(*     CONSTRAINTS ... IMMEDIATE sequences (and locks the lanes of) what   *)
(*     it staged so far at that point and holds them to its end: lanes of  *)
(*     later statements are then locked in statement order.                *)
(*   - the order of waiters in a lock's queue (a waiting ACCESS EXCLUSIVE  *)
(*     request blocks later ACCESS SHARE requests): the grant rule here    *)
(*     ignores it. Until issue 12 every transaction took the ring lock     *)
(*     first, holding nothing, so a waiter queued behind rotate could not  *)
(*     close a cycle. The commit of a caller's transaction that enqueued   *)
(*     with a dedup key requests the queue ring SHARED while holding that  *)
(*     key: if rotate waits for the ring lock behind a plain enqueue of    *)
(*     the same key, which waits for the caller's key, the caller queues   *)
(*     behind rotate. Postgres resolves such a soft cycle by reordering    *)
(*     the wait queue at deadlock_timeout (no abort), or rotate's          *)
(*     lock_timeout ends it first: a bounded stall of that commit, not a   *)
(*     deadlock.                                                           *)
(*   - the session-level leader lock (leader.py) is held outside every     *)
(*     transaction and only tried (pg_try_advisory_lock): it never waits.   *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Txns,                 \* which transactions take part (subset of TxnNames)
    MaxInFlight,          \* how many transactions may be in flight at once
    ReversedEnqueue,      \* DEMO switch: the second enqueue locks its lanes in reverse order
    SeqAtStatement,       \* OLD design switch: a caller's enqueue statements lock their lanes
    LaneCreationOrdered   \* FIX switch: missing lanes are created in (queue, priority) order

TxnNames == {"enqueue", "claim", "complete", "fail", "heartbeat", "rescue", "cancel",
             "promote", "rotate", "prune", "dlq_retry"}

ASSUME Txns \subseteq TxnNames /\ MaxInFlight \in Nat /\ MaxInFlight >= 1
ASSUME ReversedEnqueue \in BOOLEAN /\ SeqAtStatement \in BOOLEAN /\ LaneCreationOrdered \in BOOLEAN

-----------------------------------------------------------------------------
(* Lock modes and Postgres's conflict tables, restricted to the modes used. *)

TableModes == {"AccessShare", "RowShare", "RowExclusive", "AccessExclusive"}
RowModes == {"ForKeyShare", "ForShare", "ForNoKeyUpdate", "ForUpdate"}
AdvisoryModes == {"AdvisoryShared", "AdvisoryExclusive"}
\* An inserted, uncommitted unique key: a second inserter of the same key (or a
\* deleter of the same row) waits for the inserting transaction to end.
KeyModes == {"UniqueInsert"}

\* Unordered conflicting pairs (Postgres docs, Tables 13.2 and 13.3).
ConflictPairs ==
    {  \* tables: ACCESS EXCLUSIVE conflicts with every mode; ROW SHARE and
       \* ROW EXCLUSIVE only with stronger modes than the ones used here.
       {"AccessExclusive", m} : m \in TableModes }
    \cup {  \* rows
       {"ForUpdate", m} : m \in RowModes }
    \cup { {"ForNoKeyUpdate", "ForShare"}, {"ForNoKeyUpdate", "ForNoKeyUpdate"} }
    \cup {  \* advisory: exclusive conflicts with both, shared with exclusive only
       {"AdvisoryExclusive", m} : m \in AdvisoryModes }
    \cup {  \* unique keys: a second insert, or a delete of the same row
       {"UniqueInsert"}, {"UniqueInsert", "ForUpdate"}, {"UniqueInsert", "ForNoKeyUpdate"} }

Conflicts(m1, m2) == {m1, m2} \in ConflictPairs

-----------------------------------------------------------------------------
(* Plan steps.  how: "wait" | "nowait" | "skip" | "timeout".  hold = FALSE for *)
(* an ON CONFLICT DO NOTHING that loses: it waits for the winner, keeps nothing. *)

Step(r, m, how) == [res |-> r, mode |-> m, how |-> how, hold |-> TRUE]
W(r, m) == Step(r, m, "wait")
NW(r, m) == Step(r, m, "nowait")
SK(r, m) == Step(r, m, "skip")
TO(r, m) == Step(r, m, "timeout")
LoseKey(r) == [res |-> r, mode |-> "UniqueInsert", how |-> "wait", hold |-> FALSE]

\* Reusable fragments.
QueueRingShared == W("adv:queue_ring", "AdvisoryShared")
\* _settle (common.sql) for attempt `key` of job `job`, after the caller locked the lanes:
\* read the claim and ready rows, insert the closure (fencing point), then one outcome.
SettleHead(key) == << W("ready_0", "AccessShare"), W("closures_0", "RowExclusive"),
                      W(key, "UniqueInsert") >>
SettleRetryNow == << W("ready_0", "RowExclusive") >>                 \* _append_ready
SettleBackoff == << W("deferred[J]", "UniqueInsert") >>
SettleDlq == << W("done_0", "RowExclusive"), W("dlq[J]", "UniqueInsert") >>
\* Missing lanes 3 and 4 created (INSERT ... ON CONFLICT DO NOTHING) in one order or
\* the other, then locked in lane_id order.
Create34 == << W("lanes_key[3]", "UniqueInsert"), W("lanes_key[4]", "UniqueInsert") >>
Create43 == << W("lanes_key[4]", "UniqueInsert"), W("lanes_key[3]", "UniqueInsert") >>
LockNewLanes == << W("lanes[3]", "ForUpdate"), W("lanes[4]", "ForUpdate") >>
\* The caller's transaction (Queue.enqueue(..., conn=conn)): one enqueue statement (enqueue.sql with p_staged)
\* into the queue of lane n inserts into the unlogged `staged` table only -- rows of its own,
\* invisible to every other transaction: no ring lock, no lane lock.
StagedInsert(n) == W("staged", "RowExclusive")
\* Its COMMIT runs the deferred trigger (enqueue_commit.sql): queue ring SHARED; lanes via
\* _lock_lanes (missing ones created in (queue, priority) order, then FOR UPDATE in lane_id
\* order); DELETE its own staged rows; INSERT the ready rows (_append_ready_rows). pg_notify
\* last: its cluster-wide lock is taken after the deferred triggers, holding it nothing
\* waits, as for every other plan that notifies (not modelled).
CommitLanes(lanes) == << QueueRingShared >> \o lanes
                      \o << W("staged", "RowExclusive"), W("ready_0", "RowExclusive") >>

\* Variant name -> ordered lock acquisitions.  Comments name the statement.
Plans == [
  \* enqueue.sql: adv queue ring shared; lanes FOR UPDATE ORDER BY lane_id; the
  \* WITH ... UPDATE lanes / INSERT ready (lane rows already held).
  enqueue_batch |->
    << QueueRingShared, W("lanes[1]", "ForUpdate"), W("lanes[2]", "ForUpdate"),
       W("ready_0", "RowExclusive") >>,
  enqueue_batch_reversed |->   \* DEMO ONLY: not what enqueue.sql does
    << QueueRingShared, W("lanes[2]", "ForUpdate"), W("lanes[1]", "ForUpdate"),
       W("ready_0", "RowExclusive") >>,
  \* with dedup keys: per-key advisory locks in hash order, _job_live reads,
  \* lane lock, ready insert, dedup upsert.
  enqueue_dedup |->
    << QueueRingShared, W("adv:dedup[k]", "AdvisoryExclusive"),
       W("ready_0", "AccessShare"), W("claims_0", "AccessShare"), W("closures_0", "AccessShare"),
       W("lanes[1]", "ForUpdate"), W("ready_0", "RowExclusive"), W("dedup[k]", "UniqueInsert") >>,
  enqueue_new_lanes_34 |->
    << QueueRingShared >> \o Create34 \o LockNewLanes \o << W("ready_0", "RowExclusive") >>,
  enqueue_new_lanes_43 |->
    << QueueRingShared >> \o Create43 \o LockNewLanes \o << W("ready_0", "RowExclusive") >>,
  \* The caller's transaction enqueuing into two queues (lanes 1 and 2) in separate statements,
  \* in either order: the statements lock nothing, the commit locks the lanes sorted.
  enqueue_staged_12 |->
    << StagedInsert(1), StagedInsert(2) >>
      \o CommitLanes(<< W("lanes[1]", "ForUpdate"), W("lanes[2]", "ForUpdate") >>),
  enqueue_staged_21 |->
    << StagedInsert(2), StagedInsert(1) >>
      \o CommitLanes(<< W("lanes[1]", "ForUpdate"), W("lanes[2]", "ForUpdate") >>),
  \* ... with a dedup key: the statement takes the key's advisory lock (held to the end of
  \* the transaction, so a second enqueue of the key waits for the caller), reads whether a
  \* live job holds the key (_job_live), inserts the staged row and upserts the dedup row.
  enqueue_staged_dedup |->
    << W("adv:dedup[k]", "AdvisoryExclusive"), W("ready_0", "AccessShare"),
       W("claims_0", "AccessShare"), W("closures_0", "AccessShare"), StagedInsert(1),
       W("dedup[k]", "UniqueInsert") >>
      \o CommitLanes(<< W("lanes[1]", "ForUpdate") >>),
  \* ... into two queues whose lanes do not exist yet (statements for lane 4, then lane 3):
  \* the commit creates them (in order, or unordered in the old _lane) and locks them.
  enqueue_staged_new_lanes_34 |->
    << StagedInsert(4), StagedInsert(3) >> \o CommitLanes(Create34 \o LockNewLanes),
  enqueue_staged_new_lanes_43 |->
    << StagedInsert(4), StagedInsert(3) >> \o CommitLanes(Create43 \o LockNewLanes),
  \* SeqAtStatement only (ADR 0001, before issue 12): each statement of the caller's
  \* transaction ran enqueue.sql in full -- ring shared, its lane, ready insert -- and kept
  \* the lane until the caller's COMMIT, so lanes were locked in statement order.
  enqueue_at_statement_12 |->
    << QueueRingShared, W("lanes[1]", "ForUpdate"), W("ready_0", "RowExclusive"),
       QueueRingShared, W("lanes[2]", "ForUpdate"), W("ready_0", "RowExclusive") >>,
  enqueue_at_statement_21 |->
    << QueueRingShared, W("lanes[2]", "ForUpdate"), W("ready_0", "RowExclusive"),
       QueueRingShared, W("lanes[1]", "ForUpdate"), W("ready_0", "RowExclusive") >>,
  \* claim.sql: adv claim ring shared; FOR lane IN ... FOR UPDATE SKIP LOCKED (a cursor:
  \* each lane row is locked when fetched, the loop body runs in between).
  claim_lanes |->
    << W("adv:claim_ring", "AdvisoryShared"), SK("lanes[1]", "ForUpdate"),
       W("ready_0", "AccessShare"), W("claims_0", "RowExclusive"), SK("lanes[2]", "ForUpdate") >>,
  \* claim.sql, busy lane: every lane with work was skipped and none is held, so it waits for
  \* the most urgent one under a 50 ms lock_timeout (gives up: returns empty).
  claim_busy_lane |->
    << W("adv:claim_ring", "AdvisoryShared"), TO("lanes[1]", "ForUpdate"),
       W("ready_0", "AccessShare"), W("claims_0", "RowExclusive") >>,
  \* complete.sql: one statement: claims read, closures inserted in run_lease order,
  \* then the done rows (the `fin` CTE runs after `won` has been read to the end).
  complete_one |->
    << W("claims_0", "AccessShare"), W("closures_0", "RowExclusive"),
       W("closures_key[A]", "UniqueInsert"), W("done_0", "RowExclusive") >>,
  complete_batch |->
    << W("claims_0", "AccessShare"), W("closures_0", "RowExclusive"),
       W("closures_key[A]", "UniqueInsert"), W("closures_key[B]", "UniqueInsert"),
       W("done_0", "RowExclusive") >>,
  \* fail.sql: adv queue ring shared; PERFORM lanes FOR UPDATE (lane_ids from claims)
  \* ORDER BY lane_id; then _settle per item in run_lease order.
  fail_retry |->
    << QueueRingShared, W("claims_0", "AccessShare"), W("lanes[1]", "ForUpdate") >>
      \o SettleHead("closures_key[A]") \o SettleRetryNow,
  fail_backoff |->
    << QueueRingShared, W("claims_0", "AccessShare"), W("lanes[1]", "ForUpdate") >>
      \o SettleHead("closures_key[A]") \o SettleBackoff,
  fail_dlq |->
    << QueueRingShared, W("claims_0", "AccessShare"), W("lanes[1]", "ForUpdate") >>
      \o SettleHead("closures_key[A]") \o SettleDlq,
  fail_batch |->
    << QueueRingShared, W("claims_0", "AccessShare"), W("lanes[1]", "ForUpdate"),
       W("lanes[2]", "ForUpdate") >>
      \o SettleHead("closures_key[A]") \o SettleRetryNow
      \o << W("closures_key[B]", "UniqueInsert") >>,
  \* heartbeat.sql: claims / closures read, heartbeats insert.
  heartbeat_one |->
    << W("claims_0", "AccessShare"), W("closures_0", "AccessShare"),
       W("heartbeats_0", "RowExclusive") >>,
  \* rescue.sql: adv queue ring shared; expired attempts read (claims, closures,
  \* heartbeats); lanes FOR UPDATE ORDER BY lane_id; _settle in run_lease order.
  rescue_retry |->
    << QueueRingShared, W("claims_0", "AccessShare"), W("closures_0", "AccessShare"),
       W("heartbeats_0", "AccessShare"), W("lanes[1]", "ForUpdate") >>
      \o SettleHead("closures_key[A]") \o SettleRetryNow,
  rescue_backoff |->
    << QueueRingShared, W("claims_0", "AccessShare"), W("closures_0", "AccessShare"),
       W("heartbeats_0", "AccessShare"), W("lanes[1]", "ForUpdate") >>
      \o SettleHead("closures_key[A]") \o SettleBackoff,
  rescue_dlq |->
    << QueueRingShared, W("claims_0", "AccessShare"), W("closures_0", "AccessShare"),
       W("heartbeats_0", "AccessShare"), W("lanes[1]", "ForUpdate") >>
      \o SettleHead("closures_key[A]") \o SettleDlq,
  rescue_batch |->
    << QueueRingShared, W("claims_0", "AccessShare"), W("closures_0", "AccessShare"),
       W("heartbeats_0", "AccessShare"), W("lanes[1]", "ForUpdate"), W("lanes[2]", "ForUpdate") >>
      \o SettleHead("closures_key[A]") \o SettleRetryNow
      \o << W("closures_key[B]", "UniqueInsert") >>,
  \* cancel.sql: adv queue ring shared, then one pass of its loop per path.
  cancel_deferred |->     \* DELETE deferred found the row; terminal row
    << QueueRingShared, W("deferred[J]", "ForUpdate"), W("done_0", "RowExclusive") >>,
  cancel_running |->      \* closure 'cancelled' won; terminal row
    << QueueRingShared, W("claims_0", "AccessShare"), W("closures_0", "RowExclusive"),
       W("closures_key[A]", "UniqueInsert"), W("done_0", "RowExclusive") >>,
  cancel_queued |->       \* ready read, lane FOR UPDATE, terminal row, cancels marker
    << QueueRingShared, W("claims_0", "AccessShare"), W("closures_0", "AccessShare"),
       W("ready_0", "AccessShare"), W("lanes[1]", "ForUpdate"), W("done_0", "RowExclusive"),
       W("cancels[J]", "UniqueInsert") >>,
  cancel_lost_then_queued |->   \* lost the closure to a retry, next pass: queued
    << QueueRingShared, W("claims_0", "AccessShare"), W("closures_0", "RowExclusive"),
       LoseKey("closures_key[A]"), W("ready_0", "AccessShare"), W("lanes[1]", "ForUpdate"),
       W("done_0", "RowExclusive"), W("cancels[J]", "UniqueInsert") >>,
  cancel_lost_then_deferred |-> \* lost the closure to a backoff, next pass: deferred
    << QueueRingShared, W("claims_0", "AccessShare"), W("closures_0", "RowExclusive"),
       LoseKey("closures_key[A]"), W("deferred[J]", "ForUpdate"), W("done_0", "RowExclusive") >>,
  \* promote.sql: adv queue ring shared; _lane() per due row (may create lanes);
  \* lanes FOR UPDATE ORDER BY lane_id; WITH: DELETE deferred (read to the end by
  \* the window function), UPDATE lanes, INSERT ready.
  promote_one |->
    << QueueRingShared, W("lanes[1]", "ForUpdate"), W("deferred[J]", "ForUpdate"),
       W("ready_0", "RowExclusive") >>,
  promote_new_lanes_34 |->
    << QueueRingShared >> \o Create34 \o LockNewLanes
      \o << W("deferred[J]", "ForUpdate"), W("ready_0", "RowExclusive") >>,
  promote_new_lanes_43 |->
    << QueueRingShared >> \o Create43 \o LockNewLanes
      \o << W("deferred[J]", "ForUpdate"), W("ready_0", "RowExclusive") >>,
  \* rotate.sql (lock_timeout): ring advisory EXCLUSIVE, ring_state row FOR UPDATE,
  \* slots rows (current, next) FOR UPDATE ORDER BY slot.
  rotate_queue |->
    << TO("adv:queue_ring", "AdvisoryExclusive"), TO("ring_state[queue]", "ForUpdate"),
       TO("slots[queue,0]", "ForUpdate"), TO("slots[queue,1]", "ForUpdate") >>,
  rotate_claim |->
    << TO("adv:claim_ring", "AdvisoryExclusive"), TO("ring_state[claim]", "ForUpdate"),
       TO("slots[claim,0]", "ForUpdate"), TO("slots[claim,1]", "ForUpdate") >>,
  \* prune.sql: oldest sealed slots row FOR UPDATE NOWAIT; LOCK TABLE partitions
  \* ACCESS EXCLUSIVE NOWAIT; guard reads under lock_timeout; DELETE cancels.
  prune_queue |->
    << NW("slots[queue,0]", "ForUpdate"), NW("ready_0", "AccessExclusive"),
       NW("done_0", "AccessExclusive"), TO("claims_0", "AccessShare"),
       TO("closures_0", "AccessShare"), TO("cancels[J]", "ForUpdate") >>,
  prune_claim |->
    << NW("slots[claim,0]", "ForUpdate"), NW("claims_0", "AccessExclusive"),
       NW("closures_0", "AccessExclusive"), NW("heartbeats_0", "AccessExclusive") >>,
  \* dlq_retry.sql: like promote, from the dlq table.
  dlq_retry_one |->
    << QueueRingShared, W("lanes[1]", "ForUpdate"), W("dlq[J]", "ForUpdate"),
       W("ready_0", "RowExclusive") >>,
  dlq_retry_new_lanes_34 |->
    << QueueRingShared >> \o Create34 \o LockNewLanes
      \o << W("dlq[J]", "ForUpdate"), W("ready_0", "RowExclusive") >>,
  dlq_retry_new_lanes_43 |->
    << QueueRingShared >> \o Create43 \o LockNewLanes
      \o << W("dlq[J]", "ForUpdate"), W("ready_0", "RowExclusive") >>
]

\* Lane creation in both orders unless LaneCreationOrdered (the fix).
NewLanes(in34, in43) == IF LaneCreationOrdered THEN {in34} ELSE {in34, in43}

\* enqueue.sql in a caller's transaction (its statements, then its COMMIT), as built or, under
\* SeqAtStatement, as before issue 12.
CallersTransaction ==
    IF SeqAtStatement
    THEN {"enqueue_at_statement_12", "enqueue_at_statement_21"}
    ELSE {"enqueue_staged_12", "enqueue_staged_21", "enqueue_staged_dedup"}
         \cup NewLanes("enqueue_staged_new_lanes_34", "enqueue_staged_new_lanes_43")

\* Which variants each transaction can run.
VariantsOf(t) ==
    CASE t = "enqueue"   -> {"enqueue_batch", "enqueue_dedup"} \cup NewLanes("enqueue_new_lanes_34", "enqueue_new_lanes_43")
                             \cup CallersTransaction
      [] t = "claim"     -> {"claim_lanes", "claim_busy_lane"}
      [] t = "complete"  -> {"complete_one", "complete_batch"}
      [] t = "fail"      -> {"fail_retry", "fail_backoff", "fail_dlq", "fail_batch"}
      [] t = "heartbeat" -> {"heartbeat_one"}
      [] t = "rescue"    -> {"rescue_retry", "rescue_backoff", "rescue_dlq", "rescue_batch"}
      [] t = "cancel"    -> {"cancel_deferred", "cancel_running", "cancel_queued",
                             "cancel_lost_then_queued", "cancel_lost_then_deferred"}
      [] t = "promote"   -> {"promote_one"} \cup NewLanes("promote_new_lanes_34", "promote_new_lanes_43")
      [] t = "rotate"    -> {"rotate_queue", "rotate_claim"}
      [] t = "prune"     -> {"prune_queue", "prune_claim"}
      [] t = "dlq_retry" -> {"dlq_retry_one"} \cup NewLanes("dlq_retry_new_lanes_34", "dlq_retry_new_lanes_43")

\* Instances: two enqueuers and two claimers (they contend with each other), one
\* of every other transaction.  LockGraphAcyclic also pairs every plan with a copy
\* of itself, so a second instance of anything is covered there.
Copies(t) == IF t \in {"enqueue", "claim"} THEN {<<t, 1>>, <<t, 2>>} ELSE {<<t, 1>>}
Inst == UNION {Copies(t) : t \in Txns}
TxnOf(i) == i[1]
InstVariants ==
    [i \in Inst |->
        IF ReversedEnqueue /\ i = <<"enqueue", 2>>
        THEN (VariantsOf("enqueue") \ {"enqueue_batch"}) \cup {"enqueue_batch_reversed"}
        ELSE VariantsOf(TxnOf(i))]

UsedVariants == UNION {InstVariants[i] : i \in Inst}
AllSteps == UNION { {Plans[v][k] : k \in 1 .. Len(Plans[v])} : v \in UsedVariants }

\* A step matters only if some used step conflicts with it (possibly its own
\* kind in another instance); the others can never wait or be waited for.
Contended(s) == \E s2 \in AllSteps : s2.res = s.res /\ Conflicts(s2.mode, s.mode)
Live == [v \in UsedVariants |-> LET Keep(s) == Contended(s) IN SelectSeq(Plans[v], Keep)]

-----------------------------------------------------------------------------
(* Static checks.                                                         *)

Resources == {s.res : s \in AllSteps}
Waits(s) == s.how \in {"wait", "timeout"}

\* GlobalLockOrder: the lock-order graph over resources (edge h -> r when some plan waits for
\* r while holding h, which another plan may wait on) has no cycle <=> the plans agree with
\* one global order of resources.  Stricter than deadlock freedom: it ignores which MODE a
\* waiter waits for and which locks the two plans hold together.  It no longer holds (and
\* is listed in no cfg): enqueue_staged_dedup holds its dedup key (adv:dedup[k], dedup[k]) from
\* its statement and takes the queue ring SHARED and lanes[1] at commit, against the order
\* of enqueue_dedup.  LockGraphAcyclic below shows that cannot deadlock.
\* Held locks some plan may wait on (a waiting request conflicts with them) ...
WaitedOn == { h \in AllSteps : h.hold /\ \E w \in AllSteps : w.res = h.res /\ Waits(w) /\ Conflicts(w.mode, h.mode) }
\* ... and requests that may wait (some plan may hold a conflicting lock).
MayWait == { w \in AllSteps : Waits(w) /\ \E h \in AllSteps : h.res = w.res /\ h.hold /\ Conflicts(h.mode, w.mode) }
PlanEdges(P) ==
    { <<P[ab[1]].res, P[ab[2]].res>> :
        ab \in { ab \in (1 .. Len(P)) \X (1 .. Len(P)) :
                   ab[1] < ab[2] /\ P[ab[1]] \in WaitedOn /\ P[ab[2]] \in MayWait } }
LockEdges == UNION { PlanEdges(Plans[v]) : v \in UsedVariants }
\* Transitive closure by repeated squaring: 2^6 > any path length here.
Closure[n \in 0 .. 6] ==
    IF n = 0 THEN LockEdges
    ELSE LET E == Closure[n - 1]
         IN E \cup { <<p[1][1], p[2][2]>> : p \in { q \in E \X E : q[1][2] = q[2][1] } }
GlobalLockOrder == \A r \in Resources : <<r, r>> \notin Closure[6]

\* LockGraphAcyclic: the static waits-for graph.  A node <<v, b>> is a transaction running
\* plan v, stopped at its b-th request, which may wait; it holds HeldAt(v, b).  Edge x -> y:
\* x's request conflicts with a lock y holds, and the two can be stopped there at the same
\* time (their held locks are compatible: neither holds what the other holds in a
\* conflicting mode -- e.g. two holders of one exclusive dedup key never both get this far).
\* Every deadlock among ANY number of concurrent transactions (any plans, any number of
\* instances of each) is a cycle of this graph, so acyclic means no deadlock, unbounded.
\* The cycle test: drop nodes without a successor until nothing changes; a graph is acyclic
\* iff that leaves nothing.
HeldAt(v, b) == {Plans[v][a] : a \in {a \in 1 .. (b - 1) : Plans[v][a].hold}}
Compatible(H1, H2) == \A h1 \in H1, h2 \in H2 : h1.res = h2.res => ~Conflicts(h1.mode, h2.mode)
WaitPoints ==
    UNION { { <<v, b>> : b \in {b \in 1 .. Len(Plans[v]) : Waits(Plans[v][b])} } : v \in UsedVariants }
Blocks(x, y) ==
    LET r == Plans[x[1]][x[2]]
    IN /\ \E h \in HeldAt(y[1], y[2]) : h.res = r.res /\ Conflicts(h.mode, r.mode)
       /\ Compatible(HeldAt(x[1], x[2]), HeldAt(y[1], y[2]))
WaitSucc == [x \in WaitPoints |-> {y \in WaitPoints : Blocks(x, y)}]
RECURSIVE Trim(_)
Trim(S) == LET T == {x \in S : WaitSucc[x] \cap S # {}} IN IF T = S THEN S ELSE Trim(T)

LockGraphAcyclic == Trim(WaitPoints) = {}

-----------------------------------------------------------------------------
(* Dynamic model: transactions interleaving lock by lock. *)

VARIABLE txns
    \* txns[i], for each transaction instance i in flight (and only those, so a
    \* counterexample shows just the transactions involved):
    \*   variant  the plan it runs
    \*   pc       index of its next lock request (Len + 1: all taken, commit next)
    \*   held     the locks it holds, as [res, mode] records
    \*   wants    its next request ([res, mode]), or CommitNext once it holds all
    \*            (a function of variant and pc: shown so a trace reads on its own)

vars == <<txns>>

InFlight == DOMAIN txns
Plan(i) == Live[txns[i].variant]
Requesting(i) == txns[i].pc <= Len(Plan(i))
Req(i) == Plan(i)[txns[i].pc]
Held(i) == txns[i].held
Lock(s) == [res |-> s.res, mode |-> s.mode]
CommitNext == [res |-> "-", mode |-> "commit"]
WantAt(v, k) == IF k <= Len(Live[v]) THEN Lock(Live[v][k]) ELSE CommitNext

Grantable(i) ==
    \A j \in InFlight \ {i} : \A h \in Held(j) :
        h.res = Req(i).res => ~Conflicts(h.mode, Req(i).mode)

Blocked(i) == Requesting(i) /\ Waits(Req(i)) /\ ~Grantable(i)

WaitsFor(i, j) ==
    /\ i # j
    /\ Blocked(i)
    /\ \E h \in Held(j) : h.res = Req(i).res /\ Conflicts(h.mode, Req(i).mode)

TypeOK ==
    /\ InFlight \subseteq Inst
    /\ \A i \in InFlight :
        /\ txns[i].variant \in InstVariants[i]
        /\ txns[i].pc \in 1 .. (Len(Plan(i)) + 1)
        /\ txns[i].held \subseteq {Lock(s) : s \in AllSteps}
        /\ txns[i].wants = WantAt(txns[i].variant, txns[i].pc)

Init == txns = [i \in {} |-> 0]

Begin(i, v) ==
    /\ Cardinality(InFlight) < MaxInFlight
    /\ txns' = [j \in InFlight \cup {i} |->
                   IF j = i THEN [variant |-> v, pc |-> 1, held |-> {}, wants |-> WantAt(v, 1)]
                   ELSE txns[j]]

\* The lock is granted (or the probe of a lost unique key returns).
Acquire(i) ==
    /\ Requesting(i)
    /\ Grantable(i)
    /\ txns' = [txns EXCEPT ![i].pc = @ + 1,
                            ![i].held = IF Req(i).hold THEN @ \cup {Lock(Req(i))} ELSE @,
                            ![i].wants = WantAt(txns[i].variant, txns[i].pc + 1)]

\* SKIP LOCKED: the row is passed over and the statement goes on.
SkipLocked(i) ==
    /\ Requesting(i)
    /\ Req(i).how = "skip"
    /\ ~Grantable(i)
    /\ txns' = [txns EXCEPT ![i].pc = @ + 1,
                            ![i].wants = WantAt(txns[i].variant, txns[i].pc + 1)]

\* Commit or roll back: every lock is released.
Finish(i) == txns' = [j \in InFlight \ {i} |-> txns[j]]

\* NOWAIT fails at once (55P03); lock_timeout expires while waiting: roll back.
GiveUp(i) ==
    /\ Requesting(i)
    /\ Req(i).how \in {"nowait", "timeout"}
    /\ ~Grantable(i)
    /\ Finish(i)

Commit(i) ==
    /\ txns[i].pc = Len(Plan(i)) + 1
    /\ Finish(i)

Next ==
    \/ \E i \in Inst \ InFlight : \E v \in InstVariants[i] : Begin(i, v)
    \/ \E i \in InFlight : Acquire(i) \/ SkipLocked(i) \/ GiveUp(i) \/ Commit(i)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Invariants. *)

\* No set of in-flight transactions waits for one another in a cycle.
NoDeadlock ==
    ~ \E n \in 2 .. MaxInFlight :
        \E cyc \in [1 .. n -> InFlight] :
            \A k \in 1 .. n : WaitsFor(cyc[k], cyc[(k % n) + 1])

\* The grant rule never lets two transactions hold conflicting locks.
LockCompatibility ==
    \A i, j \in InFlight :
        i # j => \A h1 \in Held(i), h2 \in Held(j) :
                     h1.res = h2.res => ~Conflicts(h1.mode, h2.mode)
=============================================================================
