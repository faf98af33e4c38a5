"""Seeded data for the dashboard tests and screenshots: three queues with jobs in every state.

Written through the public API with a ManualClock that starts a few minutes in the past and ends
just before now, so the dashboard (on the system clock) sees recent rates, pickup latencies and
an oldest queued job a few minutes old.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from ringq import Failure, Job, ManualClock, Queue, install


@dataclass
class Seeded:
    completed: list[int] = field(default_factory=list)
    running: list[int] = field(default_factory=list)  # the first one has reported progress
    queued: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    dlq: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    flaky: int = 0  # completed on its second attempt, after a retried first one


def _traceback(error: str) -> str:
    """A handler's traceback as a worker records it (sample text: no such files exist)."""
    where = {
        "PIL.U": ('"/app/tasks/images.py", line 41, in resize_image', "img = Image.open(io.BytesIO(blob))"),
        "Timeo": (
            '"/app/tasks/images.py", line 57, in resize_image',
            "await asyncio.wait_for(render(img), 30)",
        ),
        "SMTPS": ('"/app/tasks/mail.py", line 23, in send_email', "await smtp.send_message(message)"),
        "Conne": ('"/app/tasks/billing.py", line 88, in charge_invoice', "await gateway.charge(invoice)"),
    }[error[:5]]
    return f"Traceback (most recent call last):\n  File {where[0]}\n    {where[1]}\n{error}\n"


def seed(db_url: str, schema: str) -> Seeded:
    with psycopg.connect(db_url, autocommit=True) as conn:
        install(conn, schema)
    clock = ManualClock(datetime.now(UTC) - timedelta(seconds=200))
    out = Seeded()
    with Queue(db_url, schema=schema, clock=clock) as q:
        # reports: old queued work nobody picks up, a cancelled job, and scheduled jobs.
        out.queued += q.enqueue_many([Job("render_report", {"report": i}, queue="reports") for i in range(3)])
        out.deferred += q.enqueue_many(
            [Job("monthly_digest", {"month": m}, queue="reports", delay=3600 * (m + 1)) for m in range(4)]
        )
        cancel_me = q.enqueue("render_report", {"report": 99}, queue="reports")
        q.cancel(cancel_me)
        out.cancelled.append(cancel_me)
        clock.advance(30)

        # email: a busy queue, mostly done, a few running (one reports progress), one retried.
        emails = q.enqueue_many(
            [Job("send_email", {"to": f"user{i}@example.com"}, queue="email") for i in range(30)]
        )
        clock.advance(1.5)
        claimed = q.claim(worker="worker-a:1234", queues=["email"], limit=24, lease=120)
        clock.advance(0.4)
        for c in claimed[:20]:
            q.complete(c.job_id, c.run_lease, {"sent": True, "message_id": f"<{c.job_id}@mx>"})
            out.completed.append(c.job_id)
        running = claimed[20:23]
        q.heartbeat(
            [(c.job_id, c.run_lease) for c in running],
            lease=600,
            progress={running[0].job_id: {"step": "rendering", "done": 3, "of": 5}},
        )
        out.running += [c.job_id for c in running]
        retry = claimed[23]
        q.fail(
            Failure(
                retry.job_id,
                retry.run_lease,
                "SMTPServerDisconnected: Connection unexpectedly closed",
                traceback=_traceback("SMTPServerDisconnected: Connection unexpectedly closed"),
                retry_delay=900,
            )
        )
        out.retried.append(retry.job_id)
        out.queued += [j for j in emails if j not in {c.job_id for c in claimed}]
        clock.advance(60)

        # images: one attempt each; the failures land in the DLQ with their tracebacks.
        images = q.enqueue_many(
            [
                Job("resize_image", {"id": i, "size": "800x600"}, queue="images", max_attempts=1)
                for i in range(12)
            ]
        )
        clock.advance(0.2)
        claimed = q.claim(worker="worker-b:5678", queues=["images"], limit=12, lease=120)
        clock.advance(2.5)
        errors = [
            "PIL.UnidentifiedImageError: cannot identify image file",
            "TimeoutError: handler exceeded 30 s",
        ]
        for i, c in enumerate(claimed):
            if i % 3 == 0:
                q.fail(Failure(c.job_id, c.run_lease, errors[i % 2], traceback=_traceback(errors[i % 2])))
                out.dlq.append(c.job_id)
            else:
                q.complete(c.job_id, c.run_lease, {"bytes": 48_000 + i})
                out.completed.append(c.job_id)
        assert len(claimed) == len(images)
        clock.advance(20)

        # billing: one job that failed once, was retried, and completed on its second attempt.
        out.flaky = q.enqueue(
            "charge_invoice", {"invoice": "INV-2041", "amount_cents": 129900}, queue="billing"
        )
        clock.advance(0.8)
        [first] = q.claim(worker="worker-c:4242", queues=["billing"], limit=1, lease=60)
        clock.advance(3)
        q.fail(
            Failure(
                first.job_id,
                first.run_lease,
                "ConnectionResetError: payment gateway reset the connection",
                traceback=_traceback("ConnectionResetError: payment gateway reset the connection"),
                retry_delay=5,
            )
        )
        clock.advance(6)
        q.promote()
        clock.advance(0.3)
        [second] = q.claim(worker="worker-a:1234", queues=["billing"], limit=1, lease=60)
        clock.advance(1)
        q.heartbeat(
            [(second.job_id, second.run_lease)], lease=60, progress={second.job_id: {"step": "captured"}}
        )
        clock.advance(0.5)
        q.complete(second.job_id, second.run_lease, {"charged": True, "gateway_id": "ch_3Nf0a2"})
        out.completed.append(out.flaky)
        clock.advance(1)
    return out
