-- enqueue (TLA+ Enqueue): append a batch of jobs in ONE statement, atomically.
-- Rows due now go to the current queue slot; rows with a future run_at go to `deferred`.
-- A row whose (queue, dedup_key) names a live job (queued/deferred/running) is not inserted: its
-- id is that job's id. Two rows of one batch with the same key get the first row's id.
--
-- Lock order: (1) advisory: queue ring SHARED, then dedup keys in hash order
--             (2) ring_state read (no row lock)  (3) missing lanes created in (queue, priority)
--             order, then lanes rows FOR UPDATE in lane_id order
--             (4) ready insert  (5) deferred / dedup rows
--             (6) pg_notify, once per statement (its cluster-wide lock is taken at commit,
--             after every lock above).
-- The lane row lock is held until commit (ADR 0001): lane_seq order = commit order.
-- NOTIFY wakes LISTENing workers (Worker(listen=True)) on 'ringq_' || md5(schema) when a row
-- became claimable now; off when the setting ringq.notify is 'off' (ALTER ROLE ... SET).
CREATE FUNCTION {schema}.enqueue(
    p_now timestamptz, p_tasks text[], p_queues text[], p_priorities integer[], p_payloads text[],
    p_max_attempts integer[], p_run_ats timestamptz[], p_dedup_keys text[])
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    v_n    integer := cardinality(p_tasks);
    v_ids  bigint[];
    v_new  boolean[];
    v_first bigint[];
    v_live  bigint[];
    v_slot integer;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext({schema_name}), 1);

    IF NOT EXISTS (SELECT 1 FROM unnest(p_dedup_keys) k WHERE k IS NOT NULL) THEN
        v_ids := ARRAY(SELECT nextval({job_id_seq}) FROM generate_series(1, v_n));
        v_new := array_fill(true, ARRAY[v_n]);
    ELSE
        PERFORM pg_advisory_xact_lock(hashtext({schema_name} || '/dedup'), h)
        FROM (SELECT DISTINCT hashtext(q || '/' || k) AS h
              FROM unnest(p_queues, p_dedup_keys) AS t(q, k)
              WHERE k IS NOT NULL ORDER BY 1) keys;
        -- Per row: the first row of the batch with its (queue, key), and the live job holding
        -- that key (if any). Then: a live job's id, a new id (first occurrence), or the first
        -- occurrence's id (later duplicates).
        SELECT array_agg(t.first ORDER BY t.o), array_agg(live.job_id ORDER BY t.o)
        INTO v_first, v_live
        FROM (SELECT u.o, u.q, u.k, min(u.o) OVER (PARTITION BY u.q, u.k) AS first
              FROM unnest(p_queues, p_dedup_keys) WITH ORDINALITY AS u(q, k, o)) t
        LEFT JOIN {schema}.dedup d ON t.k IS NOT NULL AND d.queue = t.q AND d.dedup_key = t.k
        LEFT JOIN LATERAL (SELECT d.job_id WHERE {schema}._job_live(d.job_id)) live ON true;
        v_new := ARRAY(SELECT t.k IS NULL OR (t.first = t.o AND t.lv IS NULL)
                       FROM unnest(p_dedup_keys, v_first, v_live) WITH ORDINALITY AS t(k, first, lv, o)
                       ORDER BY t.o);
        v_ids := ARRAY(SELECT CASE WHEN t.nw THEN nextval({job_id_seq}) ELSE t.lv END
                       FROM unnest(v_new, v_live) WITH ORDINALITY AS t(nw, lv, o) ORDER BY t.o);
        v_ids := ARRAY(SELECT coalesce(v_ids[t.o], v_ids[t.first])
                       FROM unnest(v_first) WITH ORDINALITY AS t(first, o) ORDER BY t.o);
    END IF;

    SELECT current_slot INTO v_slot FROM {schema}.ring_state WHERE ring = 'queue';

    -- Lanes of the rows due now: create missing ones, then lock all in lane_id order.
    PERFORM {schema}._ensure_lanes(array_agg(t.q), array_agg(t.p))
    FROM unnest(p_queues, p_priorities, p_run_ats, v_new) AS t(q, p, ra, nw)
    WHERE t.nw AND (t.ra IS NULL OR t.ra <= p_now);
    PERFORM 1 FROM {schema}.lanes l
    WHERE (l.queue, l.priority) IN (
        SELECT t.q, t.p FROM unnest(p_queues, p_priorities, p_run_ats, v_new) AS t(q, p, ra, nw)
        WHERE t.nw AND (t.ra IS NULL OR t.ra <= p_now))
    ORDER BY l.lane_id FOR UPDATE;

    WITH items AS (
        SELECT t.*, l.lane_id,
               row_number() OVER (PARTITION BY l.lane_id ORDER BY t.o) AS rn
        FROM unnest(v_ids, p_tasks, p_queues, p_priorities, p_payloads, p_max_attempts, p_run_ats,
                    p_dedup_keys, v_new) WITH ORDINALITY
             AS t(id, task, q, p, payload, max_attempts, ra, k, nw, o)
        JOIN {schema}.lanes l ON l.queue = t.q AND l.priority = t.p
        WHERE t.nw AND (t.ra IS NULL OR t.ra <= p_now)
    ), counts AS (
        SELECT lane_id, count(*) AS n FROM items GROUP BY lane_id
    ), alloc AS (
        UPDATE {schema}.lanes l SET next_seq = l.next_seq + counts.n
        FROM counts WHERE l.lane_id = counts.lane_id
        RETURNING l.lane_id, l.next_seq - counts.n AS base
    )
    INSERT INTO {schema}.ready (slot, job_id, lane_id, lane_seq, queue, priority, task, payload,
                                attempt, max_attempts, enqueued_at, dedup_key)
    SELECT v_slot, i.id, i.lane_id, alloc.base + i.rn - 1, i.q, i.p, i.task, i.payload::jsonb,
           1, i.max_attempts, p_now, i.k
    FROM items i JOIN alloc ON alloc.lane_id = i.lane_id;

    INSERT INTO {schema}.deferred (job_id, queue, priority, task, payload, attempt, max_attempts,
                                   run_at, enqueued_at, dedup_key)
    SELECT t.id, t.q, t.p, t.task, t.payload::jsonb, 1, t.max_attempts, t.ra, p_now, t.k
    FROM unnest(v_ids, p_tasks, p_queues, p_priorities, p_payloads, p_max_attempts, p_run_ats,
                p_dedup_keys, v_new) AS t(id, task, q, p, payload, max_attempts, ra, k, nw)
    WHERE t.nw AND t.ra > p_now;

    INSERT INTO {schema}.dedup (queue, dedup_key, job_id)
    SELECT DISTINCT ON (t.q, t.k) t.q, t.k, t.id
    FROM unnest(v_ids, p_queues, p_dedup_keys, v_new) AS t(id, q, k, nw)
    WHERE t.nw AND t.k IS NOT NULL
    ON CONFLICT (queue, dedup_key) DO UPDATE SET job_id = EXCLUDED.job_id;

    -- Wake LISTENing workers: ONE pg_notify per statement, never per row, and only when a row
    -- became claimable now (deferred rows are announced by promote). Committing notifiers
    -- serialise on a cluster-wide lock at commit: one per statement keeps that per transaction.
    IF current_setting('ringq.notify', true) IS DISTINCT FROM 'off'
       AND EXISTS (SELECT 1 FROM unnest(p_run_ats, v_new) AS t(ra, nw)
                   WHERE t.nw AND (t.ra IS NULL OR t.ra <= p_now)) THEN
        PERFORM pg_notify('ringq_' || md5({schema_name}), '');
    END IF;
    RETURN v_ids;
END
$$;
