"""Extension points of the CLI: subcommand plugins and the `ringq verify` step registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringq.cli import app, main
from ringq.errors import InvalidInput
from ringq_proof import verify


def test_a_plugin_module_adds_its_subcommands(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setattr(app, "PLUGINS", ("ringq.no_such_plugin", "cli_plugin_sample"))
    assert main(["hello", "world"]) == 3
    assert capsys.readouterr().out == "hello world\n"


@pytest.fixture
def scratch_steps(monkeypatch: pytest.MonkeyPatch) -> dict[str, verify.Step]:
    steps: dict[str, verify.Step] = {}
    monkeypatch.setattr(verify, "_STEPS", steps)
    monkeypatch.setattr(verify, "STEP_MODULES", ())
    return steps


def test_steps_register_by_name_and_run_in_order(scratch_steps: dict[str, verify.Step]) -> None:
    @verify.step("ok-step", "always passes")
    def ok_step(ctx: verify.VerifyContext) -> verify.StepOutcome:
        return verify.StepOutcome(True, "fine", {"n": 1})

    @verify.step("boom", "raises")
    def boom(ctx: verify.VerifyContext) -> verify.StepOutcome:
        raise RuntimeError("kaput")

    @verify.step("opt-in", "not run by default", default=False)
    def opt_in(ctx: verify.VerifyContext) -> verify.StepOutcome:
        return verify.StepOutcome(True, "")

    assert [s.name for s in verify.select(None)] == ["ok-step", "boom"]
    assert [s.name for s in verify.select(["opt-in"])] == ["opt-in"]
    with pytest.raises(InvalidInput, match="unknown verify step"):
        verify.select(["nope"])
    with pytest.raises(InvalidInput, match="already registered"):
        verify.step("boom", "again")(boom)
    ctx = verify.VerifyContext()
    results = [verify.run_step(s, ctx) for s in verify.select(None)]
    assert [(r.name, r.ok, r.summary) for r in results] == [
        ("ok-step", True, "fine"),
        ("boom", False, "RuntimeError: kaput"),  # a crashing step is a failed step
    ]
    assert results[0].as_dict()["details"] == {"n": 1}


def test_steps_run_by_order_then_registration(scratch_steps: dict[str, verify.Step]) -> None:
    def noop(ctx: verify.VerifyContext) -> verify.StepOutcome:
        return verify.StepOutcome(True, "")

    verify.step("last", "registered first, runs last", order=90)(noop)
    verify.step("middle-a", "default order")(noop)
    verify.step("first", "registered late, runs first", order=10)(noop)
    verify.step("middle-b", "default order, after middle-a")(noop)
    assert [s.name for s in verify.select(None)] == ["first", "middle-a", "middle-b", "last"]


def test_verify_exits_non_zero_when_a_step_fails(
    capsys: pytest.CaptureFixture[str], scratch_steps: dict[str, verify.Step]
) -> None:
    verify.step("bad", "fails")(lambda ctx: verify.StepOutcome(False, "nope"))
    assert main(["verify", "--json"]) == 1
    assert '"ok": false' in capsys.readouterr().out
