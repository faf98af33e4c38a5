-- enqueue commit (TLA+ EnqueueCommit): at COMMIT of a caller's transaction that enqueued with
-- p_staged, move its staged jobs into the ready ring, each with the next lane_seq of its lane.
-- A DEFERRABLE INITIALLY DEFERRED constraint trigger on `staged` runs it inside the commit, so the
-- lane locks last only for the commit and lane_seq order = commit order (ADR 0011). It fires once
-- per staged row; the first firing of a transaction takes every row that transaction staged (the
-- DELETE ... RETURNING), later firings find none. After SET CONSTRAINTS ... IMMEDIATE it runs at
-- that point instead, and rows staged later are taken by their own firings at commit.
--
-- Lock order: (1) advisory: queue ring SHARED  (3) lanes (_lock_lanes: missing ones created in
--             (queue, priority) order, then FOR UPDATE in lane_id order)  (5) staged delete
--             (rows of this transaction only)  (4) ready insert and (6) pg_notify
--             (_append_ready_rows, which re-takes the held lanes without waiting).
CREATE FUNCTION {schema}._enqueue_commit()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    m record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {schema}.staged s WHERE s.txid = pg_current_xact_id()) THEN
        RETURN NULL;
    END IF;
    PERFORM {schema}._lock_ring_shared('queue');
    PERFORM {schema}._lock_lanes(array_agg(s.queue), array_agg(s.priority))
    FROM {schema}.staged s WHERE s.txid = pg_current_xact_id();
    WITH mine AS (
        DELETE FROM {schema}.staged s WHERE s.txid = pg_current_xact_id() RETURNING s.*
    )
    SELECT array_agg(job_id ORDER BY job_id) AS ids,
           array_agg(queue ORDER BY job_id) AS queues,
           array_agg(priority ORDER BY job_id) AS priorities,
           array_agg(task ORDER BY job_id) AS tasks,
           array_agg(payload ORDER BY job_id) AS payloads,
           array_fill(1, ARRAY[count(*)::integer]) AS attempts,
           array_agg(max_attempts ORDER BY job_id) AS max_attempts,
           array_agg(dedup_key ORDER BY job_id) AS keys,
           min(enqueued_at) AS enqueued_at
    INTO m FROM mine;
    PERFORM {schema}._append_ready_rows(m.enqueued_at, m.ids, m.queues, m.priorities, m.tasks,
                                        m.payloads, m.attempts, m.max_attempts, m.keys);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS enqueue_commit ON {schema}.staged;
CREATE CONSTRAINT TRIGGER enqueue_commit AFTER INSERT ON {schema}.staged
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {schema}._enqueue_commit();
