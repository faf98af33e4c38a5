-- rotate (TLA+ RotateQueue / RotateClaim): seal the ring's current slot and open the next one.
-- Refuses (RQ002) when the next slot is not 'pruned' (still holds history or live rows).
-- The ring's advisory lock is taken EXCLUSIVE (with lock_timeout, -> 55P03): it waits for the
-- in-flight writers of the current slot, so nothing is appended to a slot once it is sealed.
--
-- Lock order: (1) advisory: ring EXCLUSIVE  (2) ring_state row, then slots rows FOR UPDATE.
CREATE FUNCTION {schema}.rotate(p_ring text, p_lock_timeout_ms integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    rs      {schema}.ring_state%ROWTYPE;
    v_next  integer;
    v_state text;
BEGIN
    PERFORM {schema}._need_read_committed('rotate');
    PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
    PERFORM pg_advisory_xact_lock(hashtext({schema_name}), {schema}._ring_key(p_ring));
    SELECT * INTO rs FROM {schema}.ring_state WHERE ring = p_ring FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'unknown ring ' || p_ring;
    END IF;
    v_next := (rs.current_slot + 1) % rs.slot_count;
    PERFORM 1 FROM {schema}.slots s
    WHERE s.ring = p_ring AND s.slot IN (rs.current_slot, v_next) ORDER BY s.slot FOR UPDATE;
    SELECT s.state INTO v_state FROM {schema}.slots s WHERE s.ring = p_ring AND s.slot = v_next;
    IF v_state <> 'pruned' THEN
        RAISE EXCEPTION USING ERRCODE = 'RQ002',
            MESSAGE = format('cannot rotate the %s ring: its next slot %s is %s, not pruned yet',
                             p_ring, v_next, v_state),
            HINT = 'prune the oldest sealed slot first';
    END IF;
    UPDATE {schema}.slots SET state = 'sealed' WHERE ring = p_ring AND slot = rs.current_slot;
    UPDATE {schema}.slots SET state = 'open', generation = rs.generation + 1
    WHERE ring = p_ring AND slot = v_next;
    UPDATE {schema}.ring_state SET current_slot = v_next, generation = rs.generation + 1
    WHERE ring = p_ring;
    RETURN v_next;
END
$$;
