-- Initial rows, one statement: version, one ring_state row per ring (slot 0 open, generation 1)
-- and every other slot 'pruned' (empty, ready to be opened by rotate).
WITH meta AS (
    INSERT INTO {schema}.meta (version, queue_slots, claim_slots)
    VALUES (%(version)s, %(queue_slots)s, %(claim_slots)s)
), rescue AS (
    INSERT INTO {schema}.rescue_state (singleton, horizon) VALUES (true, NULL)
), rings AS (
    INSERT INTO {schema}.ring_state (ring, current_slot, generation, slot_count)
    VALUES ('queue', 0, 1, %(queue_slots)s), ('claim', 0, 1, %(claim_slots)s)
    RETURNING ring, slot_count
)
INSERT INTO {schema}.slots (ring, slot, state, generation)
SELECT rings.ring, s, CASE WHEN s = 0 THEN 'open' ELSE 'pruned' END, CASE WHEN s = 0 THEN 1 ELSE 0 END
FROM rings, generate_series(0, rings.slot_count - 1) s
