"""A wake-up names only the queues its workers can claim from (collab.wake_workers): a job
enqueued, or made runnable again, on a paused queue or on one at its concurrency limit wakes
nobody. Before revision 0026 every idle worker of the queue claimed on it and found nothing:
four workers on a paused queue made 3.2 to 3.5 such claims an enqueue. Such a queue's jobs
are claimed on the wake-up that opens it (tests/py/integration/test_notify_queue_resumed.py)
or on the report of the job that frees a place."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from helpers import Started, acting_in, heard, listener, service_workspaces, wait_for

from collab.client import Client


@pytest.fixture(scope="module")
def workspace(db_url: str) -> str:
    return service_workspaces(db_url, "notify-closed", ("a",))["a"]


def test_an_enqueue_to_a_paused_queue_wakes_nobody(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        a.pause_queue("qc-paused")
        a.enqueue("qc-open", "t")  # both queues exist before the listener starts
        with listener(db_url, jobs) as conn:
            a.enqueue("qc-paused", "t")
            assert heard(conn) == [], "paused: nobody can claim its job"
            a.enqueue("qc-open", "t")
            assert heard(conn) == [(jobs, "qc-open")]
            a.enqueue_batch(
                [{"queue": q, "type": "t"} for q in ("qc-paused", "qc-open", "qc-new", "qc-paused")]
            )
            assert heard(conn) == [(jobs, "qc-new,qc-open")], "a batch: the open queues only"
            a.enqueue_batch([{"queue": "qc-paused", "type": "t"}] * 3)
            assert heard(conn) == [], "only paused queues: no wake-up at all"
            a.resume_queue("qc-paused")
            assert heard(conn) == [(jobs, "qc-paused")], "the resume wakes them (revision 0023)"
            a.enqueue("qc-paused", "t")
            assert heard(conn) == [(jobs, "qc-paused")], "open again"


def test_an_enqueue_to_a_queue_at_its_limit_wakes_nobody(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        a.configure_queue("qc-limit", concurrency_limit=2)
        ex = a.register_executor("qc-limit-executor", ["qc-limit"])
        with listener(db_url, jobs) as conn:
            a.enqueue_batch([{"queue": "qc-limit", "type": "t"}] * 2)
            assert heard(conn) == [(jobs, "qc-limit")], "none running: below the limit"
            first = a.claim(ex, max_jobs=1)
            a.enqueue("qc-limit", "t")
            assert heard(conn) == [(jobs, "qc-limit")], "one running of two"
            second = a.claim(ex, max_jobs=1)
            assert len(first) == len(second) == 1
            a.enqueue("qc-limit", "t")
            assert heard(conn) == [], "two running of two: nobody can claim it"
            a.complete(first[0].id, first[0].lease_token)
            a.enqueue("qc-limit", "t")
            assert heard(conn) == [(jobs, "qc-limit")], "a place freed"


def test_a_retry_due_now_wakes_only_an_open_queue(db_url: str, workspace: str) -> None:
    """The update trigger's wake-up (a job back to queued, due now) follows the same rule."""
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        ex = a.register_executor("qc-retry-executor", ["qc-retry"])
        a.enqueue_batch([{"queue": "qc-retry", "type": "t"}] * 2)
        claimed = a.claim(ex, max_jobs=2)
        assert len(claimed) == 2
        with listener(db_url, jobs) as conn:
            a.fail(claimed[0].id, claimed[0].lease_token, "x", retry_in=timedelta(0))
            assert heard(conn) == [(jobs, "qc-retry")]
            a.pause_queue("qc-retry")
            a.fail(claimed[1].id, claimed[1].lease_token, "x", retry_in=timedelta(0))
            assert heard(conn) == [], "paused"
            assert a.get_job(claimed[1].id)["status"] == "queued"


def test_an_idle_worker_does_not_claim_for_a_paused_queues_jobs(
    db_url: str, workspace: str, run_worker: Callable[[Client, str], Started]
) -> None:
    """A worker with a 3 s poll hears nothing from 20 enqueues to its paused queue, so it
    makes no claim until its poll (on 0025's code: one claim each, 20), and starts the jobs at
    the resume."""
    queue = f"qc-work-{time.monotonic_ns()}"
    with acting_in(db_url, workspace, max_size=4) as a:
        a.pause_queue(queue)
        claims, started = run_worker(a, queue)
        before = len(claims)
        at = time.monotonic()
        ids = [a.enqueue(queue, "t").id for _ in range(20)]
        time.sleep(0.3)
        made = [t for t in claims[before:] if t < at + 2.5]  # the next poll is 3 s after the last
        assert made == [], f"{len(made)} claims for a paused queue's jobs"
        assert not started
        a.resume_queue(queue)
        wait_for(lambda: all(i in started for i in ids), 10, "the jobs, after the resume")
