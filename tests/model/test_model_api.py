"""The model's API as the stateful tests use it: step / successors / enabled, and its CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringq_proof.model import Model, StepError, liveness, load_config
from ringq_proof.model.cli import main
from ringq_proof.model.derived import View
from ringq_proof.model.invariants import INVARIANTS
from ringq_proof.model.state import Att

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def model() -> Model:
    return Model(load_config("SegmentedStorage_base"))


def test_enqueue_claim_complete_makes_the_job_terminal_with_its_result(model: Model) -> None:
    s = model.step(model.init(), "Enqueue", j="j1")
    s = model.step(s, "Claim", w="w1")
    assert s.held[0] == {Att("j1", 1)} and s.lanes.claim_seq == 1
    s = model.step(s, "Complete", w="w1")
    assert s.terminal == {"j1"}
    assert [(d.job, d.lease, d.outcome, d.result) for d in s.done] == [("j1", 1, "completed", True)]
    assert model.violated(s) is None


def test_a_stale_worker_is_fenced_after_rescue(model: Model) -> None:
    s = model.step(model.init(), "Enqueue", j="j1")
    s = model.step(s, "Claim", w="w1")
    s = model.step(s, "Tick", job="j1", lease=1)
    s = model.step(s, "Rescue", job="j1", lease=1)  # MaxAttempts = 1: dead-lettered
    assert {(x.job, x.lease, x.outcome) for x in s.closures} == {("j1", 1, "rescued")}
    before = s
    s = model.step(s, "Complete", w="w1")  # LeaseLost: only the worker's memory changes
    assert s.held[0] == frozenset() and s._replace(held=before.held) == before
    assert model.violated(s) is None


def test_step_refuses_disabled_or_ambiguous_actions(model: Model) -> None:
    with pytest.raises(StepError, match="not enabled"):
        model.step(model.init(), "Claim", w="w1")
    s = model.step(model.step(model.init(), "Enqueue", j="j1"), "Enqueue", j="j2")
    with pytest.raises(StepError, match="outcomes"):
        model.step(s, "Cancel")  # j1 or j2


def test_enabled_and_successors_agree(model: Model) -> None:
    s = model.step(model.init(), "Enqueue", j="j1")
    enabled = model.enabled(s)
    assert ("Claim", {"w": "w1"}) in enabled and ("Enqueue", {"j": "j2"}) in enabled
    assert len(enabled) == len({(a, tuple(p.items())) for a, p, _ in model.successors(s)})


def test_successor_labels_are_actions_of_the_spec() -> None:
    from tlacheck.builtin import parse_module

    storage = ROOT / "correctness" / "storage"
    defined = set(parse_module(storage / "SegmentedStorage.tla").definitions)
    defined |= set(parse_module(storage / "SegmentedStorageRaces.tla").definitions)
    for name in ("SegmentedStorage_base", "SegmentedStorageRaces_base"):
        m = Model(load_config(name))
        frontier, seen, labels = [m.init()], set[object](), set[str]()
        while frontier and len(seen) < 3000:
            s = frontier.pop()
            for a, _, n in m.successors(s):
                labels.add(a)
                if n not in seen:
                    seen.add(n)
                    frontier.append(n)
        assert labels <= defined, labels - defined


def test_invariants_reject_a_broken_state(model: Model) -> None:
    s = model.step(model.init(), "Enqueue", j="j1")
    lost = s._replace(ready=frozenset())  # the job's only ready row vanished
    assert not INVARIANTS["NoLostJob"](model.cfg, lost, View(lost))
    assert not INVARIANTS["CountersMatch"](model.cfg, lost, View(lost))


def test_liveness_check_finds_a_fair_lasso_when_rescue_is_not_fair(monkeypatch: pytest.MonkeyPatch) -> None:
    m = Model(load_config("SegmentedStorage_live"))
    assert liveness.EventuallyTerminal(m) is None
    # a crashed worker's attempt is then never rescued: j1 can stay open forever
    monkeypatch.setattr(liveness, "GLOBAL_FAIR", ("Tick", "Promote"))
    verdict = liveness.EventuallyTerminal(m)
    assert verdict is not None and verdict.startswith("j1 never terminal")


def test_cli_reports_user_mistakes_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", "NoSuchCfg"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ringq model: error: unknown config 'NoSuchCfg'") and "\n" not in err
    assert main(["check", "-c", "SegmentedStorage_dlq", "-s", "BugBogus=TRUE"]) == 2
    assert "unknown switch 'BugBogus'" in capsys.readouterr().err


def test_cli_check_exits_12_with_the_trace_of_a_broken_cfg(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-q", "-c", "SegmentedStorage_dlq", "-s", "BugRetryNotPersisted=TRUE"]) == 12
    out = capsys.readouterr().out
    assert "Invariant AttemptLimitRespected is violated" in out
    assert main(["check", "-q", "-c", "SegmentedStorage_dlq"]) == 0


def test_cli_graph_writes_graphml_dot_and_svg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "g"
    code = main(
        ["graph", "-c", "SegmentedStorage_BugResultAfterClosure", "-o", str(out), "--max-states", "200"]
    )
    assert code == 0
    for suffix in (".graphml", ".dot", ".svg"):
        assert (tmp_path / f"g{suffix}").stat().st_size > 0
    dot = (tmp_path / "g.dot").read_text()
    assert "Enqueue(j1)" in dot and "#e06666" in dot  # a violating (red) state is drawn


def test_verify_step_is_registered() -> None:
    from ringq_proof import verify

    assert "model" in {s.name for s in verify.registered_steps()}


def test_an_open_enqueue_transaction_stalls_nothing_and_is_sequenced_at_commit(model: Model) -> None:
    s = model.step(model.init(), "EnqueueBegin", j="j1")  # the caller's transaction stays open
    assert s.staged == {"j1"} and s.ready == frozenset() and s.lanes.next_seq == 0
    assert ("Enqueue", {"j": "j1"}) not in model.enabled(s)  # one job id, one enqueue
    s = model.step(s, "Enqueue", j="j2")  # another enqueue does not wait for it
    s = model.step(s, "Claim", w="w1")  # nor does a claim
    s = model.step(s, "Complete", w="w1")
    s = model.step(s, "RotateQueue")  # nor rotation and prune
    s = model.step(s, "RotateClaim")
    s = model.step(s, "PruneClaim", k=0)
    s = model.step(s, "PruneQueue", k=0)
    assert s.staged == {"j1"} and model.violated(s) is None
    s = model.step(s, "EnqueueCommit", j="j1")  # lane_seq at commit, into the CURRENT slot
    assert {(r.job, r.seq, r.slot) for r in s.ready} == {("j1", 1, 1)}
    s = model.step(s, "Claim", w="w2")
    assert [(c.job, c.seq) for c in s.claims] == [("j1", 1)]
    assert model.violated(s) is None


def test_an_aborted_enqueue_leaves_nothing_and_the_job_may_be_enqueued_again(model: Model) -> None:
    s = model.step(model.init(), "EnqueueBegin", j="j1")
    assert model.step(s, "EnqueueAbort", j="j1") == model.init()
    assert ("EnqueueBegin", {"j": "j1"}) in model.enabled(model.step(s, "EnqueueAbort", j="j1"))


def test_seq_at_begin_loses_the_job_that_commits_behind_the_cursor() -> None:
    m = Model(load_config("SegmentedStorage_BugSeqAtBegin"))
    s = m.step(m.init(), "EnqueueBegin", j="j1")  # takes seq 0
    s = m.step(s, "Claim", w="w1")  # sees no row at seq 0: the cursor moves past the gap
    assert s.lanes.claim_seq == 1
    s = m.step(s, "EnqueueCommit", j="j1")  # the row appears at seq 0, behind the cursor
    assert m.violated(s) == "NoLostJob"
    # ADR 0001's scenario: the later-begun job commits first and is claimed
    s = m.step(m.init(), "EnqueueBegin", j="j1")  # seq 0
    s = m.step(s, "EnqueueBegin", j="j2")  # seq 1
    s = m.step(s, "EnqueueCommit", j="j2")
    s = m.step(s, "Claim", w="w1")  # takes seq 1: claim_seq = 2
    assert m.violated(s) is None
    s = m.step(s, "EnqueueCommit", j="j1")
    assert m.violated(s) == "NoLostJob"


def test_the_documented_bug_switch_example_finds_a_violation(capsys: pytest.CaptureFixture[str]) -> None:
    doc = (ROOT / "docs" / "model.md").read_text()
    line = next(x for x in doc.splitlines() if x.startswith("ringq model check") and " -s " in x)
    argv = line.split("#")[0].split()[2:]
    assert main([*argv[:1], "-q", *argv[1:]]) == 12
    assert "is violated" in capsys.readouterr().out
