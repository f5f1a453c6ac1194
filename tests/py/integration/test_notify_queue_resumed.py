"""A queue that is resumed, or whose concurrency limit is raised or removed, wakes its workers
for the jobs it holds (collab.queues_after_update): those jobs could not be claimed a moment
ago, their enqueue's wake-up is long past, and before revision 0022 they started at the
workers' next poll."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest
from helpers import Started, acting_in, heard, listener, service_workspaces, wait_for

from collab.client import Client


@pytest.fixture(scope="module")
def workspace(db_url: str) -> str:
    return service_workspaces(db_url, "notify-resumed", ("a",))["a"]


def test_a_resumed_queue_with_jobs_wakes_its_workers(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        a.pause_queue("qr-held")
        a.pause_queue("qr-empty")
        a.enqueue("qr-held", "t")
        with listener(db_url, jobs) as conn:
            a.resume_queue("qr-held")
            assert heard(conn) == [(jobs, "qr-held")], "its job can be claimed now"
            a.resume_queue("qr-empty")
            assert heard(conn) == [], "no job: nobody to wake"
            a.resume_queue("qr-held")
            assert heard(conn) == [], "not paused before: nothing changed"
            a.pause_queue("qr-held")
            assert heard(conn) == [], "a pause wakes nobody"


def test_a_raised_or_removed_concurrency_limit_wakes_its_workers(
    db_url: str, workspace: str
) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        a.configure_queue("qr-limit", concurrency_limit=1)
        a.enqueue("qr-limit", "t")
        with listener(db_url, jobs) as conn:
            a.configure_queue("qr-limit", concurrency_limit=3)
            assert heard(conn) == [(jobs, "qr-limit")], "raised"
            a.configure_queue("qr-limit", concurrency_limit=2)
            assert heard(conn) == [], "lowered"
            a.configure_queue("qr-limit", lease_seconds=60, max_attempts=3)
            assert heard(conn) == [], "other settings"
            a.configure_queue("qr-limit", concurrency_limit=0)
            assert heard(conn) == [(jobs, "qr-limit")], "removed"
            a.pause_queue("qr-limit")
            a.configure_queue("qr-limit", concurrency_limit=5)
            assert heard(conn) == [], "raised on a paused queue: still paused"


def test_a_dbas_update_wakes_the_workers_of_each_workspace_once(db_url: str) -> None:
    ws = service_workspaces(db_url, "notify-resumed-dba", ("a", "b"))
    channels = {}
    for name, wid in ws.items():
        with acting_in(db_url, wid) as c:
            channels[name] = c.whoami()["jobs_channel"]
            for q in ("qr-d1", "qr-d2"):
                c.pause_queue(q)
                c.enqueue(q, "t")
    with listener(db_url, *channels.values()) as conn, psycopg.connect(db_url) as dba:
        dba.execute(
            "update collab.queues set paused = false where workspace_id = any(%s::uuid[])",
            [list(ws.values())],
        )
        dba.commit()
        assert sorted(heard(conn)) == sorted((ch, "qr-d1,qr-d2") for ch in channels.values())


def test_a_worker_starts_a_resumed_queues_job_at_once(
    db_url: str, workspace: str, run_worker: Callable[[Client, str], Started]
) -> None:
    """A worker with a 3 s poll: the job of a queue paused when it was enqueued starts within
    0.5 s of the resume (at the poll, up to 3 s later, before revision 0022)."""
    queue = f"qr-work-{time.monotonic_ns()}"
    with acting_in(db_url, workspace, max_size=4) as a:
        a.pause_queue(queue)
        _, started = run_worker(a, queue)
        job = a.enqueue(queue, "t")
        time.sleep(0.5)  # paused: no wake-up (collab.wake_workers), nothing claimed
        assert job.id not in started, "a paused queue's job ran"
        assert a.get_job(job.id)["status"] == "queued"
        at = time.monotonic()
        a.resume_queue(queue)
        wait_for(lambda: job.id in started, 2.5, "the job, before the poll")
        assert started[job.id] - at < 0.5
