"""Cross-check: the hand-built TLC transcripts and the built-in checker tell the same story.

The transcripts in tests/data/tlc/ were assembled from TLC's sources for the specs in
tests/data/tla-cli/ (TLC cannot run here). Running the built-in checker on the same specs
and comparing verdicts, counts and traces checks the transcripts' numbers and the built-in
checker against each other; neither side is a fake.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tlacheck import check
from tlacheck.tlc_messages import interpret

DATA = Path(__file__).resolve().parents[1] / "data"

CASES = [
    ("ok", "Counter", "Counter"),
    ("invariant", "Counter", "CounterSmall"),
    ("deadlock", "Stuck", "Stuck"),
    ("action_property", "Wrap", "Wrap"),
    ("temporal_stuttering", "Toggle", "ToggleStutter"),
    ("temporal_lasso", "Toggle", "ToggleLasso"),
    ("assumption", "Assume", "Assume"),
    ("parse_error", "Broken", "Broken"),
    ("config_error", "Counter", "CounterBadCfg"),
]


@pytest.mark.parametrize(("transcript", "spec", "cfg"), CASES)
def test_builtin_agrees_with_transcript(transcript: str, spec: str, cfg: str) -> None:
    tlc = interpret((DATA / "tlc" / f"{transcript}.out").read_text())
    builtin = check(DATA / "tla-cli" / f"{spec}.tla", DATA / "tla-cli" / f"{cfg}.cfg", backend="builtin")
    assert (builtin.outcome, builtin.error_kind, builtin.exit_code) == (
        tlc.outcome,
        tlc.error_kind,
        tlc.exit_code,
    )
    if tlc.violated is not None and tlc.outcome != "assumption_failed":
        # Assumptions: TLC names the location, the built-in checker file:line.
        assert builtin.violated == tlc.violated
    if tlc.outcome == "error":
        return
    assert (builtin.states_generated, builtin.distinct_states) == (tlc.states_generated, tlc.distinct_states)
    if tlc.outcome == "ok":
        assert builtin.depth == tlc.depth
    assert [s.state for s in builtin.trace] == [s.state for s in tlc.trace]
    assert [s.action for s in builtin.trace] == [s.action for s in tlc.trace]
    assert [s.lasso_back_to for s in builtin.trace] == [s.lasso_back_to for s in tlc.trace]
