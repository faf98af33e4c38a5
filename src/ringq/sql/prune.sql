-- prune (TLA+ PruneQueue / PruneClaim): TRUNCATE the oldest sealed slot of a ring and mark it
-- 'pruned'. The slot's partitions are locked ACCESS EXCLUSIVE NOWAIT FIRST (55P03 when busy),
-- THEN the guard is evaluated under that lock — never check-then-act:
--   queue slot k: every ready row in k has lane_seq < lanes.claim_seq (claimed or cancelled),
--                 and no open attempt has ready_slot = k;
--   claim slot j: no open attempt has its claim row in j.
-- A failed guard raises RQ001 naming a live row; nothing is changed. Returns the slot, or NULL
-- when the ring has no sealed slot.
--
-- Lock order: (2) slots row FOR UPDATE NOWAIT  (4) the slot's partitions ACCESS EXCLUSIVE
--             NOWAIT  (5) cancels delete (queue ring: the slot's cancel markers are history).
CREATE FUNCTION {schema}.prune(p_ring text, p_lock_timeout_ms integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_slot    integer;
    v_blocker text;
BEGIN
    PERFORM {schema}._need_read_committed('prune');
    PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
    SELECT s.slot INTO v_slot FROM {schema}.slots s
    WHERE s.ring = p_ring AND s.state = 'sealed'
    ORDER BY s.generation LIMIT 1
    FOR UPDATE NOWAIT;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    IF p_ring = 'queue' THEN
        EXECUTE format('LOCK TABLE %I.%I, %I.%I IN ACCESS EXCLUSIVE MODE NOWAIT',
                       {schema_name}, 'ready_' || v_slot, {schema_name}, 'done_' || v_slot);
        -- One index probe per lane (not a scan of the slot): its first row at/after the cursor.
        SELECT format('job %s is still queued (lane %s, lane_seq %s >= claim_seq %s)',
                      r.job_id, r.lane_id, r.lane_seq, l.claim_seq)
        INTO v_blocker
        FROM {schema}.lanes l
        CROSS JOIN LATERAL (
            SELECT r.job_id, r.lane_id, r.lane_seq FROM {schema}.ready r
            WHERE r.lane_id = l.lane_id AND r.lane_seq >= l.claim_seq AND r.slot = v_slot
            ORDER BY r.lane_seq LIMIT 1) r
        LIMIT 1;
        IF v_blocker IS NULL THEN
            SELECT format('attempt (job_id=%s, run_lease=%s) is still open', c.job_id, c.run_lease)
            INTO v_blocker
            FROM {schema}.claims c
            WHERE c.ready_slot = v_slot
              AND NOT EXISTS ({closure_of_c})
            LIMIT 1;
        END IF;
        IF v_blocker IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'RQ001',
                MESSAGE = format('cannot prune queue slot %s: %s', v_slot, v_blocker);
        END IF;
        EXECUTE format('TRUNCATE %I.%I, %I.%I',
                       {schema_name}, 'ready_' || v_slot, {schema_name}, 'done_' || v_slot);
        DELETE FROM {schema}.cancels WHERE slot = v_slot;
    ELSE
        EXECUTE format('LOCK TABLE %I.%I, %I.%I, %I.%I IN ACCESS EXCLUSIVE MODE NOWAIT',
                       {schema_name}, 'claims_' || v_slot, {schema_name}, 'closures_' || v_slot,
                       {schema_name}, 'heartbeats_' || v_slot);
        SELECT format('attempt (job_id=%s, run_lease=%s) is still open', c.job_id, c.run_lease)
        INTO v_blocker
        FROM {schema}.claims c
        WHERE c.slot = v_slot
          AND NOT EXISTS ({closure_of_c})
        LIMIT 1;
        IF v_blocker IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'RQ001',
                MESSAGE = format('cannot prune claim slot %s: %s', v_slot, v_blocker);
        END IF;
        EXECUTE format('TRUNCATE %I.%I, %I.%I, %I.%I',
                       {schema_name}, 'claims_' || v_slot, {schema_name}, 'closures_' || v_slot,
                       {schema_name}, 'heartbeats_' || v_slot);
    END IF;
    UPDATE {schema}.slots SET state = 'pruned' WHERE ring = p_ring AND slot = v_slot;
    RETURN v_slot;
END
$$;
