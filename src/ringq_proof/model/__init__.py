"""Executable twin of correctness/storage/SegmentedStorage(.Races).tla.

Same constants (read from the same .cfg files), variables, actions and invariants as the spec;
`ringq model check` explores it, tests/model compares its reachable states with the spec's.
"""

from ringq_proof.model.config import Config, ConfigError, available_configs, load_config, parse_cfg
from ringq_proof.model.core import Model, StepError
from ringq_proof.model.explore import Exploration, explore
from ringq_proof.model.state import State, to_canonical

__all__ = [
    "Config",
    "ConfigError",
    "Exploration",
    "Model",
    "State",
    "StepError",
    "available_configs",
    "explore",
    "load_config",
    "parse_cfg",
    "to_canonical",
]
