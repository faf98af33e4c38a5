"""ringq: a durable Postgres job queue with segmented, append-only storage."""
