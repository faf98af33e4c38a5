-- dlq retry (TLA+ DlqRetry): move dead-lettered jobs back into the current ready slot with a
-- fresh attempt budget (attempt 1). Selection: p_job_ids, or every job of p_queue, or all.
--
-- Lock order: (1) advisory: queue ring SHARED  (3) missing lanes created in (queue, priority)
--             order, then lanes FOR UPDATE in lane_id order
--             (4) ready insert  (5) dlq delete
--             (6) pg_notify when a row moved (cluster-wide notify lock at commit; off when
--             ringq.notify = 'off').
CREATE FUNCTION {schema}.dlq_retry(p_now timestamptz, p_job_ids bigint[], p_queue text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_ids   bigint[];
    v_lanes integer[];
    v_slot  integer;
    v_n     integer;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext({schema_name}), 1);
    v_ids := ARRAY(SELECT q.job_id FROM {schema}.dlq q
                   WHERE (p_job_ids IS NULL OR q.job_id = ANY (p_job_ids))
                     AND (p_queue IS NULL OR q.queue = p_queue));
    IF cardinality(v_ids) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM {schema}._ensure_lanes(array_agg(q.queue), array_agg(q.priority))
    FROM {schema}.dlq q WHERE q.job_id = ANY (v_ids);
    v_lanes := ARRAY(SELECT l.lane_id FROM {schema}.lanes l
                     WHERE (l.queue, l.priority) IN (SELECT q.queue, q.priority
                                                     FROM {schema}.dlq q WHERE q.job_id = ANY (v_ids)));
    PERFORM 1 FROM {schema}.lanes l WHERE l.lane_id = ANY (v_lanes) ORDER BY l.lane_id FOR UPDATE;
    SELECT current_slot INTO v_slot FROM {schema}.ring_state WHERE ring = 'queue';

    WITH moved AS (
        DELETE FROM {schema}.dlq q WHERE q.job_id = ANY (v_ids) RETURNING q.*
    ), items AS (
        SELECT m.*, l.lane_id,
               row_number() OVER (PARTITION BY l.lane_id ORDER BY m.job_id) AS rn
        FROM moved m JOIN {schema}.lanes l ON l.queue = m.queue AND l.priority = m.priority
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
               i.payload, 1, i.max_attempts, p_now, i.dedup_key
        FROM items i JOIN alloc ON alloc.lane_id = i.lane_id
        RETURNING 1
    )
    SELECT count(*) INTO v_n FROM ins;
    IF v_n > 0 AND current_setting('ringq.notify', true) IS DISTINCT FROM 'off' THEN
        PERFORM pg_notify('ringq_' || md5({schema_name}), '');
    END IF;
    RETURN v_n;
END
$$;
