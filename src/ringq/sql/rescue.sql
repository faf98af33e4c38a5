-- rescue (TLA+ Rescue): every open attempt whose effective deadline (max of its claim row and
-- heartbeats) is before now gets closure 'rescued', then is re-enqueued (attempt+1), deferred by
-- backoff, or dead-lettered when exhausted — all in this one transaction. Returns how many.
--
-- Only deadlines at or after (horizon - p_margin) are read, through the deadline indexes of
-- claims and heartbeats: attempts whose effective deadline is older were examined by an earlier
-- rescue (which then moved the horizon to its `now`). The margin absorbs clock skew between
-- the processes that write deadlines and the one that rescues; a NULL horizon scans everything.
--
-- Late-committing claims (issue 13, ADR 0012): rescue takes the claim ring's advisory lock
-- EXCLUSIVE, so every claim transaction in flight has committed (or aborted) before rescue reads
-- the claims, and none commits until rescue has committed its new horizon; a claim reads the
-- horizon after its SHARED lock and stamps deadline >= horizon (claim.sql), so a claim whose
-- clock was read long before (stalled before its transaction) is still inside every later scan.
-- Busy lanes (issue 13): every lock wait is bounded (_bound_lock_wait: 55P03, MaintenanceBusy),
-- and the lanes of the expired attempts are locked SKIP LOCKED: an attempt whose lane another
-- transaction holds is left for the next call (the horizon then stays), the others are rescued.
--
-- Lock order: (1) advisory: queue ring SHARED, claim ring EXCLUSIVE  (2) rescue_state row FOR
--             UPDATE (serialises rescuers)  (3) lanes of the expired attempts FOR UPDATE SKIP
--             LOCKED in lane_id order  (4) closures insert in run_lease order, ready / done
--             insert  (5) deferred / dlq  (6) pg_notify for re-enqueued rows
--             (_append_ready_rows; cluster-wide notify lock at commit; off when ringq.notify =
--             'off').
CREATE FUNCTION {schema}.rescue(p_now timestamptz, p_backoff float8[], p_limit integer, p_margin float8)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_from    timestamptz;
    v_expired bigint[][];
    v_n       integer := 0;
    v_locked  bigint[];
    v_skipped boolean := false;
    i         integer;
BEGIN
    PERFORM {schema}._need_read_committed('rescue');
    PERFORM {schema}._bound_lock_wait();
    PERFORM {schema}._lock_ring_shared('queue');
    -- no claim in flight while we read claims and move the horizon (ADR 0012)
    PERFORM pg_advisory_xact_lock(hashtext({schema_name}), {schema}._ring_key('claim'));
    SELECT coalesce(horizon - make_interval(secs => p_margin), '-infinity') INTO v_from
    FROM {schema}.rescue_state FOR UPDATE;

    -- Candidates: claim rows or heartbeats whose deadline fell in [v_from, now); expired means
    -- open and no heartbeat reaching now.
    SELECT coalesce(array_agg(ARRAY[x.job_id, x.run_lease, x.lane_id] ORDER BY x.run_lease),
                    ARRAY[]::bigint[])
    INTO v_expired
    FROM (
        SELECT e.job_id, e.run_lease, e.lane_id
        FROM (
            SELECT c.job_id, c.run_lease, c.lane_id::bigint AS lane_id FROM {schema}.claims c
            WHERE c.deadline >= v_from AND c.deadline < p_now
            UNION
            SELECT c.job_id, c.run_lease, c.lane_id::bigint FROM {schema}.heartbeats h
            JOIN {schema}.claims c
              ON c.slot = h.slot AND c.job_id = h.job_id AND c.run_lease = h.run_lease
            WHERE h.deadline >= v_from AND h.deadline < p_now AND c.deadline < p_now
        ) e
        WHERE NOT EXISTS ({closure_of_e})
          AND NOT EXISTS (SELECT 1 FROM {schema}.heartbeats h
                          WHERE h.job_id = e.job_id AND h.run_lease = e.run_lease
                            AND h.deadline >= p_now)
        ORDER BY e.run_lease
        LIMIT p_limit
    ) x;

    IF cardinality(v_expired) > 0 THEN
        v_locked := ARRAY(SELECT l.lane_id FROM {schema}.lanes l
                          WHERE l.lane_id IN (SELECT v_expired[k][3] FROM generate_subscripts(v_expired, 1) k)
                          ORDER BY l.lane_id FOR UPDATE SKIP LOCKED);
        FOR i IN 1 .. array_length(v_expired, 1) LOOP
            IF NOT v_expired[i][3] = ANY (v_locked) THEN
                v_skipped := true;  -- its lane is busy: the next call
                CONTINUE;
            END IF;
            IF {schema}._settle(p_now, v_expired[i][1], v_expired[i][2], true, 'lease expired', NULL,
                                NULL, false, p_backoff) NOT LIKE 'lost:%' THEN
                v_n := v_n + 1;
            END IF;
        END LOOP;
    END IF;
    -- A full batch may have left expired attempts behind: keep the horizon for the next call.
    -- ... and so may a busy lane.
    IF coalesce(array_length(v_expired, 1), 0) < p_limit AND NOT v_skipped THEN
        UPDATE {schema}.rescue_state SET horizon = p_now;
    END IF;
    RETURN v_n;
END
$$;
