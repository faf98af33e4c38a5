-- dlq retry (TLA+ DlqRetry): move dead-lettered jobs back into the current ready slot with a
-- fresh attempt budget (attempt 1). Selection: p_job_ids, or every job of p_queue, or all.
-- Dedup keys (issue 13): a job whose (queue, dedup_key) names ANOTHER live job (enqueued with
-- that key while this one was dead-lettered) is skipped: it stays in the DLQ and is not counted
-- (two live jobs never share a key). A retried job with a key takes the key back, so a later
-- enqueue with it is absorbed by the retried job. Returns how many jobs were retried.
--
-- Lock order: (1) advisory: queue ring SHARED, then the dedup keys in hash order (as enqueue)
--             (3) the retried jobs' lanes (_lock_lanes)  (5) dlq delete, dedup upsert
--             (4) ready insert and (6) pg_notify (_append_ready_rows, which re-takes the held
--             lanes without waiting).
CREATE FUNCTION {schema}.dlq_retry(p_now timestamptz, p_job_ids bigint[], p_queue text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
    m     record;
BEGIN
    PERFORM {schema}._need_read_committed('dlq_retry');
    PERFORM {schema}._bound_lock_wait();  -- 55P03 (MaintenanceBusy) on a held lane
    PERFORM {schema}._lock_ring_shared('queue');
    v_ids := ARRAY(SELECT q.job_id FROM {schema}.dlq q
                   WHERE (p_job_ids IS NULL OR q.job_id = ANY (p_job_ids))
                     AND (p_queue IS NULL OR q.queue = p_queue));
    IF cardinality(v_ids) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext({schema_name} || '/dedup'), h)
    FROM (SELECT DISTINCT hashtext(q.queue || '/' || q.dedup_key) AS h FROM {schema}.dlq q
          WHERE q.job_id = ANY (v_ids) AND q.dedup_key IS NOT NULL ORDER BY 1) keys;
    v_ids := ARRAY(SELECT q.job_id FROM {schema}.dlq q WHERE q.job_id = ANY (v_ids)
                   AND NOT EXISTS (SELECT 1 FROM {schema}.dedup d
                                   WHERE d.queue = q.queue AND d.dedup_key = q.dedup_key
                                     AND d.job_id <> q.job_id AND {schema}._job_live(d.job_id)));
    IF cardinality(v_ids) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM {schema}._lock_lanes(array_agg(q.queue), array_agg(q.priority))
    FROM {schema}.dlq q WHERE q.job_id = ANY (v_ids);
    WITH moved AS (
        DELETE FROM {schema}.dlq q WHERE q.job_id = ANY (v_ids) RETURNING q.*
    )
    SELECT array_agg(job_id ORDER BY job_id) AS ids,
           array_agg(queue ORDER BY job_id) AS queues,
           array_agg(priority ORDER BY job_id) AS priorities,
           array_agg(task ORDER BY job_id) AS tasks,
           array_agg(payload ORDER BY job_id) AS payloads,
           array_fill(1, ARRAY[count(*)::integer]) AS attempts,
           array_agg(max_attempts ORDER BY job_id) AS max_attempts,
           array_agg(dedup_key ORDER BY job_id) AS keys
    INTO m FROM moved;
    INSERT INTO {schema}.dedup (queue, dedup_key, job_id)
    SELECT t.q, t.k, t.id FROM unnest(m.queues, m.keys, m.ids) AS t(q, k, id) WHERE t.k IS NOT NULL
    ON CONFLICT (queue, dedup_key) DO UPDATE SET job_id = EXCLUDED.job_id;
    RETURN {schema}._append_ready_rows(p_now, m.ids, m.queues, m.priorities, m.tasks, m.payloads,
                                       m.attempts, m.max_attempts, m.keys);
END
$$;
