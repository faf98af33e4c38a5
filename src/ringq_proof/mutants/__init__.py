"""Mutants: the catalogue (`catalogue`), the SQL patcher (`patch`) and the suite runner (`runner`)."""

from ringq_proof.mutants.catalogue import (
    BY_NAME,
    ENV_MUTANT,
    ENV_REPORT,
    MUTANTS,
    Derived,
    Mutant,
    MutantAnchorMissing,
    Patch,
    from_env,
    get,
)
from ringq_proof.mutants.patch import install_mutant, mutant_sql
from ringq_proof.mutants.runner import write_report

__all__ = [
    "BY_NAME",
    "ENV_MUTANT",
    "ENV_REPORT",
    "MUTANTS",
    "Derived",
    "Mutant",
    "MutantAnchorMissing",
    "Patch",
    "from_env",
    "get",
    "install_mutant",
    "mutant_sql",
    "write_report",
]
