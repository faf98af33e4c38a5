-- One queue-ring slot. Placeholders: {schema}, {slot} (literal), {ready_p}, {done_p} (identifiers).
CREATE TABLE {schema}.{ready_p} PARTITION OF {schema}.ready FOR VALUES IN ({slot});
CREATE TABLE {schema}.{done_p} PARTITION OF {schema}.done FOR VALUES IN ({slot});
