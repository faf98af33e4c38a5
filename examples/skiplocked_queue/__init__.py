"""A classic FOR UPDATE SKIP LOCKED queue checked with ringq's toolkit (ringq_proof.kit)."""
