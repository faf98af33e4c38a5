-- claim (TLA+ Claim): take up to p_limit ready rows, most urgent lane first, in lane_seq order.
-- Lanes are locked FOR UPDATE SKIP LOCKED (a lane busy with an enqueue or another claimer is
-- skipped, never waited on); each lane's ready range is read by a LATER statement, whose fresh
-- READ COMMITTED snapshot sees every enqueue below next_seq committed (ADR 0001).
-- Rows listed in `cancels` are passed over and do not count against p_limit. Each claimed row gets a claim row with a fresh global
-- run_lease and deadline = now + lease in the CURRENT claim slot; the lane cursor then advances.
--
-- Busy lane: when SKIP LOCKED finds no lane and no lane is locked yet, but a plain read shows a
-- skipped lane with committed backlog (next_seq > claim_seq), claim WAITS for that one lane's row
-- lock, at most 50 ms (lock_timeout, inside a subtransaction; on timeout it returns what it has,
-- i.e. nothing). The holder is normally an enqueue between its allocation and its commit (ADR
-- 0001); skipping it turned a steady producer into a stream of empty claims. The claim holds no
-- lane lock while it waits, so it waits in lane order trivially; the ready range is still read by
-- a later statement.
--
-- Deadline: now + lease, but never before the rescue horizon (issue 13, ADR 0012): rescue takes
-- the claim ring EXCLUSIVE, so the horizon read after our SHARED lock stays until we commit, and
-- a claim whose clock was read before a rescue moved the horizon past now + lease is still seen
-- (and rescued) by the next rescue instead of staying open for ever.
--
-- Lock order: (1) advisory: claim ring SHARED  (2) ring_state and rescue_state read  (3) lanes rows, SKIP LOCKED;
--             the first lane only, if every lane with work was skipped: FOR UPDATE, lock_timeout
--             50 ms  (4) ready read, claims insert.
CREATE FUNCTION {schema}.claim(
    p_now timestamptz, p_worker text, p_queues text[], p_limit integer, p_lease float8)
RETURNS TABLE (job_id bigint, run_lease bigint, queue text, task text, payload jsonb,
               priority integer, attempt integer, max_attempts integer, deadline timestamptz,
               claim_slot integer, ready_slot integer, lane_seq bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_slot     integer;
    v_left     integer := p_limit;
    v_end      bigint;
    v_got      integer;
    v_deadline timestamptz;
    lane       record;
    v_seen     integer[] := ARRAY[]::integer[];
    v_busy     integer;
    v_timeout  text := current_setting('lock_timeout');
BEGIN
    PERFORM {schema}._need_read_committed('claim');
    PERFORM {schema}._lock_ring_shared('claim');
    SELECT s.current_slot INTO v_slot FROM {schema}.ring_state s WHERE s.ring = 'claim';
    SELECT greatest(p_now + make_interval(secs => p_lease), h.horizon) INTO v_deadline
    FROM {schema}.rescue_state h;

    LOOP
        -- One lane per statement: a FOR loop would prefetch (and lock) lanes it never uses,
        -- starving other claimers.
        SELECT l.lane_id, l.claim_seq, l.next_seq INTO lane FROM {schema}.lanes l
        WHERE l.next_seq > l.claim_seq AND (p_queues IS NULL OR l.queue = ANY (p_queues))
          AND l.lane_id <> ALL (v_seen)
        ORDER BY l.priority, l.lane_id
        LIMIT 1
        FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            -- Every lane with work was skipped (locked). With nothing claimed yet, wait briefly for
            -- the most urgent one whose committed backlog a plain read sees (see the header).
            EXIT WHEN v_left < p_limit OR cardinality(v_seen) > 0;  -- wait holding no lane
            SELECT l.lane_id INTO v_busy FROM {schema}.lanes l
            WHERE l.next_seq > l.claim_seq AND (p_queues IS NULL OR l.queue = ANY (p_queues))
              AND l.lane_id <> ALL (v_seen)
            ORDER BY l.priority, l.lane_id
            LIMIT 1;
            EXIT WHEN NOT FOUND;
            BEGIN
                PERFORM set_config('lock_timeout', '50ms', true);
                SELECT l.lane_id, l.claim_seq, l.next_seq INTO lane FROM {schema}.lanes l
                WHERE l.lane_id = v_busy AND l.next_seq > l.claim_seq
                FOR UPDATE;
                PERFORM set_config('lock_timeout', v_timeout, true);
            EXCEPTION WHEN lock_not_available THEN
                EXIT;  -- the subtransaction's set_config is undone with it
            END;
            EXIT WHEN lane.lane_id IS NULL;  -- claimed meanwhile by another claimer
        END IF;
        v_seen := v_seen || lane.lane_id;
        -- The range ends just before the (v_left + 1)-th live row: cancelled rows in it are passed
        -- over without counting against the limit (else a run of them at the head of a lane makes
        -- claim return nothing while live jobs wait). Cancel locks this lane row too, so the set
        -- of cancelled rows cannot change under us.
        SELECT r.lane_seq INTO v_end FROM {schema}.ready r
        WHERE r.lane_id = lane.lane_id AND r.lane_seq >= lane.claim_seq AND r.lane_seq < lane.next_seq
          AND NOT EXISTS (SELECT 1 FROM {schema}.cancels k WHERE k.job_id = r.job_id)
        ORDER BY r.lane_seq OFFSET v_left LIMIT 1;
        IF NOT FOUND THEN
            v_end := lane.next_seq;
        END IF;
        RETURN QUERY
        WITH picked AS (
            SELECT r.* FROM {schema}.ready r
            WHERE r.lane_id = lane.lane_id AND r.lane_seq >= lane.claim_seq AND r.lane_seq < v_end
              AND NOT EXISTS (SELECT 1 FROM {schema}.cancels k WHERE k.job_id = r.job_id)
        ), ins AS (
            INSERT INTO {schema}.claims AS c (slot, job_id, run_lease, lane_id, lane_seq, ready_slot,
                                              attempt, worker, deadline, claimed_at)
            SELECT v_slot, p.job_id, nextval({run_lease_seq}), p.lane_id, p.lane_seq, p.slot,
                   p.attempt, p_worker, v_deadline, p_now
            FROM (SELECT * FROM picked ORDER BY picked.lane_seq) p
            RETURNING c.job_id, c.run_lease, c.lane_seq
        )
        SELECT p.job_id, ins.run_lease, p.queue, p.task, p.payload, p.priority::integer, p.attempt,
               p.max_attempts, v_deadline, v_slot, p.slot, p.lane_seq
        FROM picked p JOIN ins ON ins.job_id = p.job_id AND ins.lane_seq = p.lane_seq
        ORDER BY p.lane_seq;
        GET DIAGNOSTICS v_got = ROW_COUNT;
        UPDATE {schema}.lanes l SET claim_seq = v_end WHERE l.lane_id = lane.lane_id;
        v_left := v_left - v_got;
        EXIT WHEN v_left <= 0;
    END LOOP;
END
$$;
