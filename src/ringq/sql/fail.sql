-- fail (TLA+ Fail): close each attempt as 'retried' (new ready row attempt+1 now, or a deferred
-- row after backoff) or 'dlq' (attempts exhausted or dead_letter: dlq row + terminal row).
-- Returns one outcome per item in input order: 'retried' | 'dlq' | 'lost:<closure|missing>'.
--
-- Lock order: (1) advisory: queue ring SHARED  (3) lanes of all items FOR UPDATE in lane_id
--             order  (4) closures insert in run_lease order, ready / done insert
--             (5) deferred / dlq insert  (6) pg_notify for retries due now (_append_ready_rows;
--             cluster-wide notify lock at commit; off when ringq.notify = 'off').
CREATE FUNCTION {schema}.fail(
    p_now timestamptz, p_job_ids bigint[], p_run_leases bigint[], p_errors text[],
    p_tracebacks text[], p_delays float8[], p_dead_letters boolean[], p_backoff float8[])
RETURNS TABLE (job_id bigint, run_lease bigint, outcome text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    item record;
    v_out text[] := array_fill(NULL::text, ARRAY[cardinality(p_job_ids)]);
BEGIN
    PERFORM {schema}._need_read_committed('fail');
    PERFORM {schema}._bound_lock_wait();  -- 55P03 (MaintenanceBusy) on a held lane
    PERFORM {schema}._lock_ring_shared('queue');
    PERFORM 1 FROM {schema}.lanes l
    WHERE l.lane_id IN (SELECT c.lane_id FROM unnest(p_job_ids, p_run_leases) AS t(j, r)
                        CROSS JOIN LATERAL (SELECT c.lane_id FROM {schema}.claims c
                                            WHERE c.job_id = t.j AND c.run_lease = t.r LIMIT 1) c)
    ORDER BY l.lane_id FOR UPDATE;

    FOR item IN
        SELECT * FROM unnest(p_job_ids, p_run_leases, p_errors, p_tracebacks, p_delays, p_dead_letters)
             WITH ORDINALITY AS t(j, r, err, tb, delay, dead, o)
        ORDER BY t.r
    LOOP
        v_out[item.o] := {schema}._settle(p_now, item.j, item.r, false, item.err, item.tb,
                                          item.delay, coalesce(item.dead, false), p_backoff);
    END LOOP;

    RETURN QUERY
    SELECT t.j, t.r, v_out[t.o::integer]
    FROM unnest(p_job_ids, p_run_leases) WITH ORDINALITY AS t(j, r, o) ORDER BY t.o;
END
$$;
