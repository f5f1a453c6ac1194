"""A worker wake-up (``collab_jobs:<workspace_id>``) is for jobs that can be claimed now. An
enqueue whose run_at or delay puts a job ahead wakes no worker: each idle worker would claim,
find nothing and sleep again. The job is still in the stream at once (its ``enqueued`` event
wakes the subscribers), and a worker's poll runs it when it is due, as it does a retry whose
backoff ended (collab.jobs_after_update notifies on the same rule)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from helpers import acting_in, heard, listener, service_workspaces, wait_for, wait_listening

from collab import Worker
from collab.client import ClaimedJob
from collab.worker import JobContext


@pytest.fixture(scope="module")
def workspace(db_url: str) -> str:
    return service_workspaces(db_url, "notify-due", ("a",))["a"]


def test_a_delayed_job_wakes_no_worker_but_is_in_the_stream(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        me = a.whoami()
        jobs, events = me["jobs_channel"], me["events_channel"]
        with listener(db_url, jobs, events) as conn:
            time.sleep(0.1)  # past the 50 ms events window of the session that enqueues
            a.enqueue("nd-later", "t", delay=timedelta(hours=1))
            assert heard(conn) == [(events, "")], "the stream's wake-up only"
            a.enqueue("nd-now", "t")
            woken = [payload for channel, payload in heard(conn) if channel == jobs]
            assert woken == ["nd-now"], "a job due now still wakes the workers"


def test_a_batch_names_only_the_queues_of_its_due_jobs(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        with listener(db_url, jobs) as conn:
            a.enqueue_batch(
                [
                    {"queue": "nd-b", "type": "t"},
                    {"queue": "nd-c", "type": "t", "delay": timedelta(minutes=5)},
                    {"queue": "nd-a", "type": "t", "run_at": "2000-01-01T00:00:00Z"},
                    {"queue": "nd-b", "type": "t", "delay": timedelta(minutes=5)},
                ]
            )
            assert heard(conn) == [(jobs, "nd-a,nd-b")], "nd-c has only a job ahead"
            a.enqueue_batch(
                [
                    {"queue": f"nd-d{i}", "type": "t", "delay": timedelta(minutes=1)}
                    for i in range(3)
                ]
            )
            assert heard(conn) == [], "every job ahead: no worker wake-up"


def test_a_requeued_dead_job_wakes_the_workers(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        job = a.enqueue("nd-dead", "t", max_attempts=1)
        executor = a.register_executor("nd-dead-worker", ["nd-dead"])
        [claimed] = a.claim(executor, ["nd-dead"])
        a.fail(job.id, claimed.lease_token, {"reason": "boom"}, retryable=False)
        with listener(db_url, jobs) as conn:
            a.requeue([job.id])
            assert heard(conn) == [(jobs, "nd-dead")], "requeued now: runnable at once"


def test_a_worker_sleeps_through_a_delayed_enqueue_and_polls_it_when_due(
    db_url: str, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = "nd-work"
    with acting_in(db_url, workspace, max_size=4) as a:
        claims = 0
        done: list[int] = []
        real_claim = a.claim

        def counting(*args: Any, **kwargs: Any) -> list[ClaimedJob]:
            nonlocal claims
            claims += 1
            result: list[ClaimedJob] = real_claim(*args, **kwargs)
            return result

        monkeypatch.setattr(a, "claim", counting)
        # A 3 s poll: in the 1.5 s after an enqueue only a notification can wake the worker.
        worker = Worker(a, [queue], 2, name="nd-worker", poll_seconds=3)

        @worker.task("t")
        def handle(ctx: JobContext) -> None:
            done.append(ctx.job.id)

        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            wait_listening(db_url, "nd-worker")
            # Right after a poll's claim: the next poll is about 3 s away.
            first = claims
            wait_for(lambda: claims > first, 10, "a poll's claim")
            before = claims
            later = a.enqueue(queue, "t", delay=timedelta(seconds=2)).id
            time.sleep(1.5)
            assert claims == before, "a job 2 s ahead woke the worker to claim nothing"
            now = a.enqueue(queue, "t").id
            wait_for(lambda: now in done, 2, "a job due now wakes the worker at once")
            wait_for(lambda: later in done, 10, "the delayed job, found by the poll when due")
        finally:
            worker.stop()
            thread.join(30)
        assert not thread.is_alive()
