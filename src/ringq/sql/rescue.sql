-- rescue (TLA+ Rescue): every open attempt whose effective deadline (max of its claim row and
-- heartbeats) is before now gets closure 'rescued', then is re-enqueued (attempt+1), deferred by
-- backoff, or dead-lettered when exhausted — all in this one transaction. Returns how many.
--
-- Lock order: (1) advisory: queue ring SHARED  (3) lanes of the expired attempts FOR UPDATE in
--             lane_id order  (4) closures insert in run_lease order, ready / done insert
--             (5) deferred / dlq insert.
CREATE FUNCTION {schema}.rescue(p_now timestamptz, p_backoff float8[], p_limit integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_expired bigint[][];
    v_n       integer := 0;
    i         integer;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext({schema_name}), 1);
    SELECT coalesce(array_agg(ARRAY[e.job_id, e.run_lease, e.lane_id] ORDER BY e.run_lease),
                    ARRAY[]::bigint[])
    INTO v_expired
    FROM (
        SELECT c.job_id, c.run_lease, c.lane_id::bigint AS lane_id FROM {schema}.claims c
        WHERE c.deadline < p_now
          AND NOT EXISTS (SELECT 1 FROM {schema}.closures x
                          WHERE x.job_id = c.job_id AND x.run_lease = c.run_lease AND x.slot = c.slot)
          AND NOT EXISTS (SELECT 1 FROM {schema}.heartbeats h
                          WHERE h.job_id = c.job_id AND h.run_lease = c.run_lease
                            AND h.slot = c.slot AND h.deadline >= p_now)
        ORDER BY c.run_lease
        LIMIT p_limit
    ) e;
    IF cardinality(v_expired) = 0 THEN
        RETURN 0;
    END IF;

    PERFORM 1 FROM {schema}.lanes l
    WHERE l.lane_id IN (SELECT v_expired[k][3] FROM generate_subscripts(v_expired, 1) k)
    ORDER BY l.lane_id FOR UPDATE;

    FOR i IN 1 .. array_length(v_expired, 1) LOOP
        IF {schema}._settle(p_now, v_expired[i][1], v_expired[i][2], true, 'lease expired', NULL,
                            NULL, false, p_backoff) NOT LIKE 'lost:%' THEN
            v_n := v_n + 1;
        END IF;
    END LOOP;
    RETURN v_n;
END
$$;
