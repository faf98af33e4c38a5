-- One claim-ring slot. Placeholders: {schema}, {slot} (literal), {claims_p}, {closures_p},
-- {heartbeats_p} (identifiers).
CREATE TABLE {schema}.{claims_p} PARTITION OF {schema}.claims FOR VALUES IN ({slot});
CREATE TABLE {schema}.{closures_p} PARTITION OF {schema}.closures FOR VALUES IN ({slot});
CREATE TABLE {schema}.{heartbeats_p} PARTITION OF {schema}.heartbeats FOR VALUES IN ({slot});
