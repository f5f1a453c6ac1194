"""A job claimed again by the same worker while its earlier attempt's handler still runs there
(that attempt's lease expired: here moved on by the clock, as heartbeats failing for longer
than the lease would) keeps the new attempt's lease alive: the workers name each job with the
token of the attempt they run (revision 0037), and reporting the earlier attempt (refused,
lease_lost) no longer makes the worker forget the new one. Before, the earlier attempt's report
dropped the job from the worker's heartbeats, the new attempt's lease expired under its running
handler, and the job ran a third time."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from helpers import (
    event_types,
    fast_retries,
    finished,
    make_worker,
    running,
    wait_for,
    waiting_on_a_lock,
)

from collab import AsyncWorker, Client, InvalidInput, Worker
from collab.worker import HandlerContext


def _claimed_again(
    db_url: str,
    worker: Worker | AsyncWorker,
    contexts: list[HandlerContext],
    release: dict[int, threading.Event],
) -> int:
    """While the worker runs: a job whose first attempt's lease ends while its handler runs, so
    that the worker claims it again; the first handler then finishes (its report refused), and
    the second outlives its lease on heartbeats alone. The job's id."""
    client = worker.client
    (queue,) = worker.queues
    job_id = client.enqueue(queue, "t").id
    wait_for(lambda: len(contexts) == 1, 20, "the first attempt running")
    # The first attempt's lease ends: seen 3.5 s on, every lease of the queue has expired (a
    # heartbeat extends one to 3 s from now at most). The retry is due 3.5 s from now, and the
    # worker claims it while the first handler still runs. A heartbeat holding the row makes the
    # expiry skip it (skip locked): then it is tried again.
    with psycopg.connect(db_url, autocommit=True) as side:
        side.execute("set collab.clock_offset = '3.5 seconds'")
        wait_for(
            lambda: (
                side.execute(
                    "select collab.expire_leases(collab.default_workspace_id(), array[%s])", [queue]
                ).fetchone()
                == (1,)
            ),
            5,
            "the first attempt's lease expired",
        )
    wait_for(lambda: len(contexts) == 2, 20, "the second attempt running")
    first, second = contexts
    assert (first.job.attempt, second.job.attempt) == (1, 2)
    wait_for(first.lease_lost.is_set, 5, "the first attempt told it lost the job")
    assert not second.aborted
    # The first attempt finishes; its report is refused (lease_lost).
    release[1].set()
    wait_for(lambda: worker.processed >= 1, 10, "the first attempt reported")
    # Longer than the 3 s lease: the second attempt lives on its heartbeats only.
    time.sleep(4.5)
    assert not second.aborted, "the second attempt kept its lease"
    release[2].set()
    return job_id


@pytest.mark.parametrize("kind", ["thread", "asyncio"])
def test_a_job_claimed_again_by_the_same_worker_keeps_its_new_lease(db_url: str, kind: str) -> None:
    queue = f"hb-again-{kind}-{time.monotonic_ns()}"
    contexts: list[HandlerContext] = []
    release = {1: threading.Event(), 2: threading.Event()}

    def handle(ctx: HandlerContext) -> str:
        contexts.append(ctx)
        attempt = ctx.job.attempt
        if attempt in release:
            assert release[attempt].wait(30), f"attempt {attempt} was never released"
        return f"attempt {attempt}"

    with Client(db_url, max_size=6) as client:
        # A 3 s lease: a heartbeat every second; retries 50 ms apart.
        if kind == "thread":
            worker = make_worker(Worker, client, queue, concurrency=2)
            worker.task("t")(handle)
            with running(worker):
                job_id = _claimed_again(db_url, worker, contexts, release)
        else:
            aworker = make_worker(AsyncWorker, client, queue, concurrency=2)
            aworker.task("t")(handle)
            with running(aworker):
                job_id = _claimed_again(db_url, aworker, contexts, release)
        job = finished(client, job_id, 10)
    assert [c.job.attempt for c in contexts] == [1, 2], "the job ran twice, not three times"
    assert (job["status"], job["attempt"], job["result"]) == ("succeeded", 2, "attempt 2")
    assert event_types(job) == ["enqueued", "claimed", "lease_expired", "claimed", "succeeded"]


def test_the_clients_heartbeat_presents_lease_tokens(db_url: str) -> None:
    queue = f"hb-tokens-{time.monotonic_ns()}"
    with Client(db_url, max_size=2) as client:
        executor = client.register_executor(queue, [queue])
        client.enqueue_batch([{"queue": queue, "type": "t"} for _ in range(2)])
        a, b = sorted(client.claim(executor, [queue], 2, 60), key=lambda j: j.id)
        beat = client.heartbeat(executor, [a.id, b.id], [a.lease_token, uuid.uuid4()])
        assert (beat.extended, beat.lost) == (1, [b.id]), "b named with a token not its own"
        beat = client.heartbeat(executor, [a.id, b.id], [a.lease_token, b.lease_token])
        assert (beat.extended, beat.lost) == (2, [])
        with pytest.raises(
            InvalidInput, match="lease_tokens holds 1 tokens for 2 job_ids"
        ) as raised:
            client.heartbeat(executor, [a.id, b.id], [a.lease_token])
        assert (raised.value.sqlstate, raised.value.detail["field"]) == ("PT400", "lease_tokens")


def test_a_heartbeat_waiting_on_a_claim_again_finds_its_token_stale(db_url: str) -> None:
    """A heartbeat naming a job with its token waits for the transaction that expires that
    lease and claims the job again (the same executor, a new token); when that commits, the
    heartbeat checks the row it waited for against the token it named: lost, and the new
    lease is left as the new claim set it."""
    queue = f"hb-race-{time.monotonic_ns()}"
    with Client(db_url, max_size=2) as client, psycopg.connect(db_url, autocommit=True) as admin:
        fast_retries(client, queue)
        executor = client.register_executor(queue, [queue])
        job_id = client.enqueue(queue, "t").id
        (first,) = client.claim(executor, [queue], 1, 60)
        outcome: list[Any] = []
        with psycopg.connect(db_url) as again, psycopg.connect(db_url, autocommit=True) as beat:
            again.execute("set local collab.clock_offset = '1 hour'")
            again.execute(
                "select collab.expire_leases(collab.default_workspace_id(), array[%s])", [queue]
            )
            again.execute("set local collab.clock_offset = '2 hours'")  # past the backoff
            row = again.execute(
                "select id, lease_token, lease_expires_at from api.claim(%s, array[%s], 1, 60)",
                [executor, queue],
            ).fetchone()
            assert row is not None and row[0] == job_id and row[1] != first.lease_token
            new_lease = row[2]

            def heartbeat() -> None:
                outcome.append(
                    beat.execute(
                        "select extended, lost from api.heartbeat(%s, %s, %s)",
                        [executor, [job_id], [first.lease_token]],
                    ).fetchone()
                )

            thread = threading.Thread(target=heartbeat)
            thread.start()
            wait_for(
                lambda: waiting_on_a_lock(admin, beat.info.backend_pid),
                10,
                "the heartbeat waiting on the job's row",
            )
            again.commit()
            thread.join(10)
        assert outcome == [(0, [job_id])], "the stale token extends nothing and is lost"
        lease = admin.execute(
            "select lease_expires_at, attempt from collab.jobs where id = %s", [job_id]
        ).fetchone()
        assert lease == (new_lease, 2)
