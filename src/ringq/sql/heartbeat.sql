-- heartbeat (TLA+ Heartbeat): append a heartbeat row (new deadline = now + lease, optional
-- progress) for every attempt that is still open; return the attempts that are not.
-- The effective deadline of an attempt is the max over its claim row and its heartbeats.
--
-- Lock order: (4) claims / closures read, heartbeats insert (append-only, no row locks).
CREATE FUNCTION {schema}.heartbeat(
    p_now timestamptz, p_job_ids bigint[], p_run_leases bigint[], p_lease float8, p_progress text[])
RETURNS TABLE (job_id bigint, run_lease bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM {schema}._need_read_committed('heartbeat');
    RETURN QUERY
    WITH items AS (
        SELECT * FROM unnest(p_job_ids, p_run_leases, p_progress) AS t(j, r, progress)
    ), open AS (
        SELECT i.j, i.r, i.progress, c.slot FROM items i
        CROSS JOIN LATERAL (SELECT c.job_id, c.run_lease, c.slot FROM {schema}.claims c
                            WHERE c.job_id = i.j AND c.run_lease = i.r LIMIT 1) c
        WHERE NOT EXISTS ({closure_of_c})
    ), beat AS (
        INSERT INTO {schema}.heartbeats (slot, job_id, run_lease, deadline, progress, at)
        SELECT o.slot, o.j, o.r, p_now + make_interval(secs => p_lease), o.progress::jsonb, p_now
        FROM open o
        RETURNING 1
    )
    SELECT i.j, i.r FROM items i
    WHERE NOT EXISTS (SELECT 1 FROM open o WHERE o.j = i.j AND o.r = i.r);
END
$$;
