"""A job claimed for a worker that never got the claim's answer (a connection cut after the
commit, a call given up on) is not kept alive by that worker's heartbeats: the worker names the
jobs it runs, the heartbeat extends only those (revision 0036), and the job's lease expires, so
it is retried and runs. Before, every heartbeat of the live worker extended the lease of every
job its executor held, and such a job stayed running, run by nobody, until the worker stopped."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from helpers import ALL_JOBS, running, wait_for

from collab import AsyncWorker, Client, Worker
from collab.worker import HandlerContext


def _orphan_then_retry(
    db_url: str, worker: Worker | AsyncWorker, queue: str, attempts: dict[int, list[int]]
) -> tuple[int, list[str]]:
    """While the worker runs: its executor claims a job on another connection (a claim whose
    answer the worker never gets); wait for the worker to run it and the job to succeed. The
    job's id and its events."""
    wait_for(lambda: worker.executor_id is not None, 10, "the worker registered")
    # Enqueued and claimed in one transaction, so the worker's wake-up finds the job taken.
    with psycopg.connect(db_url) as side:
        row = side.execute("select (api.enqueue(%s, 't')).id", [queue]).fetchone()
        assert row is not None
        job_id: int = row[0]
        claimed = side.execute(
            "select id, attempt from api.claim(%s, array[%s], 1, 3)",
            [worker.executor_id, queue],
        ).fetchall()
        assert claimed == [(job_id, 1)]
    # The worker heartbeats meanwhile (about every second); the lease it does not know of
    # ends 3 s after the claim, the job is retried and the worker runs it.
    wait_for(lambda: job_id in attempts, 20, "the job, retried after its lease ended")
    with psycopg.connect(db_url, autocommit=True) as check:

        def status() -> Any:
            return check.execute(
                f"select status::text from {ALL_JOBS} where id = %s", [job_id]
            ).fetchone()

        wait_for(lambda: status() == ("succeeded",), 10, "the job succeeded")
        events = [
            r[0]
            for r in check.execute(
                "select type::text from collab.job_events where job_id = %s order by id",
                [job_id],
            ).fetchall()
        ]
    return job_id, events


@pytest.mark.parametrize("kind", ["thread", "asyncio"])
def test_a_claim_whose_answer_the_worker_never_got_expires_and_the_job_runs(
    db_url: str, kind: str
) -> None:
    queue = f"hb-orphan-{kind}-{time.monotonic_ns()}"
    attempts: dict[int, list[int]] = {}

    def record(ctx: HandlerContext) -> None:
        attempts.setdefault(ctx.job.id, []).append(ctx.job.attempt)

    async def arecord(ctx: HandlerContext) -> None:
        record(ctx)

    with Client(db_url, max_size=6) as client:
        client.configure_queue(queue, backoff_base_seconds=0.1, backoff_max_seconds=0.2)
        # A 3 s lease: a heartbeat every second (lease / 3).
        if kind == "thread":
            worker = Worker(client, [queue], 2, poll_seconds=0.5, lease_seconds=3)
            worker.task("t")(record)
            with running(worker):
                job_id, events = _orphan_then_retry(db_url, worker, queue, attempts)
        else:
            aworker = AsyncWorker(client, [queue], 2, poll_seconds=0.5, lease_seconds=3)
            aworker.task("t")(arecord)
            with running(aworker):
                job_id, events = _orphan_then_retry(db_url, aworker, queue, attempts)
    assert attempts[job_id] == [2], "the worker ran only the retry"
    assert events == ["enqueued", "claimed", "lease_expired", "claimed", "succeeded"]


def test_the_clients_heartbeat_extends_every_lease_unless_given_the_jobs(db_url: str) -> None:
    queue = f"hb-client-{time.monotonic_ns()}"
    with Client(db_url, max_size=2) as client:
        executor = client.register_executor(queue, [queue])
        client.enqueue_batch([{"queue": queue, "type": "t"} for _ in range(3)])
        held = sorted(j.id for j in client.claim(executor, [queue], 3, 60))
        assert len(held) == 3
        assert client.heartbeat(executor).extended == 3, "no job_ids: every lease"
        assert client.heartbeat(executor, []).extended == 0, "an empty list: none"
        beat = client.heartbeat(executor, [held[0], held[-1] + 10_000])
        assert (beat.extended, beat.lost) == (1, [held[-1] + 10_000])
