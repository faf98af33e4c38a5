"""Multi-process breadth-first search for `workers > 1`, with exactly the one-process results.

The parent process owns the fingerprint set, the parent map and the counts; N forked worker
processes own the states. Each BFS level is split into N contiguous slices of the
one-process order (worker 0 holds the first slice, worker 1 the next, ...). For its slice a
worker computes every successor (counting derivations), applies action properties,
ACTION_CONSTRAINTs and CONSTRAINTs, fingerprints the survivors, drops those its local copy
of the fingerprint set already holds, checks invariants on the rest and sends the parent,
per frontier state, the number of derivations and its candidates (fingerprint, ordinal,
invariant verdict); the states stay in the worker. The parent merges the workers' answers in
slice order, so it makes the same decisions in the same order as the one-process loop:
a candidate is new iff its fingerprint is not yet in the global set; the first violation,
deadlock or evaluation error in that order ends the run with the same counts and trace.
It then tells each worker which candidates were new (they form the worker's next slice,
again contiguous in the one-process order) and which fingerprints the other workers added.
Slices are rebalanced between neighbours when their sizes drift apart, preserving order.

Unsupported with workers (the caller falls back to one process and says so): liveness
checking, which needs the whole behaviour graph in one process; platforms without `fork`.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import time
from array import array
from collections.abc import Callable
from typing import Any

from tlacheck.builtin.checker import Explorer, Progress, State, Violation
from tlacheck.builtin.runtime import Ctx
from tlacheck.builtin.values import EvalError
from tlacheck.result import TraceStep

# below this many states per worker a level is not worth rebalancing
_REBALANCE_MIN = 64


def unsupported_reason(ex: Explorer) -> str | None:
    if ex.keep_graph:
        return "liveness checking keeps the behaviour graph in one process"
    if "fork" not in mp.get_all_start_methods():
        return "worker processes need the 'fork' start method, unavailable on this platform"
    return None


# ---------------------------------------------------------------- worker process


class _Worker:
    def __init__(self, ex: Explorer, conn: Any) -> None:
        self.ex = ex
        self.conn = conn
        self.known = ex.seen  # this process's copy: fingerprints known to be seen
        self.frontier: list[State] = []
        self.cands: list[State] = []

    def loop(self) -> None:
        conn = self.conn
        while True:
            msg = conn.recv()
            op = msg[0]
            if op == "expand":
                conn.send_bytes(pickle.dumps(self.expand(), protocol=pickle.HIGHEST_PROTOCOL))
            elif op == "commit":
                mask: bytes = msg[1]
                self.frontier = [t for t, ok in zip(self.cands, mask, strict=True) if ok]
                self.cands = []
                delta = array("q")
                delta.frombytes(msg[2])
                self.known.update(delta)
            elif op == "load":
                self.frontier = msg[1]
            elif op == "give_tail":
                n = msg[1]
                cut = len(self.frontier) - n
                conn.send(self.frontier[cut:])
                del self.frontier[cut:]
            elif op == "give_head":
                n = msg[1]
                conn.send(self.frontier[:n])
                del self.frontier[:n]
            elif op == "put_head":
                self.frontier[:0] = msg[1]
            elif op == "put_tail":
                self.frontier.extend(msg[1])
            elif op == "stop":
                return

    def expand(self) -> dict[str, Any]:
        ex = self.ex
        m = ex.m
        known = self.known
        key = ex._keyf
        check_dl = m.check_deadlock
        has_aprops = bool(m.action_props) or bool(m.action_constraints)
        has_aconstr = bool(m.action_constraints)
        constraints = bool(m.constraints)
        gen = array("i")
        cpos = array("i")
        cord = array("i")
        cfp = array("q")
        flags: dict[int, Any] = {}
        cands = self.cands
        stop: tuple[Any, ...] | None = None
        for pos, st in enumerate(self.frontier):
            n = 0
            try:
                succs = ex.successors(st)
                ex.step_parent = st  # invariants reading only unchanged variables hold as in st
                if not succs and check_dl:
                    stop = ("deadlock",)
                sdict = ex.sdict(st) if has_aprops else None
                for label, t in succs:
                    # TLC's order, as in Explorer.run: in the model? seen? invariants of a
                    # state not seen (kept or not), then the action properties of every step
                    n += 1
                    c: Ctx | None = None
                    in_model = True
                    if sdict is not None and has_aconstr:
                        in_model = ex.in_actions(sdict, t)
                    if in_model and constraints:
                        c = Ctx(ex.sdict(t), None, {})
                        in_model = ex.in_model(t, c)
                    if in_model:
                        kt = key(t)
                        if kt not in known:
                            known.add(kt)
                            ci = len(cfp)
                            cands.append(t)
                            cpos.append(pos)
                            cord.append(n)
                            cfp.append(kt)
                            if c is None:
                                c = Ctx(ex.sdict(t), None, {})
                            try:
                                bad = ex.check_state(t, c)
                            except Exception as e:  # matters only if the state turns out to be new
                                flags[ci] = ("error", _portable(e))
                                bad = None
                            if bad is not None:
                                flags[ci] = ("inv", bad[0], bad[1])
                    else:
                        if c is None:
                            c = Ctx(ex.sdict(t), None, {})
                        bad = ex.check_state(t, c)  # never kept: checked every time, like TLC
                        if bad is not None:
                            tail = [TraceStep(ex.render_state(t), label or "Next")]
                            stop = ("violation", bad[0], bad[1], tail, f"Invariant {bad[1]} is violated")
                            break
                    if sdict is not None:
                        try:
                            ex.step_props(sdict, t, label)
                        except Violation as v:
                            stop = ("violation", v.outcome, v.name, v.trace, v.message)
                            break
            except Exception as e:
                stop = ("error", _portable(e))
            gen.append(n)
            if stop is not None:
                break
        ex.step_parent = None
        return {"gen": gen, "cpos": cpos, "cord": cord, "cfp": cfp, "flags": flags, "stop": stop}


def _portable(e: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else an EvalError with its text."""
    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:
        return EvalError(f"{type(e).__name__}: {e}")


