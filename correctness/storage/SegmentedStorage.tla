-------------------------- MODULE SegmentedStorage --------------------------
(***************************************************************************)
(* ringq's segmented, append-only storage as built (spec/MAPPING.md).      *)
(*                                                                         *)
(* MODELLED                                                                *)
(*  - queue ring and claim ring: `slots` (open / sealed / pruned) and      *)
(*    `ring_state` (current slot of each ring);                            *)
(*  - one lane `lanes` = [next_seq, claim_seq]; immutable `ready` rows      *)
(*    appended to the current queue slot with a gap-free `lane_seq`        *)
(*    allocated at commit; a ready row is claimed once the cursor passed   *)
(*    it;                                                                  *)
(*  - commit-time sequencing (issue 12): an enqueue in the caller's        *)
(*    transaction (`Queue.enqueue(..., conn=conn)`) only writes the job    *)
(*    into the unlogged `staged` table, taking no lane and no ring lock;   *)
(*    the job is invisible to everyone. A deferred constraint trigger at   *)
(*    COMMIT takes the queue ring lock SHARED, locks the lanes in lane_id  *)
(*    order, allocates lane_seq from next_seq and appends the ready row to *)
(*    the CURRENT queue slot, inside the commit: lane_seq order = commit   *)
(*    order, and the lane lock lasts only for the commit. `staged` = the   *)
(*    jobs whose enqueue transaction is open; EnqueueBegin, EnqueueCommit, *)
(*    EnqueueAbort. Every other action runs freely while a job is staged   *)
(*    (a staged job holds nothing). Enqueue (ringq owns the transaction)   *)
(*    is EnqueueBegin immediately followed by EnqueueCommit, one step.     *)
(*    An aborted job may be enqueued again (Begin is guarded by            *)
(*    j \notin enqueued \cup staged; a fresh job under the same model      *)
(*    name). No bound is needed for that: Begin + Abort returns to the     *)
(*    state before Begin (measured, distinct states before -> after:       *)
(*    base 15441 -> 15708, single 4121 -> 4272, one-job cfgs +1);          *)
(*  - `claims` rows (job, run_lease, lane_seq, ready_slot, attempt,        *)
(*    worker) in the current claim slot; `closures` in the same claim      *)
(*    slot with the unique key (job, run_lease): one closer wins;          *)
(*  - terminal `done` rows in the queue slot of the job's ready row;       *)
(*    `cancels`, `deferred` (retry backoff) and `dlq`;                     *)
(*  - deadline expiry (`Tick`), `Heartbeat`, `Rescue`, retry with an       *)
(*    attempt limit, cancel, promotion, rotation and prune of both rings,  *)
(*    DLQ retry;                                                           *)
(*  - workers' memory: `held[w]` = attempts w believes it holds, `post[w]` *)
(*    = post-commit steps it still has to run (only the bug switches use   *)
(*    post-commit steps; ringq has none).                                  *)
(*                                                                         *)
(* CRASH POINTS (MAPPING.md). Every ringq transaction is one atomic        *)
(* action: a crash `<tx>.before_commit` is the action not happening (a     *)
(* stutter), so it needs no action of its own. The caller's enqueue        *)
(* transaction is the exception: it stays open across other steps, and its *)
(* enqueue.before_commit (a rollback, or the backend killed, before or     *)
(* during the commit-time trigger) is EnqueueAbort(j): the staged row is   *)
(* discarded, nothing else changes. A crash after commit is `Crash(w)`:    *)
(* the worker loses `held[w]` and `post[w]`, the database keeps what was   *)
(* committed (claim.after_commit, complete.after_commit).                  *)
(*                                                                         *)
(* ACTION <-> TRANSACTION: Enqueue = enqueue.sql in ringq's own            *)
(* transaction (the ready row appended and sequenced at once),             *)
(* EnqueueBegin = enqueue.sql in the caller's transaction (p_staged:       *)
(* advisory dedup keys, then the staged insert), EnqueueCommit = the       *)
(* caller's COMMIT running the deferred trigger (enqueue_commit.sql),      *)
(* EnqueueAbort = the caller's ROLLBACK or its backend terminated, Claim = *)
(* claim.sql, Complete = complete.sql (its LeaseLost branch = the rejected *)
(* stale completion), Fail = fail.sql, Heartbeat = heartbeat.sql, Rescue = *)
(* rescue.sql, Cancel = cancel.sql, Promote = promote.sql, RotateQueue /   *)
(* RotateClaim = rotate.sql, PruneQueue / PruneClaim = prune.sql, DlqRetry *)
(* = dlq_retry.sql, Tick = the injected clock passing a deadline, Crash =  *)
(* killing the worker.                                                     *)
(*                                                                         *)
(* DELIBERATE ABSTRACTIONS (see spec/MAPPING.md)                           *)
(*  - One lane: lanes never share rows; across lanes a claimer only picks  *)
(*    one with SKIP LOCKED. Priorities, queues, payloads are not modelled.  *)
(*  - Time: `expired` is the set of open attempts whose effective deadline *)
(*    (max of claim and heartbeat deadlines) has passed. `Tick` passes     *)
(*    any one deadline, in any order (an over-approximation of a clock);   *)
(*    a heartbeat on an unexpired attempt changes nothing observable and   *)
(*    is a stutter. Backoff is "the deferred row becomes due" (Promote).   *)
(*  - Slot generations are not modelled: a pruned slot is empty and the    *)
(*    next rotation reuses it.                                             *)
(*  - State bound: a ring rotates only when its current slot holds a row   *)
(*    (ready/done, or claims). Rotating an empty slot only renames slots;  *)
(*    allowing it multiplies the state space ~10x with no new behaviour.   *)
(*  - Concurrency 1 per worker: a worker holds at most one attempt.        *)
(*  - Ghost variables (no table): `enqueued`, `terminal`, `completed`,     *)
(*    `tries`, `dlq_retries`, `pruned_live`, the `by` field of closures.   *)
(*                                                                         *)
(* BUG SWITCHES (all FALSE = ringq's design; each has its own cfg):        *)
(*  BugCursorAfterCommit  claim_seq advanced by a separate post-commit     *)
(*                        step; claim skips rows that have a claim row.    *)
(*  BugPruneNoGuard       prune without its guards.                        *)
(*  BugNoFence            complete closes the job's open attempt, whatever *)
(*                        its run_lease.                                   *)
(*  BugRetryNotPersisted  the attempt counter lives in worker memory: a    *)
(*                        rescue re-enqueues with the same attempt.        *)
(*  BugResultAfterClosure the result is written by a second transaction    *)
(*                        after the closure.                               *)
(*  BugSeqAtBegin         the naive design ADR 0001 was written against: a *)
(*                        sequence + cursor without a guard. EnqueueBegin  *)
(*                        takes lane_seq (next_seq bumped then, the seq    *)
(*                        kept with the staged row in `staged_seq`); the   *)
(*                        ready row appears at commit with that seq. The   *)
(*                        cursor passes a seq whose transaction is still   *)
(*                        open -- a claim that sees no row there cannot    *)
(*                        tell it from a rolled-back gap and moves on, or  *)
(*                        a later-begun job commits first and is claimed   *)
(*                        -- and the row that commits behind it is never   *)
(*                        claimed: NoLostJob. Shortest: EnqueueBegin(j1)   *)
(*                        (seq 0), Claim (cursor 0 -> 1 over the gap),     *)
(*                        EnqueueCommit(j1) (row at seq 0, behind it).     *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS Jobs, Workers, QSlots, CSlots, MaxAttempts, MaxDlqRetries,
          BugCursorAfterCommit, BugPruneNoGuard, BugNoFence,
          BugRetryNotPersisted, BugResultAfterClosure, BugSeqAtBegin

ASSUME QSlots >= 2 /\ CSlots >= 2 /\ MaxAttempts >= 1 /\ MaxDlqRetries \in Nat

VARIABLES
    ring_state,   \* [queue |-> slot, claim |-> slot]: current (open) slot of each ring
    slots,        \* [queue |-> [slot -> state], claim |-> [slot -> state]]
    lanes,        \* [next_seq, claim_seq] of the one modelled lane
    ready,        \* set of [job, seq, slot, attempt]
    done,         \* set of [job, lease, outcome, slot, result]
    claims,       \* set of [job, lease, seq, rslot, attempt, worker, slot]
    closures,     \* set of [job, lease, outcome, slot, by]
    expired,      \* set of [job, lease]: open attempts past their deadline
    cancels,      \* set of [job, slot]: queued jobs cancelled before claim
    deferred,     \* set of [job, attempt]
    dlq,          \* set of [job, attempt]
    next_lease,   \* the run_lease sequence
    held,         \* [Workers -> set of [job, lease]]: worker memory
    post,         \* [Workers -> set of [op, job, lease, seq]]: pending post-commit steps
    enqueued,     \* ghost: jobs ever enqueued
    terminal,     \* ghost: jobs whose latest done row is written (survives prune)
    completed,    \* ghost: [Jobs -> set of leases that completed the job]
    tries,        \* ghost: [Jobs -> claims since the job was (re-)enqueued from scratch]
    dlq_retries,  \* ghost: [Jobs -> DLQ retries so far]
    pruned_live,  \* ghost: a prune truncated a slot that held something live
    staged,       \* jobs whose enqueue transaction (caller's connection) is open
    staged_seq    \* BugSeqAtBegin only: set of [job, seq], the lane_seq each staged job took
                  \* at its begin; always {} in ringq's design (seq allocated at commit)

storage == <<ring_state, slots, lanes, ready, done, claims, closures, expired,
             cancels, deferred, dlq, next_lease, staged, staged_seq>>
vars == <<storage, held, post, enqueued, terminal, completed, tries, dlq_retries, pruned_live>>

QSlotIds == 0 .. (QSlots - 1)
CSlotIds == 0 .. (CSlots - 1)
SlotStates == {"open", "sealed", "pruned"}

Att(j, l) == [job |-> j, lease |-> l]
IsOpen(c) == ~\E x \in closures : x.job = c.job /\ x.lease = c.lease
OpenClaims == {c \in claims : IsOpen(c)}
ClaimOf(a) == CHOOSE c \in claims : c.job = a.job /\ c.lease = a.lease
CancelledJobs == {x.job : x \in cancels}
\* A ready row is claimed once the cursor passed it or a claim row names it
\* (the two agree in ringq; they differ only under BugCursorAfterCommit).
Unclaimed(r) == /\ r.seq >= lanes.claim_seq
                /\ r.job \notin CancelledJobs
                /\ ~\E c \in claims : c.job = r.job /\ c.seq = r.seq
Queued == {r \in ready : Unclaimed(r)}
NewReady(j, att) == [job |-> j, seq |-> lanes.next_seq, slot |-> ring_state.queue, attempt |-> att]
Closure(c, outcome, by) == [job |-> c.job, lease |-> c.lease, outcome |-> outcome, slot |-> c.slot, by |-> by]
Done(j, l, outcome, s, result) == [job |-> j, lease |-> l, outcome |-> outcome, slot |-> s, result |-> result]

QueueSlotLive(k) == (\E r \in Queued : r.slot = k) \/ (\E c \in OpenClaims : c.rslot = k)
ClaimSlotLive(k) == \E c \in OpenClaims : c.slot = k

Init ==
    /\ ring_state = [queue |-> 0, claim |-> 0]
    /\ slots = [queue |-> [k \in QSlotIds |-> IF k = 0 THEN "open" ELSE "pruned"],
                claim |-> [k \in CSlotIds |-> IF k = 0 THEN "open" ELSE "pruned"]]
    /\ lanes = [next_seq |-> 0, claim_seq |-> 0]
    /\ ready = {} /\ done = {} /\ claims = {} /\ closures = {} /\ expired = {}
    /\ cancels = {} /\ deferred = {} /\ dlq = {}
    /\ next_lease = 1
    /\ held = [w \in Workers |-> {}]
    /\ post = [w \in Workers |-> {}]
    /\ enqueued = {} /\ terminal = {}
    /\ completed = [j \in Jobs |-> {}]
    /\ tries = [j \in Jobs |-> 0]
    /\ dlq_retries = [j \in Jobs |-> 0]
    /\ pruned_live = FALSE
    /\ staged = {} /\ staged_seq = {}

(* enqueue.sql in ringq's own transaction: append a ready row to the current queue slot; *)
(* lane_seq from next_seq. The same as EnqueueBegin(j) immediately followed by             *)
(* EnqueueCommit(j).                                                                       *)
Enqueue(j) ==
    /\ j \notin enqueued \cup staged
    /\ ready' = ready \cup {NewReady(j, 1)}
    /\ lanes' = [lanes EXCEPT !.next_seq = @ + 1]
    /\ enqueued' = enqueued \cup {j}
    /\ UNCHANGED <<staged, staged_seq, ring_state, slots, done, claims, closures, expired, cancels,
                   deferred, dlq, next_lease, held, post, terminal, completed, tries, dlq_retries,
                   pruned_live>>

(* enqueue.sql in the caller's transaction: the job goes into `staged` only; no lane lock, *)
(* no ring lock, invisible to every other transaction. (BugSeqAtBegin: takes its lane_seq   *)
(* now, from next_seq.)                                                                     *)
EnqueueBegin(j) ==
    /\ j \notin enqueued \cup staged
    /\ staged' = staged \cup {j}
    /\ IF BugSeqAtBegin
         THEN /\ staged_seq' = staged_seq \cup {[job |-> j, seq |-> lanes.next_seq]}
              /\ lanes' = [lanes EXCEPT !.next_seq = @ + 1]
         ELSE UNCHANGED <<staged_seq, lanes>>
    /\ UNCHANGED <<ring_state, slots, ready, done, claims, closures, expired, cancels,
                   deferred, dlq, next_lease, held, post, enqueued, terminal, completed, tries,
                   dlq_retries, pruned_live>>

(* The caller's COMMIT: the deferred constraint trigger (enqueue_commit.sql) takes the queue *)
(* ring lock SHARED, locks the lane, allocates lane_seq from next_seq and appends the ready *)
(* row to the CURRENT queue slot, all inside the commit: exactly Enqueue's effect.          *)
(* (BugSeqAtBegin: the row gets the seq taken at begin, and next_seq is not touched.)       *)
EnqueueCommit(j) ==
    /\ j \in staged
    /\ staged' = staged \ {j}
    /\ enqueued' = enqueued \cup {j}
    /\ IF BugSeqAtBegin
         THEN LET x == CHOOSE x \in staged_seq : x.job = j
              IN /\ ready' = ready \cup {[job |-> j, seq |-> x.seq, slot |-> ring_state.queue,
                                          attempt |-> 1]}
                 /\ staged_seq' = staged_seq \ {x}
                 /\ UNCHANGED lanes
         ELSE /\ ready' = ready \cup {NewReady(j, 1)}
              /\ lanes' = [lanes EXCEPT !.next_seq = @ + 1]
              /\ UNCHANGED staged_seq
    /\ UNCHANGED <<ring_state, slots, done, claims, closures, expired, cancels, deferred, dlq,
                   next_lease, held, post, terminal, completed, tries, dlq_retries, pruned_live>>

(* The caller's ROLLBACK, or its backend killed (enqueue.before_commit): the staged row is   *)
(* discarded; nothing else changes. (BugSeqAtBegin: the seq it took stays a gap.)           *)
EnqueueAbort(j) ==
    /\ j \in staged
    /\ staged' = staged \ {j}
    /\ staged_seq' = {x \in staged_seq : x.job # j}
    /\ UNCHANGED <<ring_state, slots, lanes, ready, done, claims, closures, expired, cancels,
                   deferred, dlq, next_lease, held, post, enqueued, terminal, completed, tries,
                   dlq_retries, pruned_live>>

(* claim.sql, writing its claim row into claim slot `cs`: take the lowest queued row, skipping *)
(* cancelled ones, and advance claim_seq past it in the same transaction.                      *)
ClaimAt(w, cs) ==
    /\ held[w] = {} /\ post[w] = {}
    /\ \/ /\ Queued # {}
          /\ LET r == CHOOSE x \in Queued : \A y \in Queued : x.seq <= y.seq
             IN /\ claims' = claims \cup {[job |-> r.job, lease |-> next_lease, seq |-> r.seq,
                                           rslot |-> r.slot, attempt |-> r.attempt, worker |-> w,
                                           slot |-> cs]}
                /\ next_lease' = next_lease + 1
                /\ held' = [held EXCEPT ![w] = {Att(r.job, next_lease)}]
                /\ tries' = [tries EXCEPT ![r.job] = @ + 1]
                /\ IF BugCursorAfterCommit
                     THEN /\ post' = [post EXCEPT ![w] = {[op |-> "advance", job |-> r.job,
                                                           lease |-> next_lease, seq |-> r.seq]}]
                          /\ UNCHANGED lanes
                     ELSE /\ lanes' = [lanes EXCEPT !.claim_seq = r.seq + 1]
                          /\ UNCHANGED post
          /\ UNCHANGED <<staged, staged_seq, ring_state, slots, ready, done, closures, expired,
                         cancels, deferred, dlq, enqueued, terminal, completed, dlq_retries,
                         pruned_live>>
       \/ \* only cancelled (or already claimed) rows are left: move the cursor over them
          /\ Queued = {}
          /\ lanes.claim_seq < lanes.next_seq
          /\ lanes' = [lanes EXCEPT !.claim_seq = lanes.next_seq]
          /\ UNCHANGED <<staged, staged_seq, ring_state, slots, ready, done, claims, closures,
                         expired, cancels, deferred, dlq, next_lease, held, post, enqueued,
                         terminal, completed, tries, dlq_retries, pruned_live>>

Claim(w) == ClaimAt(w, ring_state.claim)

(* BugCursorAfterCommit only: the separate cursor-advance transaction. *)
AdvanceCursor(w) ==
    \E p \in post[w] :
        /\ p.op = "advance"
        /\ lanes' = [lanes EXCEPT !.claim_seq = IF @ > p.seq THEN @ ELSE p.seq + 1]
        /\ post' = [post EXCEPT ![w] = @ \ {p}]
        /\ UNCHANGED <<staged, staged_seq, ring_state, slots, ready, done, claims, closures,
                       expired, cancels, deferred, dlq, next_lease, held, enqueued, terminal,
                       completed, tries, dlq_retries, pruned_live>>

(* complete.sql: closure `completed` + done row with the result, fenced by run_lease. A stale *)
(* worker is rejected (LeaseLost) and drops the attempt.                                     *)
Complete(w) ==
    \E a \in held[w] :
        LET target == IF BugNoFence
                        THEN {c \in OpenClaims : c.job = a.job}
                        ELSE {c \in OpenClaims : c.job = a.job /\ c.lease = a.lease}
        IN IF target = {}
             THEN /\ held' = [held EXCEPT ![w] = {}]
                  /\ UNCHANGED <<storage, post, enqueued, terminal, completed, tries, dlq_retries,
                                 pruned_live>>
             ELSE LET c == CHOOSE x \in target : TRUE
                  IN /\ closures' = closures \cup {Closure(c, "completed", a.lease)}
                     /\ done' = done \cup {Done(c.job, c.lease, "completed", c.rslot,
                                                ~BugResultAfterClosure)}
                     /\ expired' = expired \ {Att(c.job, c.lease)}
                     /\ held' = [held EXCEPT ![w] = {}]
                     /\ post' = IF BugResultAfterClosure
                                  THEN [post EXCEPT ![w] = @ \cup {[op |-> "result", job |-> c.job,
                                                                    lease |-> c.lease, seq |-> c.seq]}]
                                  ELSE post
                     /\ completed' = [completed EXCEPT ![c.job] = @ \cup {c.lease}]
                     /\ terminal' = terminal \cup {c.job}
                     /\ UNCHANGED <<staged, staged_seq, ring_state, slots, lanes, ready, claims,
                                    cancels, deferred, dlq, next_lease, enqueued, tries,
                                    dlq_retries, pruned_live>>

(* BugResultAfterClosure only: the second transaction that stores the result. *)
WriteResult(w) ==
    \E p \in post[w] :
        /\ p.op = "result"
        /\ done' = {IF d.job = p.job /\ d.lease = p.lease /\ d.outcome = "completed"
                      THEN [d EXCEPT !.result = TRUE] ELSE d : d \in done}
        /\ post' = [post EXCEPT ![w] = @ \ {p}]
        /\ UNCHANGED <<staged, staged_seq, ring_state, slots, lanes, ready, claims, closures,
                       expired, cancels, deferred, dlq, next_lease, held, enqueued, terminal,
                       completed, tries, dlq_retries, pruned_live>>

(* fail.sql: closure `retried` + deferred row (backoff) while attempts remain, else closure *)
(* `dlq` + dlq row + done row. A stale fail is rejected like a stale complete.              *)
Fail(w) ==
    \E a \in held[w] :
        \E c \in OpenClaims :
            /\ c.job = a.job /\ c.lease = a.lease
            /\ held' = [held EXCEPT ![w] = {}]
            /\ expired' = expired \ {a}
            /\ IF c.attempt < MaxAttempts
                 THEN /\ closures' = closures \cup {Closure(c, "retried", a.lease)}
                      /\ deferred' = deferred \cup {[job |-> c.job, attempt |-> c.attempt + 1]}
                      /\ UNCHANGED <<done, dlq, terminal>>
                 ELSE /\ closures' = closures \cup {Closure(c, "dlq", a.lease)}
                      /\ dlq' = dlq \cup {[job |-> c.job, attempt |-> c.attempt]}
                      /\ done' = done \cup {Done(c.job, c.lease, "dlq", c.rslot, TRUE)}
                      /\ terminal' = terminal \cup {c.job}
                      /\ UNCHANGED deferred
            /\ UNCHANGED <<staged, staged_seq, ring_state, slots, lanes, ready, claims, cancels,
                           next_lease, post, enqueued, completed, tries, dlq_retries, pruned_live>>

(* heartbeat.sql: a heartbeat row moves the deadline of an expired, still open attempt into *)
(* the future (on an unexpired attempt it is a stutter in this abstraction of time).         *)
Heartbeat(w) ==
    \E a \in held[w] :
        /\ a \in expired
        /\ expired' = expired \ {a}
        /\ UNCHANGED <<staged, staged_seq, ring_state, slots, lanes, ready, done, claims, closures,
                       cancels, deferred, dlq, next_lease, held, post, enqueued, terminal,
                       completed, tries, dlq_retries, pruned_live>>

(* The clock passes the effective deadline of one open attempt. *)
Tick ==
    \E c \in OpenClaims :
        /\ Att(c.job, c.lease) \notin expired
        /\ expired' = expired \cup {Att(c.job, c.lease)}
        /\ UNCHANGED <<staged, staged_seq, ring_state, slots, lanes, ready, done, claims, closures,
                       cancels, deferred, dlq, next_lease, held, post, enqueued, terminal,
                       completed, tries, dlq_retries, pruned_live>>

(* rescue.sql: closure `rescued`; re-enqueue with attempt + 1 while attempts remain, else DLQ. *)
Rescue ==
    \E a \in expired :
        LET c == ClaimOf(a)
            nxt == IF BugRetryNotPersisted THEN c.attempt ELSE c.attempt + 1
        IN /\ closures' = closures \cup {Closure(c, "rescued", 0)}
           /\ expired' = expired \ {a}
           /\ IF nxt <= MaxAttempts
                THEN /\ ready' = ready \cup {NewReady(c.job, nxt)}
                     /\ lanes' = [lanes EXCEPT !.next_seq = @ + 1]
                     /\ UNCHANGED <<done, dlq, terminal>>
                ELSE /\ dlq' = dlq \cup {[job |-> c.job, attempt |-> c.attempt]}
                     /\ done' = done \cup {Done(c.job, c.lease, "dlq", c.rslot, TRUE)}
                     /\ terminal' = terminal \cup {c.job}
                     /\ UNCHANGED <<ready, lanes>>
           /\ UNCHANGED <<staged, staged_seq, ring_state, slots, claims, cancels, deferred,
                          next_lease, held, post, enqueued, completed, tries, dlq_retries,
                          pruned_live>>

(* cancel.sql: a queued job (cancels row + done row in its ready slot), a running attempt *)
(* (closure `cancelled` + done row) or a deferred job (done row in the current slot).      *)
Cancel(j) ==
    \/ \E r \in Queued :
          /\ r.job = j
          /\ cancels' = cancels \cup {[job |-> j, slot |-> r.slot]}
          /\ done' = done \cup {Done(j, 0, "cancelled", r.slot, TRUE)}
          /\ terminal' = terminal \cup {j}
          /\ UNCHANGED <<staged, staged_seq, ring_state, slots, lanes, ready, claims, closures,
                         expired, deferred, dlq, next_lease, held, post, enqueued, completed, tries,
                         dlq_retries, pruned_live>>
    \/ \E c \in OpenClaims :
          /\ c.job = j
          /\ closures' = closures \cup {Closure(c, "cancelled", 0)}
          /\ done' = done \cup {Done(j, c.lease, "cancelled", c.rslot, TRUE)}
          /\ expired' = expired \ {Att(c.job, c.lease)}
          /\ terminal' = terminal \cup {j}
          /\ UNCHANGED <<staged, staged_seq, ring_state, slots, lanes, ready, claims, cancels,
                         deferred, dlq, next_lease, held, post, enqueued, completed, tries,
                         dlq_retries, pruned_live>>
    \/ \E d \in deferred :
          /\ d.job = j
          /\ deferred' = deferred \ {d}
          /\ done' = done \cup {Done(j, 0, "cancelled", ring_state.queue, TRUE)}
          /\ terminal' = terminal \cup {j}
          /\ UNCHANGED <<staged, staged_seq, ring_state, slots, lanes, ready, claims, closures,
                         expired, cancels, dlq, next_lease, held, post, enqueued, completed, tries,
                         dlq_retries, pruned_live>>

(* promote.sql: a due deferred row moves into the current ready slot. *)
Promote ==
    \E d \in deferred :
        /\ deferred' = deferred \ {d}
        /\ ready' = ready \cup {NewReady(d.job, d.attempt)}
        /\ lanes' = [lanes EXCEPT !.next_seq = @ + 1]
        /\ UNCHANGED <<staged, staged_seq, ring_state, slots, done, claims, closures, expired,
                       cancels, dlq, next_lease, held, post, enqueued, terminal, completed, tries,
                       dlq_retries, pruned_live>>

(* rotate.sql: seal the current slot and open the next one, which must be pruned (empty). *)
(* Bound: only a current slot that holds a row is rotated (see the header).               *)
RotateQueue ==
    LET cur == ring_state.queue
        nx == (cur + 1) % QSlots
    IN /\ slots.queue[nx] = "pruned"
       /\ (\E r \in ready : r.slot = cur) \/ (\E d \in done : d.slot = cur)
       /\ slots' = [slots EXCEPT !.queue[cur] = "sealed", !.queue[nx] = "open"]
       /\ ring_state' = [ring_state EXCEPT !.queue = nx]
       /\ UNCHANGED <<staged, staged_seq, lanes, ready, done, claims, closures, expired, cancels,
                      deferred, dlq, next_lease, held, post, enqueued, terminal, completed, tries,
                      dlq_retries, pruned_live>>

RotateClaim ==
    LET cur == ring_state.claim
        nx == (cur + 1) % CSlots
    IN /\ slots.claim[nx] = "pruned"
       /\ \E c \in claims : c.slot = cur
       /\ slots' = [slots EXCEPT !.claim[cur] = "sealed", !.claim[nx] = "open"]
       /\ ring_state' = [ring_state EXCEPT !.claim = nx]
       /\ UNCHANGED <<staged, staged_seq, lanes, ready, done, claims, closures, expired, cancels,
                      deferred, dlq, next_lease, held, post, enqueued, terminal, completed, tries,
                      dlq_retries, pruned_live>>

(* prune.sql, queue ring: under the exclusive lock, every ready row of slot k is behind the *)
(* cursor and no open attempt has ready_slot = k; TRUNCATE drops ready, done and cancels.   *)
PruneQueueGuard(k) ==
    /\ \A r \in ready : r.slot = k => r.seq < lanes.claim_seq
    /\ ~\E c \in OpenClaims : c.rslot = k

PruneQueue(k) ==
    /\ slots.queue[k] = "sealed"
    /\ BugPruneNoGuard \/ PruneQueueGuard(k)
    /\ ready' = {r \in ready : r.slot # k}
    /\ done' = {d \in done : d.slot # k}
    /\ cancels' = {x \in cancels : x.slot # k}
    /\ slots' = [slots EXCEPT !.queue[k] = "pruned"]
    /\ pruned_live' = (pruned_live \/ QueueSlotLive(k))
    /\ UNCHANGED <<staged, staged_seq, ring_state, lanes, claims, closures, expired, deferred, dlq,
                   next_lease, held, post, enqueued, terminal, completed, tries, dlq_retries>>

(* prune.sql, claim ring: under the exclusive lock, no open attempt has its claim row in k. *)
PruneClaimAct(k) ==
    /\ claims' = {c \in claims : c.slot # k}
    /\ closures' = {x \in closures : x.slot # k}
    /\ expired' = {a \in expired : ClaimOf(a).slot # k}
    /\ slots' = [slots EXCEPT !.claim[k] = "pruned"]
    /\ pruned_live' = (pruned_live \/ ClaimSlotLive(k))
    /\ UNCHANGED <<staged, staged_seq, ring_state, lanes, ready, done, cancels, deferred, dlq,
                   next_lease, held, post, enqueued, terminal, completed, tries, dlq_retries>>

PruneClaim(k) ==
    /\ slots.claim[k] = "sealed"
    /\ BugPruneNoGuard \/ ~ClaimSlotLive(k)
    /\ PruneClaimAct(k)

(* dlq_retry.sql: an operator moves a DLQ row back to ready with a fresh attempt budget. *)
DlqRetry(j) ==
    \E d \in dlq :
        /\ d.job = j
        /\ dlq_retries[j] < MaxDlqRetries
        /\ dlq' = dlq \ {d}
        /\ ready' = ready \cup {NewReady(j, 1)}
        /\ lanes' = [lanes EXCEPT !.next_seq = @ + 1]
        /\ terminal' = terminal \ {j}
        /\ tries' = [tries EXCEPT ![j] = 0]
        /\ dlq_retries' = [dlq_retries EXCEPT ![j] = @ + 1]
        /\ UNCHANGED <<staged, staged_seq, ring_state, slots, done, claims, closures, expired,
                       cancels, deferred, next_lease, held, post, enqueued, completed, pruned_live>>

(* The worker process dies after a commit: its memory is gone, the database is not. *)
Crash(w) ==
    /\ held[w] # {} \/ post[w] # {}
    /\ held' = [held EXCEPT ![w] = {}]
    /\ post' = [post EXCEPT ![w] = {}]
    /\ UNCHANGED <<storage, enqueued, terminal, completed, tries, dlq_retries, pruned_live>>

WorkerStep(w) ==
    \/ Claim(w) \/ Complete(w) \/ Fail(w) \/ Heartbeat(w) \/ Crash(w)
    \/ AdvanceCursor(w) \/ WriteResult(w)

MaintenanceStep ==
    \/ Tick \/ Rescue \/ Promote \/ RotateQueue \/ RotateClaim
    \/ \E k \in QSlotIds : PruneQueue(k)
    \/ \E k \in CSlotIds : PruneClaim(k)

Next ==
    \/ \E j \in Jobs : \/ Enqueue(j) \/ EnqueueBegin(j) \/ EnqueueCommit(j) \/ EnqueueAbort(j)
                     \/ Cancel(j) \/ DlqRetry(j)
    \/ \E w \in Workers : WorkerStep(w)
    \/ MaintenanceStep

(* Workers keep working, deadlines pass, maintenance rescues and promotes, and an open      *)
(* enqueue transaction does not stay open forever (it commits or aborts). Crash, Fail,      *)
(* Cancel, Heartbeat, rotation, prune and DLQ retry need no fairness.                       *)
Fairness ==
    /\ \A w \in Workers : /\ WF_vars(Claim(w)) /\ WF_vars(Complete(w))
                          /\ WF_vars(AdvanceCursor(w)) /\ WF_vars(WriteResult(w))
    /\ WF_vars(Tick) /\ WF_vars(Rescue) /\ WF_vars(Promote)
    /\ \A j \in Jobs : WF_vars(EnqueueCommit(j)) /\ WF_vars(EnqueueAbort(j))

Spec == Init /\ [][Next]_vars
LiveSpec == Spec /\ Fairness

-----------------------------------------------------------------------------
(* Invariants (names shared with spec/invariants.toml, the model and the SQL checks). *)

Attempts == [job : Jobs, lease : Nat]
Steps == [op : {"advance", "result"}, job : Jobs, lease : Nat, seq : Nat]

TypeOK ==
    /\ ring_state \in [queue : QSlotIds, claim : CSlotIds]
    /\ slots \in [queue : [QSlotIds -> SlotStates], claim : [CSlotIds -> SlotStates]]
    /\ slots.queue[ring_state.queue] = "open" /\ slots.claim[ring_state.claim] = "open"
    /\ lanes \in [next_seq : Nat, claim_seq : Nat]
    /\ ready \subseteq [job : Jobs, seq : Nat, slot : QSlotIds, attempt : 1 .. MaxAttempts]
    /\ done \subseteq [job : Jobs, lease : Nat, outcome : {"completed", "cancelled", "dlq"},
                       slot : QSlotIds, result : BOOLEAN]
    /\ claims \subseteq [job : Jobs, lease : Nat, seq : Nat, rslot : QSlotIds,
                         attempt : 1 .. MaxAttempts, worker : Workers, slot : CSlotIds]
    /\ closures \subseteq [job : Jobs, lease : Nat, outcome : {"completed", "retried", "cancelled",
                           "rescued", "dlq"}, slot : CSlotIds, by : Nat]
    /\ \A a \in expired : a \in Attempts
    /\ cancels \subseteq [job : Jobs, slot : QSlotIds]
    /\ deferred \subseteq [job : Jobs, attempt : 1 .. MaxAttempts]
    /\ dlq \subseteq [job : Jobs, attempt : 1 .. MaxAttempts]
    /\ next_lease \in Nat
    /\ DOMAIN held = Workers /\ DOMAIN post = Workers
    /\ \A w \in Workers : /\ \A a \in held[w] : a \in Attempts
                          /\ Cardinality(held[w]) <= 1
                          /\ \A p \in post[w] : p \in Steps
    /\ enqueued \subseteq Jobs /\ terminal \subseteq enqueued
    /\ DOMAIN completed = Jobs /\ DOMAIN tries = Jobs /\ DOMAIN dlq_retries = Jobs
    /\ \A j \in Jobs : /\ \A l \in completed[j] : l \in Nat
                       /\ tries[j] \in Nat /\ dlq_retries[j] \in Nat
    /\ pruned_live \in BOOLEAN
    /\ staged \subseteq Jobs \ enqueued
    /\ staged_seq \subseteq [job : staged, seq : Nat]

\* Every enqueued job that is not terminal is in exactly one live place. (A staged job is not
\* enqueued yet: its transaction may still abort, and nobody can see it.)
LivePlaces(j) ==
    Cardinality({r \in Queued : r.job = j}) + Cardinality({c \in OpenClaims : c.job = j})
        + Cardinality({d \in deferred : d.job = j})
NoLostJob == \A j \in enqueued : j \in terminal \/ LivePlaces(j) = 1

\* A job completes at most once, and nothing claims it after it completed.
NoDuplicateCompletion ==
    \A j \in Jobs :
        /\ Cardinality(completed[j]) <= 1
        /\ \A c \in claims : c.job = j => \A l \in completed[j] : c.lease <= l

SingleOpenAttempt ==
    \A c1, c2 \in OpenClaims : c1.job = c2.job => c1.lease = c2.lease

\* One closure per attempt, next to its claim row, and a worker only closes the attempt it holds.
FencedFinalize ==
    /\ \A x \in closures : x.by \in {0, x.lease}
    /\ \A x, y \in closures : (x.job = y.job /\ x.lease = y.lease) => x = y
    /\ \A x \in closures : \E c \in claims : c.job = x.job /\ c.lease = x.lease /\ c.slot = x.slot

\* No prune truncated anything live, pruned slots hold no rows, and no open attempt's done
\* row would have to land in a pruned queue slot.
PruneSafety ==
    /\ ~pruned_live
    /\ \A r \in ready : slots.queue[r.slot] # "pruned"
    /\ \A d \in done : slots.queue[d.slot] # "pruned"
    /\ \A c \in claims : slots.claim[c.slot] # "pruned"
    /\ \A x \in closures : slots.claim[x.slot] # "pruned"
    /\ \A c \in OpenClaims : slots.queue[c.rslot] # "pruned"

\* Within the lane, later claims take later lane_seq: priority, then FIFO by commit within a
\* lane (lane_seq is allocated at commit, so lane_seq order = commit order).
ClaimOrder == \A c1, c2 \in claims : c1.lease < c2.lease => c1.seq < c2.seq

\* next_seq - claim_seq = ready rows at or past the cursor (ADR 0001).
CountersMatch ==
    /\ lanes.claim_seq <= lanes.next_seq
    /\ Cardinality({r \in ready : r.seq >= lanes.claim_seq}) = lanes.next_seq - lanes.claim_seq

AttemptLimitRespected == \A j \in Jobs : tries[j] <= MaxAttempts

\* A completed done row carries its result unless its writer is still about to store it.
TerminalHasResult ==
    \A d \in done :
        \/ d.result
        \/ \E w \in Workers : \E p \in post[w] : p.op = "result" /\ p.job = d.job /\ p.lease = d.lease

EventuallyTerminal == \A j \in Jobs : (j \in enqueued) ~> (j \in terminal)
=============================================================================
