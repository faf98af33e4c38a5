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

-- Exponential backoff with jitter; p_backoff = ARRAY[base, factor, cap, jitter] (see backoff.py).
CREATE FUNCTION {schema}.backoff_delay(p_attempt integer, p_backoff float8[])
RETURNS float8 LANGUAGE sql VOLATILE AS $$
    SELECT least(p_backoff[3], p_backoff[1] * power(p_backoff[2], greatest(p_attempt - 1, 0)))
           * (1 - p_backoff[4] * random())
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

-- Append one ready row to the current queue slot. Caller holds the queue-ring advisory lock
-- (shared) and, in lane_id order, the lane row lock (this UPDATE re-takes it without waiting).
CREATE FUNCTION {schema}._append_ready(
    p_now timestamptz, p_lane integer, p_job_id bigint, p_queue text, p_priority integer,
    p_task text, p_payload jsonb, p_attempt integer, p_max_attempts integer, p_dedup_key text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_slot integer;
    v_seq  bigint;
BEGIN
    SELECT current_slot INTO v_slot FROM {schema}.ring_state WHERE ring = 'queue';
    UPDATE {schema}.lanes SET next_seq = next_seq + 1 WHERE lane_id = p_lane
    RETURNING next_seq - 1 INTO v_seq;
    INSERT INTO {schema}.ready (slot, job_id, lane_id, lane_seq, queue, priority, task, payload,
                                attempt, max_attempts, enqueued_at, dedup_key)
    VALUES (v_slot, p_job_id, p_lane, v_seq, p_queue, p_priority, p_task, p_payload,
            p_attempt, p_max_attempts, p_now, p_dedup_key);
    -- Wake LISTENing workers (per row, but NOTIFY folds identical notifications of one
    -- transaction into one); taken last, its cluster-wide lock at commit.
    IF current_setting('ringq.notify', true) IS DISTINCT FROM 'off' THEN
        PERFORM pg_notify('ringq_' || md5({schema_name}), '');
    END IF;
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
        PERFORM {schema}._append_ready(p_now, c.lane_id, r.job_id, r.queue, r.priority, r.task,
                                       r.payload, c.attempt + 1, r.max_attempts, r.dedup_key);
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
                     AND NOT EXISTS (SELECT 1 FROM {schema}.closures x
                                     WHERE x.job_id = c.job_id AND x.run_lease = c.run_lease
                                       AND x.slot = c.slot))
        OR EXISTS (SELECT 1 FROM {schema}.ready r JOIN {schema}.lanes l ON l.lane_id = r.lane_id
                   WHERE r.job_id = p_job_id AND r.lane_seq >= l.claim_seq
                     AND NOT EXISTS (SELECT 1 FROM {schema}.cancels k WHERE k.job_id = r.job_id))
$$;
