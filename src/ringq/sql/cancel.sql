-- cancel (TLA+ Cancel): stop a job wherever it is.
--   deferred -> row deleted from `deferred`, terminal 'cancelled' row in the current queue slot;
--   running  -> closure 'cancelled' (the worker's later completion gets LeaseLost) + terminal row;
--   queued   -> row in `cancels` (claim passes over it; the cursor is NOT moved) + terminal row.
-- Raises RQ003 when the job is already terminal, RQ004 when no such job exists.
-- A race with claim/complete is resolved by re-reading after each lost step (bounded).
--
-- Lock order: (1) advisory: queue ring SHARED  (3) the job's lane row FOR UPDATE (queued case)
--             (4) closures / done insert  (5) deferred delete, cancels insert.
CREATE FUNCTION {schema}.cancel(p_now timestamptz, p_job_id bigint)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_slot    integer;
    v_won     integer;
    v_claim_seq bigint;
    d         {schema}.deferred%ROWTYPE;
    c         {schema}.claims%ROWTYPE;
    r         {schema}.ready%ROWTYPE;
    v_outcome text;
    tries     integer;
BEGIN
    PERFORM {schema}._need_read_committed('cancel');
    PERFORM {schema}._lock_ring_shared('queue');
    FOR tries IN 1 .. 5 LOOP
        DELETE FROM {schema}.deferred WHERE job_id = p_job_id RETURNING * INTO d;
        IF FOUND THEN
            SELECT current_slot INTO v_slot FROM {schema}.ring_state WHERE ring = 'queue';
            INSERT INTO {schema}.done (slot, job_id, queue, run_lease, outcome, finished_at)
            VALUES (v_slot, p_job_id, d.queue, NULL, 'cancelled', p_now);
            RETURN 'cancelled_deferred';
        END IF;

        -- The latest attempt, if still open.
        SELECT cl.* INTO c FROM {schema}.claims cl
        WHERE cl.job_id = p_job_id
          AND NOT EXISTS ({closure_of_cl})
        ORDER BY cl.run_lease DESC LIMIT 1;
        IF FOUND THEN
            INSERT INTO {schema}.closures (slot, job_id, run_lease, lane_id, outcome, error, closed_at)
            VALUES (c.slot, c.job_id, c.run_lease, c.lane_id, 'cancelled', 'cancelled', p_now)
            ON CONFLICT DO NOTHING;
            GET DIAGNOSTICS v_won = ROW_COUNT;
            IF v_won = 1 THEN
                INSERT INTO {schema}.done (slot, job_id, queue, run_lease, outcome, error, finished_at)
                SELECT c.ready_slot, c.job_id, l.queue, c.run_lease, 'cancelled', 'cancelled', p_now
                FROM {schema}.lanes l WHERE l.lane_id = c.lane_id;
                RETURN 'cancelled_running';
            END IF;
            CONTINUE;  -- another closer won; look again (it may have been retried)
        END IF;

        -- The latest ready row, if its lane cursor has not passed it (checked under the lane lock).
        SELECT rr.* INTO r FROM {schema}.ready rr WHERE rr.job_id = p_job_id
        ORDER BY rr.lane_seq DESC LIMIT 1;
        IF FOUND AND NOT EXISTS (SELECT 1 FROM {schema}.cancels k WHERE k.job_id = p_job_id) THEN
            SELECT l.claim_seq INTO v_claim_seq FROM {schema}.lanes l
            WHERE l.lane_id = r.lane_id FOR UPDATE;
            IF r.lane_seq >= v_claim_seq THEN
                -- The cancel marker is the fencing point of two cancels of one queued job: the
                -- loser (it waited on our lane lock) inserts nothing and looks again, finding the
                -- winner's terminal row (RQ003), never a raw unique violation (issue 13).
                INSERT INTO {schema}.cancels (job_id, slot, lane_id, lane_seq, cancelled_at)
                VALUES (p_job_id, r.slot, r.lane_id, r.lane_seq, p_now)
                ON CONFLICT DO NOTHING;
                GET DIAGNOSTICS v_won = ROW_COUNT;
                CONTINUE WHEN v_won = 0;
                INSERT INTO {schema}.done (slot, job_id, queue, run_lease, outcome, finished_at)
                VALUES (r.slot, p_job_id, r.queue, NULL, 'cancelled', p_now);
                RETURN 'cancelled_queued';
            END IF;
            -- claimed since we looked: is the claim committed and open now?
            IF EXISTS (SELECT 1 FROM {schema}.claims cl WHERE cl.job_id = p_job_id
                       AND cl.lane_seq = r.lane_seq AND cl.lane_id = r.lane_id
                       AND NOT EXISTS ({closure_of_cl})) THEN
                CONTINUE;
            END IF;
        END IF;

        -- Not live: terminal (or in the DLQ) or unknown.
        IF EXISTS (SELECT 1 FROM {schema}.dlq q WHERE q.job_id = p_job_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'RQ003', MESSAGE = 'job ' || p_job_id
                || ' is already terminal (dlq)', HINT = 'dlq';
        END IF;
        SELECT dn.outcome INTO v_outcome FROM {schema}.done dn WHERE dn.job_id = p_job_id
        ORDER BY dn.done_id DESC LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'RQ003', MESSAGE = 'job ' || p_job_id
                || ' is already terminal (' || v_outcome || ')', HINT = v_outcome;
        END IF;
        -- Traces but no place: it moved between our reads (a rescue or retry committed after we
        -- looked in `deferred`). Look again rather than call a live job unknown.
        IF EXISTS (SELECT 1 FROM {schema}.claims cl WHERE cl.job_id = p_job_id)
           OR EXISTS (SELECT 1 FROM {schema}.ready rr WHERE rr.job_id = p_job_id) THEN
            -- ... unless history was pruned: the latest attempt on record is closed and the row it
            -- claimed went with its queue slot. Whatever followed sat in that slot or a newer one
            -- (prune goes oldest first), so the job ended and its terminal row was pruned. Said
            -- only once a second read agrees, so a job that is merely moving is looked for again.
            IF tries > 1 AND EXISTS (
                SELECT 1 FROM (SELECT cl.* FROM {schema}.claims cl WHERE cl.job_id = p_job_id
                               ORDER BY cl.run_lease DESC LIMIT 1) cl
                WHERE EXISTS ({closure_of_cl})
                  AND NOT EXISTS (SELECT 1 FROM {schema}.ready rr WHERE rr.lane_id = cl.lane_id
                                  AND rr.lane_seq = cl.lane_seq AND rr.slot = cl.ready_slot)) THEN
                RAISE EXCEPTION USING ERRCODE = 'RQ003', MESSAGE = 'job ' || p_job_id
                    || ' is already terminal (its terminal row was pruned with its queue slot)',
                    HINT = 'pruned';
            END IF;
            CONTINUE;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'RQ004', MESSAGE = 'job ' || p_job_id || ' not found';
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = '40001',
        MESSAGE = 'cancel of job ' || p_job_id || ' kept racing with other transactions; retry';
END
$$;
