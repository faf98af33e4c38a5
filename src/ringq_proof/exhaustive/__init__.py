"""Exhaustive replay: every transition of the storage model's graph, driven on real PostgreSQL.

`run_exhaustive(cfg, database_url)` (replay.py) plans paths that cover the model's graph
(plan.py) and replays them through `RingqSystem` (driver.py), comparing the abstraction of the
real schema with the model after every step. `ringq verify --exhaustive CFG` runs it.
"""

from ringq_proof.exhaustive.replay import Report, run_exhaustive

__all__ = ["Report", "run_exhaustive"]
