-- Helpers shared by several transactions. Placeholders: {schema} (identifier),
-- {schema_name} (the schema name as a literal: advisory-lock keys are per schema).
--
-- Advisory keys (two-int form, lock order step 1):
--   (hashtext(schema), 1) queue ring: writers of the current queue slot hold it SHARED,
--   (hashtext(schema), 2) claim ring: claim holds it SHARED; rotate takes either EXCLUSIVE,
--   so a row is only ever appended to a slot that is still open when its writer commits.
-- NOTIFY (last, lock order step 6): a writer that makes a row claimable now runs
--   pg_notify('ringq_' || md5(schema), '') unless the setting ringq.notify is 'off'; its
--   cluster-wide lock is taken at commit, after every lock above.

-- Lock order step 1, the ring writer locks (ADR 0002): one advisory key per (schema, ring).
-- Every writer of a ring's current slot holds its key SHARED until it commits; rotate takes it
-- EXCLUSIVE (under lock_timeout), so a row is only appended to a slot that is still open.
CREATE FUNCTION {schema}._ring_key(p_ring text)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_ring WHEN 'queue' THEN 1 WHEN 'claim' THEN 2 END
$$;

CREATE FUNCTION {schema}._lock_ring_shared(p_ring text)
RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock_shared(hashtext({schema_name}), {schema}._ring_key(p_ring))
$$;

-- Exponential backoff with jitter; p_backoff = ARRAY[base, factor, cap, jitter] (see backoff.py).
-- Saturates at cap and never overflows (issue 13): base * factor^(attempt-1) is only computed
-- when its logarithm is below log(cap), so power() never sees an exponent past the cap (float8
-- overflow, 22003, used to make fail() and every rescue() error from attempt ~310 at factor 10).
CREATE FUNCTION {schema}.backoff_delay(p_attempt integer, p_backoff float8[])
RETURNS float8 LANGUAGE sql VOLATILE AS $$
    SELECT CASE
               WHEN p_backoff[1] <= 0 OR p_backoff[3] <= 0 THEN 0::float8
               WHEN p_backoff[2] <= 1 THEN least(p_backoff[3], p_backoff[1])
               WHEN greatest(p_attempt - 1, 0) * ln(p_backoff[2]) >= ln(p_backoff[3] / p_backoff[1])
                   THEN p_backoff[3]
               ELSE least(p_backoff[3], p_backoff[1] * power(p_backoff[2], greatest(p_attempt - 1, 0)))
           END * (1 - p_backoff[4] * random())
$$;