def _worker_main(ex: Explorer, conn: Any) -> None:
    try:
        _Worker(ex, conn).loop()
    except (EOFError, KeyboardInterrupt, BrokenPipeError):
        pass


# ---------------------------------------------------------------- parent process


def run_parallel(
    ex: Explorer,
    workers: int,
    max_states: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> str | None:
    """Explore like `ex.run()` with `workers` processes. Raises Violation on a safety error;
    returns "max_states" if stopped early."""
    t0 = time.monotonic()
    init, stopped = ex.explore_initial(max_states)
    if stopped is not None or not init:
        return stopped
    ctx = mp.get_context("fork")
    conns: list[Any] = []
    procs: list[Any] = []
    try:
        for _ in range(workers):
            a, b = ctx.Pipe()
            p = ctx.Process(target=_worker_main, args=(ex, b), daemon=True)
            p.start()
            b.close()
            conns.append(a)
            procs.append(p)
        n0 = len(init)
        sizes = [n0 // workers + (1 if w < n0 % workers else 0) for w in range(workers)]
        at = 0
        for w, conn in enumerate(conns):
            conn.send(("load", [st for _, st in init[at : at + sizes[w]]]))
            at += sizes[w]
        level_start = init[0][0]
        del init
        return _levels(ex, conns, sizes, level_start, max_states, progress, t0)
    finally:
        for conn in conns:
            try:
                conn.send(("stop",))
            except (OSError, BrokenPipeError):
                pass
            conn.close()
        for p in procs:
            p.join(timeout=2)
            if p.is_alive():
                p.terminate()
                p.join()


def _levels(
    ex: Explorer,
    conns: list[Any],
    sizes: list[int],
    level_start: int,
    max_states: int | None,
    progress: Callable[[Progress], None] | None,
    t0: float,
) -> str | None:
    seen = ex.seen
    add = ex.add
    workers = len(conns)
    while sum(sizes):
        level_len = sum(sizes)
        ex.queue_len = level_len
        for conn in conns:
            conn.send(("expand",))
        start = level_start
        next_start = len(ex.fps)
        done_before = 0  # frontier states of this level merged so far
        masks: list[bytearray] = []
        added: list[array[int]] = []
        for w, conn in enumerate(conns):
            res = pickle.loads(conn.recv_bytes())
            gen, cpos, cord, cfp, flags = res["gen"], res["cpos"], res["cord"], res["cfp"], res["flags"]
            mask = bytearray(len(cfp))
            acc = array("q")
            ci = 0
            ncand = len(cfp)
            for pos in range(len(gen)):
                gbase = ex.generated
                parent = start + pos
                while ci < ncand and cpos[ci] == pos:
                    fp = cfp[ci]
                    if fp not in seen:
                        idx = add(fp, parent)
                        mask[ci] = 1
                        acc.append(fp)
                        f = flags.get(ci)
                        if f is not None:
                            ex.generated = gbase + cord[ci]
                            if f[0] == "inv":
                                raise Violation(f[1], f[2], ex.trace_to(idx), f"Invariant {f[2]} is violated")
                            raise f[1]
                        if max_states is not None and len(seen) >= max_states:
                            ex.generated = gbase + cord[ci]
                            ex.queue_len = level_len - (done_before + pos) - 1 + (len(ex.fps) - next_start)
                            return "max_states"
                    ci += 1
                ex.generated = gbase + gen[pos]
            stop = res["stop"]
            if stop is not None:
                at = start + len(gen) - 1
                if stop[0] == "deadlock":
                    raise Violation("deadlock", None, ex.trace_to(at), "Deadlock reached")
                if stop[0] == "violation":
                    _, outcome, name, tail, message = stop
                    raise Violation(outcome, name, ex.trace_to(at) + tail, message)
                raise stop[1]
            masks.append(mask)
            added.append(acc)
            start += sizes[w]
            done_before += sizes[w]
            if progress is not None:
                progress(
                    Progress(
                        len(seen),
                        ex.generated,
                        level_len - done_before + (len(ex.fps) - next_start),
                        ex.depth,
                        time.monotonic() - t0,
                    )
                )
        for w, conn in enumerate(conns):
            delta = array("q")
            for j, acc in enumerate(added):
                if j != w:
                    delta.extend(acc)
            conn.send(("commit", bytes(masks[w]), delta.tobytes()))
        sizes = [len(acc) for acc in added]
        level_start = next_start
        if sum(sizes):
            ex.depth += 1
            sizes = _rebalance(conns, sizes, workers)
    ex.queue_len = 0
    return None


def _rebalance(conns: list[Any], sizes: list[int], workers: int) -> list[int]:
    """Move states between neighbouring workers so slices are about equal; order is kept
    (a tail moves to the next worker's head, a head to the previous worker's tail)."""
    total = sum(sizes)
    if total < _REBALANCE_MIN * workers:
        return sizes
    target = [total // workers + (1 if w < total % workers else 0) for w in range(workers)]
    if max(abs(s - t) for s, t in zip(sizes, target, strict=True)) <= max(
        _REBALANCE_MIN, total // (10 * workers)
    ):
        return sizes
    sizes = list(sizes)
    for w in range(workers - 1):
        if sizes[w] > target[w]:
            n = sizes[w] - target[w]
            conns[w].send(("give_tail", n))
            conns[w + 1].send(("put_head", conns[w].recv()))
            sizes[w] -= n
            sizes[w + 1] += n
        elif sizes[w] < target[w]:
            n = min(target[w] - sizes[w], sizes[w + 1])
            if n:
                conns[w + 1].send(("give_head", n))
                conns[w].send(("put_tail", conns[w + 1].recv()))
                sizes[w] += n
                sizes[w + 1] -= n
    return sizes
