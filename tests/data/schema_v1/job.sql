-- job_info: where a job is now (read-only). state: queued | deferred | running | completed |
-- failed | cancelled | dlq; no row when the job is unknown or its history was pruned.
-- Precedence follows liveness: deferred, running, queued, dlq, then the latest terminal row
-- (a DLQ retry gives a job a second life, so "latest" is by done_id).
CREATE FUNCTION {schema}.job_info(p_job_id bigint)
RETURNS TABLE (state text, queue text, task text, priority integer, attempt integer,
               max_attempts integer, payload jsonb, result jsonb, error text, run_lease bigint,
               run_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    d  {schema}.deferred%ROWTYPE;
    q  {schema}.dlq%ROWTYPE;
    r  {schema}.ready%ROWTYPE;
    c  {schema}.claims%ROWTYPE;
    t  {schema}.done%ROWTYPE;
    v_claim_seq bigint;
    v_error text;
BEGIN
    SELECT x.error INTO v_error FROM {schema}.closures x
    WHERE x.job_id = p_job_id AND x.error IS NOT NULL ORDER BY x.run_lease DESC LIMIT 1;
    SELECT * INTO d FROM {schema}.deferred WHERE job_id = p_job_id;
    IF FOUND THEN
        RETURN QUERY SELECT 'deferred'::text, d.queue, d.task, d.priority::integer, d.attempt,
            d.max_attempts, d.payload, NULL::jsonb, v_error, NULL::bigint, d.run_at;
        RETURN;
    END IF;
    SELECT * INTO r FROM {schema}.ready WHERE job_id = p_job_id ORDER BY lane_seq DESC LIMIT 1;
    SELECT cl.* INTO c FROM {schema}.claims cl WHERE cl.job_id = p_job_id
    ORDER BY cl.run_lease DESC LIMIT 1;
    IF c.job_id IS NOT NULL AND c.lane_seq = r.lane_seq
       AND {schema}._closed_by(c.job_id, c.run_lease) IS NULL THEN
        RETURN QUERY SELECT 'running'::text, r.queue, r.task, r.priority::integer, c.attempt,
            r.max_attempts, r.payload, NULL::jsonb, v_error, c.run_lease, NULL::timestamptz;
        RETURN;
    END IF;
    IF r.job_id IS NOT NULL THEN
        SELECT l.claim_seq INTO v_claim_seq FROM {schema}.lanes l WHERE l.lane_id = r.lane_id;
        IF r.lane_seq >= v_claim_seq
           AND NOT EXISTS (SELECT 1 FROM {schema}.cancels k WHERE k.job_id = p_job_id) THEN
            RETURN QUERY SELECT 'queued'::text, r.queue, r.task, r.priority::integer, r.attempt,
                r.max_attempts, r.payload, NULL::jsonb, v_error, NULL::bigint, NULL::timestamptz;
            RETURN;
        END IF;
    END IF;
    SELECT * INTO q FROM {schema}.dlq WHERE job_id = p_job_id;
    IF FOUND THEN
        RETURN QUERY SELECT 'dlq'::text, q.queue, q.task, q.priority::integer, q.attempt,
            q.max_attempts, q.payload, NULL::jsonb, q.error, NULL::bigint, NULL::timestamptz;
        RETURN;
    END IF;
    SELECT * INTO t FROM {schema}.done WHERE job_id = p_job_id ORDER BY done_id DESC LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT t.outcome, t.queue, r.task, r.priority::integer,
            coalesce(c.attempt, r.attempt), r.max_attempts, r.payload, t.result,
            coalesce(t.error, v_error), t.run_lease, NULL::timestamptz;
    END IF;
END
$$;