-- Every ringq transaction needs READ COMMITTED (ADR 0012): its statements must read the latest
-- committed lanes, ring state and claims (a REPEATABLE READ snapshot can predate a lock it then
-- takes: prune's guard, claim's ready range, enqueue's current slot). ringq's own pools force
-- READ COMMITTED per connection; a transaction at another level (a caller's, or a role/database
-- default on a pool ringq did not make) is refused with RQ005 before anything is read.
CREATE FUNCTION {schema}._need_read_committed(p_what text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'RQ005',
            MESSAGE = 'ringq ' || p_what || ' needs a READ COMMITTED transaction, not '
                      || upper(current_setting('transaction_isolation')),
            HINT = 'run ringq''s calls at READ COMMITTED (check default_transaction_isolation)';
    END IF;
END
$$;

-- Bound every later lock wait of this transaction (issue 13, ADR 0012): maintenance (promote,
-- rescue, fail, dlq_retry) never waits unboundedly on a lane or ring lock somebody else holds;
-- it fails with 55P03 (MaintenanceBusy: retry later). A shorter lock_timeout already set stays.
CREATE FUNCTION {schema}._bound_lock_wait()
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_ms integer := 500;
BEGIN
    IF extract(epoch FROM current_setting('lock_timeout')::interval) * 1000 NOT BETWEEN 1 AND v_ms THEN
        PERFORM set_config('lock_timeout', v_ms || 'ms', true);
    END IF;
END
$$;

-- Create the missing lanes among (queue, priority) pairs, in (queue, priority) order. Lanes are
-- never deleted. The order matters: two transactions creating the same two new lanes would
-- otherwise wait on each other's uncommitted key in opposite orders and deadlock
-- (LockOrder.tla, LockOrder.cfg). Every creator calls this before locking any lane row.
CREATE FUNCTION {schema}._ensure_lanes(p_queues text[], p_priorities integer[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO {schema}.lanes (queue, priority)
    SELECT t.q, t.p
    FROM (SELECT DISTINCT u.q, u.p FROM unnest(p_queues, p_priorities) AS u(q, p)) t
    WHERE NOT EXISTS (SELECT 1 FROM {schema}.lanes l WHERE l.queue = t.q AND l.priority = t.p)
    ORDER BY t.q, t.p
    ON CONFLICT (queue, priority) DO NOTHING;
$$;

-- Lock order step 3: create the missing lanes among (queue, priority) pairs, then lock them all
-- FOR UPDATE in lane_id order. Re-taking a lane the transaction already holds does not wait.
CREATE FUNCTION {schema}._lock_lanes(p_queues text[], p_priorities integer[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM {schema}._ensure_lanes(p_queues, p_priorities);
    PERFORM 1 FROM {schema}.lanes l
    WHERE (l.queue, l.priority) IN (SELECT u.q, u.p FROM unnest(p_queues, p_priorities) AS u(q, p))
    ORDER BY l.lane_id FOR UPDATE;
END
$$;

-- Append ready rows to the current queue slot, each with the next lane_seq of its lane, in the
-- order given (lane_seq order = the order of the arrays within a lane), then NOTIFY once. The one
-- place lane_seq is allocated: enqueue (ringq's own transaction), the commit-time sequencing of
-- staged jobs (_enqueue_commit), promote, dlq_retry and the retries of fail/rescue (_settle).
-- Caller holds the queue-ring advisory lock SHARED (lock order step 1); this takes step 3:
-- missing lanes created in (queue, priority) order, then the lanes FOR UPDATE in lane_id order
-- (_lock_lanes). The lane locks are held until the
-- caller commits, so every caller is a transaction ringq owns (never a caller's own).
CREATE FUNCTION {schema}._append_ready_rows(
    p_now timestamptz, p_job_ids bigint[], p_queues text[], p_priorities integer[], p_tasks text[],
    p_payloads jsonb[], p_attempts integer[], p_max_attempts integer[], p_dedup_keys text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_slot integer;
    v_n    integer;
BEGIN
    IF coalesce(cardinality(p_job_ids), 0) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM {schema}._lock_lanes(p_queues, p_priorities);
    SELECT current_slot INTO v_slot FROM {schema}.ring_state WHERE ring = 'queue';

    WITH items AS (
        SELECT t.*, l.lane_id, row_number() OVER (PARTITION BY l.lane_id ORDER BY t.o) AS rn
        FROM unnest(p_job_ids, p_queues, p_priorities, p_tasks, p_payloads, p_attempts,
                    p_max_attempts, p_dedup_keys) WITH ORDINALITY
             AS t(job_id, queue, priority, task, payload, attempt, max_attempts, dedup_key, o)
        JOIN {schema}.lanes l ON l.queue = t.queue AND l.priority = t.priority
    ), counts AS (
        SELECT lane_id, count(*) AS n FROM items GROUP BY lane_id
    ), alloc AS (
        UPDATE {schema}.lanes l SET next_seq = l.next_seq + counts.n
        FROM counts WHERE l.lane_id = counts.lane_id
        RETURNING l.lane_id, l.next_seq - counts.n AS base
    ), ins AS (
        INSERT INTO {schema}.ready (slot, job_id, lane_id, lane_seq, queue, priority, task, payload,
                                    attempt, max_attempts, enqueued_at, dedup_key)
        SELECT v_slot, i.job_id, i.lane_id, alloc.base + i.rn - 1, i.queue, i.priority, i.task,
               i.payload, i.attempt, i.max_attempts, p_now, i.dedup_key
        FROM items i JOIN alloc ON alloc.lane_id = i.lane_id
        RETURNING 1
    )
    SELECT count(*) INTO v_n FROM ins;
    -- Wake LISTENing workers: ONE pg_notify per call (lock order: last; its cluster-wide lock is
    -- taken at commit, after every lock above); off when the setting ringq.notify is 'off'.
    IF v_n > 0 AND current_setting('ringq.notify', true) IS DISTINCT FROM 'off' THEN
        PERFORM pg_notify('ringq_' || md5({schema_name}), '');
    END IF;
    RETURN v_n;
END
$$;

-- How an attempt was closed, or 'missing' when its claim row does not exist (unknown or pruned),
-- or NULL when it is still open. Runs as its own statement: a fresh snapshot sees the winner.
CREATE FUNCTION {schema}._closed_by(p_job_id bigint, p_run_lease bigint)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN c.job_id IS NULL THEN 'missing'
        ELSE (SELECT x.outcome FROM {schema}.closures x
              WHERE x.job_id = c.job_id AND x.run_lease = c.run_lease AND x.slot = c.slot)
    END
    FROM (SELECT 1) one
    LEFT JOIN {schema}.claims c ON c.job_id = p_job_id AND c.run_lease = p_run_lease
$$;

-- Close an open attempt as failed (fail) or rescued (rescue), then retry it now, defer it by
-- backoff, or dead-letter it when its attempts are exhausted — all in the caller's transaction.
-- Returns 'retried' | 'dlq', or 'lost:<closure>' when another closer won (nothing changed).
-- Caller holds (1) the queue-ring advisory lock shared and (3) the attempt's lane row lock.
CREATE FUNCTION {schema}._settle(
    p_now timestamptz, p_job_id bigint, p_run_lease bigint, p_rescue boolean, p_error text,
    p_traceback text, p_delay float8, p_dead_letter boolean, p_backoff float8[])
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c         {schema}.claims%ROWTYPE;
    r         {schema}.ready%ROWTYPE;
    v_outcome text;
    v_delay   float8;
    v_won     integer;
BEGIN
    SELECT * INTO c FROM {schema}.claims WHERE job_id = p_job_id AND run_lease = p_run_lease;
    IF NOT FOUND THEN
        RETURN 'lost:missing';
    END IF;
    SELECT * INTO r FROM {schema}.ready
    WHERE slot = c.ready_slot AND lane_id = c.lane_id AND lane_seq = c.lane_seq;
    IF NOT FOUND THEN  -- only possible once the attempt is closed and its queue slot pruned
        RETURN 'lost:' || coalesce({schema}._closed_by(p_job_id, p_run_lease), 'missing');
    END IF;
    IF p_dead_letter OR c.attempt >= r.max_attempts THEN
        v_outcome := 'dlq';
    ELSE
        v_outcome := 'retried';
        v_delay := coalesce(p_delay, {schema}.backoff_delay(c.attempt, p_backoff));
    END IF;

    -- The fencing point: exactly one closer inserts this key.
    INSERT INTO {schema}.closures (slot, job_id, run_lease, lane_id, outcome, error, closed_at)
    VALUES (c.slot, c.job_id, c.run_lease, c.lane_id, CASE WHEN p_rescue THEN 'rescued' ELSE v_outcome END,
            p_error, p_now)
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_won = ROW_COUNT;
    IF v_won = 0 THEN
        RETURN 'lost:' || coalesce({schema}._closed_by(p_job_id, p_run_lease), 'missing');
    END IF;

    IF v_outcome = 'dlq' THEN
        INSERT INTO {schema}.done (slot, job_id, queue, run_lease, outcome, error, finished_at)
        VALUES (c.ready_slot, c.job_id, r.queue, c.run_lease, 'dlq', p_error, p_now);
        INSERT INTO {schema}.dlq (job_id, queue, priority, task, payload, attempt, max_attempts,
                                  error, traceback, failed_at, dedup_key)
        VALUES (r.job_id, r.queue, r.priority, r.task, r.payload, c.attempt, r.max_attempts,
                p_error, p_traceback, p_now, r.dedup_key);
    ELSIF v_delay > 0 THEN
        INSERT INTO {schema}.deferred (job_id, queue, priority, task, payload, attempt,
                                       max_attempts, run_at, enqueued_at, dedup_key)
        VALUES (r.job_id, r.queue, r.priority, r.task, r.payload, c.attempt + 1, r.max_attempts,
                p_now + make_interval(secs => v_delay), p_now, r.dedup_key);
    ELSE
        PERFORM {schema}._append_ready_rows(p_now, ARRAY[r.job_id], ARRAY[r.queue], ARRAY[r.priority],
                                            ARRAY[r.task], ARRAY[r.payload], ARRAY[c.attempt + 1],
                                            ARRAY[r.max_attempts], ARRAY[r.dedup_key]);
    END IF;
    RETURN v_outcome;
END
$$;

-- Is the job queued, deferred or running? (dedup: only a live job absorbs a new enqueue)
CREATE FUNCTION {schema}._job_live(p_job_id bigint)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM {schema}.deferred d WHERE d.job_id = p_job_id)
        OR EXISTS (SELECT 1 FROM {schema}.claims c
                   WHERE c.job_id = p_job_id
                     AND NOT EXISTS ({closure_of_c}))
        OR EXISTS (SELECT 1 FROM {schema}.ready r JOIN {schema}.lanes l ON l.lane_id = r.lane_id
                   WHERE r.job_id = p_job_id AND r.lane_seq >= l.claim_seq
                     AND NOT EXISTS (SELECT 1 FROM {schema}.cancels k WHERE k.job_id = r.job_id))
$$;
