"""Native implementations of the commonly used CommunityModules and TLCExt.

The modules themselves are the TLA+ files in `tlacheck/stdlib/` (found when no module of that
name is beside the spec); each operator there is a call of a built-in registered here (see
`base.native`). Importing this package registers every implementation in `NATIVE`, which
`stdlib.NAMED` includes.
"""

from __future__ import annotations

from tlacheck.builtin.community import graphs, misc, seqs, sets
from tlacheck.builtin.community.base import NATIVE, OPERATORS, native_name

__all__ = ["NATIVE", "OPERATORS", "graphs", "misc", "native_name", "seqs", "sets"]
