"""A job claimed for a worker that never got the claim's answer (a connection cut after the
commit, a call given up on) is not kept alive by that worker's heartbeats: the worker names the
jobs it runs, the heartbeat extends only those (revision 0036), and the job's lease expires, so
it is retried and runs. Before, every heartbeat of the live worker extended the lease of every
job its executor held, and such a job stayed running, run by nobody, until the worker stopped."""

from __future__ import annotations

import time

import psycopg
import pytest
from helpers import event_types, finished, make_worker, running, wait_for

from collab import AsyncWorker, Client, Worker
from collab.worker import HandlerContext


def _orphan_then_retry(
    db_url: str, worker: Worker | AsyncWorker, attempts: dict[int, list[int]]
) -> tuple[int, list[str]]:
    """While the worker runs: its executor claims a job on another connection (a claim whose
    answer the worker never gets); wait for the worker to run it and the job to succeed. The
    job's id and its events."""
    wait_for(lambda: worker.executor_id is not None, 10, "the worker registered")
    (queue,) = worker.queues
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
    job = finished(worker.client, job_id, 10)
    assert job["status"] == "succeeded"
    return job_id, event_types(job)


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
        # A 3 s lease: a heartbeat every second (lease / 3); retries 50 ms apart.
        if kind == "thread":
            worker = make_worker(Worker, client, queue, concurrency=2, poll_seconds=0.5)
            worker.task("t")(record)
            with running(worker):
                job_id, events = _orphan_then_retry(db_url, worker, attempts)
        else:
            aworker = make_worker(AsyncWorker, client, queue, concurrency=2, poll_seconds=0.5)
            aworker.task("t")(arecord)
            with running(aworker):
                job_id, events = _orphan_then_retry(db_url, aworker, attempts)
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
