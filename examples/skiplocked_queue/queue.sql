-- A classic SKIP LOCKED queue: one table, a visibility timeout, DELETE on completion.
-- {schema} is replaced by the (quoted) schema name; {owner_check} by the lease check of
-- complete() (the seeded bug replaces it by nothing).
CREATE SCHEMA {schema};

CREATE TABLE {schema}.jobs (
    id           bigserial PRIMARY KEY,
    payload      jsonb NOT NULL DEFAULT '{{}}',
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running')),
    lease        bigint NOT NULL DEFAULT 0,        -- the current claim's token
    locked_until timestamptz                       -- visibility timeout of a running job
);
CREATE SEQUENCE {schema}.lease_seq;

CREATE FUNCTION {schema}.enqueue(p_payload jsonb) RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO {schema}.jobs (payload) VALUES (p_payload) RETURNING id
$$;

-- the oldest queued row, or a running row whose timeout passed, skipping rows other claimers lock
CREATE FUNCTION {schema}.claim(p_now timestamptz, p_timeout float8)
RETURNS TABLE (id bigint, lease bigint) LANGUAGE sql AS $$
    WITH c AS (
        SELECT j.id FROM {schema}.jobs j
        WHERE j.status = 'queued' OR (j.status = 'running' AND j.locked_until < p_now)
        ORDER BY j.id LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    UPDATE {schema}.jobs j
    SET status = 'running', lease = nextval('{schema_name}.lease_seq'),
        locked_until = p_now + make_interval(secs => p_timeout)
    FROM c WHERE j.id = c.id
    RETURNING j.id, j.lease
$$;

-- true: completed; false: the lease was lost (the row is gone or someone else holds it)
CREATE FUNCTION {schema}.complete(p_id bigint, p_lease bigint) RETURNS boolean LANGUAGE sql AS $$
    WITH d AS (
        DELETE FROM {schema}.jobs j
        WHERE j.id = p_id AND j.status = 'running' {owner_check}
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM d)
$$;
