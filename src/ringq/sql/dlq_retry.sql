-- dlq retry (TLA+ DlqRetry): move dead-lettered jobs back into the current ready slot with a
-- fresh attempt budget (attempt 1). Selection: p_job_ids, or every job of p_queue, or all.
--
-- Lock order: (1) advisory: queue ring SHARED  (3) the selected jobs' lanes (_lock_lanes)
--             (5) dlq delete  (4) ready insert and (6) pg_notify (_append_ready_rows, which
--             re-takes the held lanes without waiting).
CREATE FUNCTION {schema}.dlq_retry(p_now timestamptz, p_job_ids bigint[], p_queue text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
    m     record;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext({schema_name}), 1);
    v_ids := ARRAY(SELECT q.job_id FROM {schema}.dlq q
                   WHERE (p_job_ids IS NULL OR q.job_id = ANY (p_job_ids))
                     AND (p_queue IS NULL OR q.queue = p_queue));
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
    RETURN {schema}._append_ready_rows(p_now, m.ids, m.queues, m.priorities, m.tasks, m.payloads,
                                       m.attempts, m.max_attempts, m.keys);
END
$$;
