-- enqueue (TLA+ Enqueue; with p_staged: EnqueueBegin): a batch of jobs in ONE statement,
-- atomically. Rows with a future run_at go to `deferred`. A row whose (queue, dedup_key) names a
-- live job (queued/deferred/running) is not inserted: its id is that job's id. Two rows of one
-- batch with the same key get the first row's id. Needs READ COMMITTED (RQ005 otherwise): the
-- current slot and the lanes must be read from the latest committed state.
--
-- Rows due now:
--   p_staged = false (ringq owns the transaction, which commits right after this statement):
--     appended to the current queue slot with their lane_seq (_append_ready_rows).
--   p_staged = true (the caller's transaction, which may stay open for long): written to the
--     unlogged `staged` table only. No lane lock, no ring lock: an open caller transaction stalls
--     no other enqueue, claim or maintenance. At COMMIT the deferred trigger _enqueue_commit
--     (enqueue_commit.sql) sequences them into the ready ring; a rollback or a killed backend
--     discards them (ADR 0011).
--
-- Lock order: (1) advisory: queue ring SHARED (not staged), then dedup keys in hash order
--             (3) lanes (_lock_lanes, not staged)  (4) ready insert (not staged) or staged insert
--             (5) deferred / dedup rows  (6) pg_notify, once per statement (its cluster-wide lock
--             is taken at commit, after every lock above).
-- NOTIFY wakes LISTENing workers on 'ringq_' || md5(schema) when a row becomes claimable now
-- (for staged rows: delivered at commit, like every NOTIFY); off when ringq.notify is 'off'.
CREATE FUNCTION {schema}.enqueue(
    p_now timestamptz, p_tasks text[], p_queues text[], p_priorities integer[], p_payloads text[],
    p_max_attempts integer[], p_run_ats timestamptz[], p_dedup_keys text[], p_staged boolean)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    v_n    integer := cardinality(p_tasks);
    v_ids  bigint[];
    v_new  boolean[];
    v_first bigint[];
    v_live  bigint[];
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'RQ005',
            MESSAGE = 'ringq enqueue needs a READ COMMITTED transaction, not '
                      || upper(current_setting('transaction_isolation')),
            HINT = 'enqueue in a READ COMMITTED transaction (the PostgreSQL default)';
    END IF;
    IF NOT p_staged THEN
        PERFORM {schema}._lock_ring_shared('queue');
    END IF;

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

    IF p_staged THEN
        INSERT INTO {schema}.staged (job_id, queue, priority, task, payload, max_attempts,
                                     enqueued_at, dedup_key)
        SELECT t.id, t.q, t.p, t.task, t.payload::jsonb, t.max_attempts, p_now, t.k
        FROM unnest(v_ids, p_tasks, p_queues, p_priorities, p_payloads, p_max_attempts, p_run_ats,
                    p_dedup_keys, v_new) WITH ORDINALITY
             AS t(id, task, q, p, payload, max_attempts, ra, k, nw, o)
        WHERE t.nw AND (t.ra IS NULL OR t.ra <= p_now)
        ORDER BY t.o;
    ELSE
        PERFORM {schema}._append_ready_rows(
            p_now, array_agg(t.id ORDER BY t.o), array_agg(t.q ORDER BY t.o),
            array_agg(t.p ORDER BY t.o), array_agg(t.task ORDER BY t.o),
            array_agg(t.payload::jsonb ORDER BY t.o), array_agg(1 ORDER BY t.o),
            array_agg(t.max_attempts ORDER BY t.o), array_agg(t.k ORDER BY t.o))
        FROM unnest(v_ids, p_tasks, p_queues, p_priorities, p_payloads, p_max_attempts, p_run_ats,
                    p_dedup_keys, v_new) WITH ORDINALITY
             AS t(id, task, q, p, payload, max_attempts, ra, k, nw, o)
        WHERE t.nw AND (t.ra IS NULL OR t.ra <= p_now);
    END IF;

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

    -- Staged rows: ONE pg_notify per statement, delivered only if the caller commits (the
    -- direct path notified in _append_ready_rows; deferred rows are announced by promote).
    IF p_staged AND current_setting('ringq.notify', true) IS DISTINCT FROM 'off'
       AND EXISTS (SELECT 1 FROM unnest(p_run_ats, v_new) AS t(ra, nw)
                   WHERE t.nw AND (t.ra IS NULL OR t.ra <= p_now)) THEN
        PERFORM pg_notify('ringq_' || md5({schema_name}), '');
    END IF;
    RETURN v_ids;
END
$$;
