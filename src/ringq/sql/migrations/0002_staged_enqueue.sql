-- 0002: commit-time sequencing of enqueues made in a caller's transaction (ADR 0011).
-- `staged` holds the jobs a still-open caller transaction enqueued; the constraint trigger of
-- enqueue_commit.sql moves them into the ready ring at its commit. UNLOGGED: a row here never
-- outlives its transaction (after a crash every such transaction is aborted anyway), so it
-- needs no WAL. The enqueue function gained p_staged and _append_ready became
-- _append_ready_rows: the old signatures are dropped (install re-creates the functions).
CREATE UNLOGGED TABLE {schema}.staged (
    txid         xid8        NOT NULL DEFAULT pg_current_xact_id(),
    job_id       bigint      NOT NULL,
    queue        text        NOT NULL,
    priority     smallint    NOT NULL,
    task         text        NOT NULL,
    payload      jsonb,
    max_attempts integer     NOT NULL,
    enqueued_at  timestamptz NOT NULL,
    dedup_key    text
);
CREATE INDEX ON {schema}.staged (txid);

DROP FUNCTION IF EXISTS {schema}.enqueue(timestamptz, text[], text[], integer[], text[], integer[],
                                         timestamptz[], text[]);
DROP FUNCTION IF EXISTS {schema}._append_ready(timestamptz, integer, bigint, text, integer, text,
                                               jsonb, integer, integer, text);
