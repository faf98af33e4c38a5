-- promote (TLA+ Promote): move due deferred rows (run_at <= now) into the current ready slot,
-- each with a new lane_seq. At most p_limit rows per call, oldest run_at first.
--
-- Lock order: (1) advisory: queue ring SHARED  (3) the due rows' lanes (_lock_lanes: missing
--             ones created in (queue, priority) order, then FOR UPDATE in lane_id order)
--             (5) deferred delete (a row cancelled meanwhile is skipped)  (4) ready insert and
--             (6) pg_notify (_append_ready_rows, which re-takes the held lanes without waiting).
CREATE FUNCTION {schema}.promote(p_now timestamptz, p_limit integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
    m     record;
BEGIN
    PERFORM {schema}._need_read_committed('promote');
    PERFORM {schema}._bound_lock_wait();  -- 55P03 (MaintenanceBusy) on a held lane
    PERFORM {schema}._lock_ring_shared('queue');
    v_ids := ARRAY(SELECT d.job_id FROM {schema}.deferred d WHERE d.run_at <= p_now
                   ORDER BY d.run_at, d.job_id LIMIT p_limit);
    IF cardinality(v_ids) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM {schema}._lock_lanes(array_agg(d.queue), array_agg(d.priority))
    FROM {schema}.deferred d WHERE d.job_id = ANY (v_ids);
    WITH moved AS (
        DELETE FROM {schema}.deferred d WHERE d.job_id = ANY (v_ids) AND d.run_at <= p_now
        RETURNING d.*
    )
    SELECT array_agg(job_id ORDER BY run_at, job_id) AS ids,
           array_agg(queue ORDER BY run_at, job_id) AS queues,
           array_agg(priority ORDER BY run_at, job_id) AS priorities,
           array_agg(task ORDER BY run_at, job_id) AS tasks,
           array_agg(payload ORDER BY run_at, job_id) AS payloads,
           array_agg(attempt ORDER BY run_at, job_id) AS attempts,
           array_agg(max_attempts ORDER BY run_at, job_id) AS max_attempts,
           array_agg(dedup_key ORDER BY run_at, job_id) AS keys
    INTO m FROM moved;
    RETURN {schema}._append_ready_rows(p_now, m.ids, m.queues, m.priorities, m.tasks, m.payloads,
                                       m.attempts, m.max_attempts, m.keys);
END
$$;
