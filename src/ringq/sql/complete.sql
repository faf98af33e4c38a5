-- complete (TLA+ Complete): for each (job_id, run_lease), insert closure 'completed' into the
-- claim's slot if the claim row exists and no closure does; the winner writes the terminal row
-- (with the result) into the `done` partition of the job's ready slot in the same transaction.
-- Returns one row per item, in input order: closed_by NULL when this call closed the attempt,
-- otherwise the outcome that closed it first, or 'missing' (no such claim: unknown or pruned).
-- An attempt listed twice is completed by its first item only; every later item of it answers
-- 'duplicate' (nothing written for it: one closure, one terminal row; issue 13).
--
-- Lock order: (4) claims read, closures insert in run_lease order (the unique key is the
--             fencing point: a concurrent closer waits on it, then loses), done insert.
CREATE FUNCTION {schema}.complete(
    p_now timestamptz, p_job_ids bigint[], p_run_leases bigint[], p_results text[])
RETURNS TABLE (job_id bigint, run_lease bigint, closed_by text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_won bigint[];
BEGIN
    PERFORM {schema}._need_read_committed('complete');
    WITH items AS (
        SELECT DISTINCT ON (t.job_id, t.run_lease) t.job_id, t.run_lease, t.result
        FROM unnest(p_job_ids, p_run_leases, p_results) WITH ORDINALITY AS t(job_id, run_lease, result, o)
        ORDER BY t.job_id, t.run_lease, t.o
    ), open AS (
        -- LATERAL + LIMIT 1: one index probe per item (a hash join would scan every claim)
        SELECT i.job_id, i.run_lease, i.result, c.slot, c.ready_slot, c.lane_id
        FROM items i CROSS JOIN LATERAL (
            SELECT c.slot, c.ready_slot, c.lane_id FROM {schema}.claims c
            WHERE c.job_id = i.job_id AND c.run_lease = i.run_lease LIMIT 1) c
    ), won AS (
        INSERT INTO {schema}.closures AS x (slot, job_id, run_lease, lane_id, outcome, closed_at)
        SELECT o.slot, o.job_id, o.run_lease, o.lane_id, 'completed', p_now FROM open o
        ORDER BY o.run_lease
        ON CONFLICT DO NOTHING
        RETURNING x.job_id, x.run_lease
    ), fin AS (
        INSERT INTO {schema}.done (slot, job_id, queue, run_lease, outcome, result, finished_at)
        SELECT o.ready_slot, o.job_id, l.queue, o.run_lease, 'completed', o.result::jsonb, p_now
        FROM open o JOIN won w ON w.run_lease = o.run_lease AND w.job_id = o.job_id
        JOIN {schema}.lanes l ON l.lane_id = o.lane_id
        RETURNING 1
    )
    SELECT coalesce(array_agg(w.run_lease), ARRAY[]::bigint[]) INTO v_won FROM won w;

    RETURN QUERY
    SELECT t.job_id, t.run_lease,
           CASE WHEN t.o > min(t.o) OVER (PARTITION BY t.job_id, t.run_lease) THEN 'duplicate'
                WHEN t.run_lease = ANY (v_won) THEN NULL
                ELSE coalesce({schema}._closed_by(t.job_id, t.run_lease), 'open') END
    FROM unnest(p_job_ids, p_run_leases) WITH ORDINALITY AS t(job_id, run_lease, o)
    ORDER BY t.o;
END
$$;
