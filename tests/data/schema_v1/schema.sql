-- ringq storage schema (see spec/MAPPING.md "Storage layout").
-- Placeholders: {schema} (identifier). Partitions per slot come from partitions.sql.
-- Hot-path tables (ready, done, claims, closures, heartbeats) are append-only and
-- LIST-partitioned by slot so prune can TRUNCATE a whole slot instead of DELETEing rows.

CREATE SCHEMA IF NOT EXISTS {schema};

CREATE TABLE {schema}.meta (
    version      integer     NOT NULL,
    queue_slots  integer     NOT NULL CHECK (queue_slots >= 2),
    claim_slots  integer     NOT NULL CHECK (claim_slots >= 2),
    installed_at timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE {schema}.job_id_seq;
-- Global, so a lease never repeats across a truncated-and-reused claim slot.
CREATE SEQUENCE {schema}.run_lease_seq;

CREATE TABLE {schema}.ring_state (
    ring         text    PRIMARY KEY CHECK (ring IN ('queue', 'claim')),
    current_slot integer NOT NULL,
    generation   bigint  NOT NULL,
    slot_count   integer NOT NULL
);

CREATE TABLE {schema}.slots (
    ring       text    NOT NULL REFERENCES {schema}.ring_state (ring),
    slot       integer NOT NULL,
    state      text    NOT NULL CHECK (state IN ('open', 'sealed', 'pruned')),
    generation bigint  NOT NULL,
    PRIMARY KEY (ring, slot)
);

CREATE TABLE {schema}.lanes (
    lane_id   integer  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue     text     NOT NULL,
    priority  smallint NOT NULL,
    next_seq  bigint   NOT NULL DEFAULT 0,  -- enqueue counter
    claim_seq bigint   NOT NULL DEFAULT 0,  -- every lane_seq < claim_seq is claimed or cancelled
    UNIQUE (queue, priority),
    CHECK (claim_seq <= next_seq)
);

CREATE TABLE {schema}.ready (
    slot         integer     NOT NULL,
    job_id       bigint      NOT NULL,
    lane_id      integer     NOT NULL,
    lane_seq     bigint      NOT NULL,
    queue        text        NOT NULL,
    priority     smallint    NOT NULL,
    task         text        NOT NULL,
    payload      jsonb,
    attempt      integer     NOT NULL,
    max_attempts integer     NOT NULL,
    enqueued_at  timestamptz NOT NULL,
    dedup_key    text,
    PRIMARY KEY (lane_id, lane_seq, slot)
) PARTITION BY LIST (slot);
CREATE INDEX ON {schema}.ready (job_id);

CREATE TABLE {schema}.done (
    slot        integer     NOT NULL,
    done_id     bigint      GENERATED ALWAYS AS IDENTITY,  -- orders a job's terminal rows (DLQ retry)
    job_id      bigint      NOT NULL,
    queue       text        NOT NULL,       -- so stats need no join back to ready
    run_lease   bigint,                     -- NULL for jobs cancelled before any claim
    outcome     text        NOT NULL CHECK (outcome IN ('completed', 'failed', 'cancelled', 'dlq')),
    result      jsonb,
    error       text,
    finished_at timestamptz NOT NULL
) PARTITION BY LIST (slot);
CREATE INDEX ON {schema}.done (job_id);

CREATE TABLE {schema}.claims (
    slot       integer     NOT NULL,
    job_id     bigint      NOT NULL,
    run_lease  bigint      NOT NULL,
    lane_id    integer     NOT NULL,
    lane_seq   bigint      NOT NULL,
    ready_slot integer     NOT NULL,
    attempt    integer     NOT NULL,
    worker     text        NOT NULL,
    deadline   timestamptz NOT NULL,
    claimed_at timestamptz NOT NULL,
    PRIMARY KEY (job_id, run_lease, slot)
) PARTITION BY LIST (slot);
CREATE INDEX ON {schema}.claims (deadline);

-- The primary key is the "exactly one closer wins" key: ON CONFLICT DO NOTHING.
CREATE TABLE {schema}.closures (
    slot      integer     NOT NULL,
    job_id    bigint      NOT NULL,
    run_lease bigint      NOT NULL,
    lane_id   integer     NOT NULL,  -- the claim's lane: open attempts per lane = claims - closures
    outcome   text        NOT NULL
              CHECK (outcome IN ('completed', 'failed', 'retried', 'cancelled', 'rescued', 'dlq')),
    error     text,
    closed_at timestamptz NOT NULL,
    PRIMARY KEY (job_id, run_lease, slot)
) PARTITION BY LIST (slot);

CREATE TABLE {schema}.heartbeats (
    slot      integer     NOT NULL,
    job_id    bigint      NOT NULL,
    run_lease bigint      NOT NULL,
    deadline  timestamptz NOT NULL,
    progress  jsonb,
    at        timestamptz NOT NULL
) PARTITION BY LIST (slot);
CREATE INDEX ON {schema}.heartbeats (job_id, run_lease);
CREATE INDEX ON {schema}.heartbeats (deadline);

CREATE TABLE {schema}.cancels (
    job_id       bigint      PRIMARY KEY,
    slot         integer     NOT NULL,  -- queue slot of the cancelled ready row (prune forgets it)
    lane_id      integer     NOT NULL,
    lane_seq     bigint      NOT NULL,
    cancelled_at timestamptz NOT NULL
);

CREATE TABLE {schema}.deferred (
    job_id       bigint      PRIMARY KEY,
    queue        text        NOT NULL,
    priority     smallint    NOT NULL,
    task         text        NOT NULL,
    payload      jsonb,
    attempt      integer     NOT NULL,
    max_attempts integer     NOT NULL,
    run_at       timestamptz NOT NULL,
    enqueued_at  timestamptz NOT NULL,
    dedup_key    text
);
CREATE INDEX ON {schema}.deferred (run_at);

CREATE TABLE {schema}.dlq (
    job_id       bigint      PRIMARY KEY,
    queue        text        NOT NULL,
    priority     smallint    NOT NULL,
    task         text        NOT NULL,
    payload      jsonb,
    attempt      integer     NOT NULL,
    max_attempts integer     NOT NULL,
    error        text,
    traceback    text,
    failed_at    timestamptz NOT NULL,
    dedup_key    text
);
CREATE INDEX ON {schema}.dlq (queue, failed_at);

-- Rescue's scan horizon: every attempt whose effective deadline is before it (minus a clock-skew
-- margin) was examined by an earlier rescue, so rescue reads only deadlines after it instead of
-- every claim the ring retains. NULL: scan everything.
CREATE TABLE {schema}.rescue_state (
    singleton boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    horizon   timestamptz
);

-- Latest job enqueued under a dedup key; it blocks a new enqueue only while it is live.
CREATE TABLE {schema}.dedup (
    queue     text   NOT NULL,
    dedup_key text   NOT NULL,
    job_id    bigint NOT NULL,
    PRIMARY KEY (queue, dedup_key)
);
