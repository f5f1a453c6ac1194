"""A worker wake-up (``collab_jobs:<workspace_id>``) is for jobs that can be claimed now; a job
whose run_at is ahead (a delay, a run_at, a retry's backoff) wakes no worker at its enqueue
(each idle worker would claim, find nothing and sleep again). Instead the statement tells the
workers when its delayed jobs are due, ``@<ms>[,<ms>...] <queues>`` (collab.notify_jobs_later:
their distinct due times from the statement's time, the earliest 64), and a worker claims at
each, not at its next poll. The job is in the stream at once either way (its event wakes the
subscribers)."""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from helpers import (
    Started,
    acting_in,
    heard,
    listener,
    service_workspaces,
    wait_for,
)

from collab.client import Client
from collab.worker import MAX_DUE_TIMES, keep_due


@pytest.fixture(scope="module")
def workspace(db_url: str) -> str:
    return service_workspaces(db_url, "notify-due", ("a",))["a"]


def later(payload: str) -> tuple[list[int], str]:
    """The milliseconds and queues of an ``@<ms>[,<ms>...] <queues>`` payload."""
    assert payload.startswith("@"), payload
    ms, _, queues = payload[1:].partition(" ")
    return [int(m) for m in ms.split(",")], queues


def about(ms: list[int], *delays_ms: int) -> bool:
    """Whether the notice's ms are the jobs' delays (from their transaction's time) counted from
    the statement's time instead: each up to 1 s less, none more (the statement came a little
    after its transaction began)."""
    return len(ms) == len(delays_ms) and all(
        d - 1_000 < m <= d for m, d in zip(ms, delays_ms, strict=True)
    )


@contextlib.contextmanager
def jobs_listener_and_session(
    db_url: str, workspace: str
) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """A listener on the workspace's jobs channel, and a session (not in autocommit: its
    transactions are the test's) acting in the workspace as the service role."""
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
    claims = json.dumps({"role": "service_role", "workspace_id": workspace})
    with listener(db_url, jobs) as conn, psycopg.connect(db_url) as c:
        c.execute("select set_config('request.jwt.claims', %s, false)", [claims])
        c.commit()
        yield conn, c


def test_a_delayed_job_wakes_no_worker_now_and_says_when_it_is_due(
    db_url: str, workspace: str
) -> None:
    with acting_in(db_url, workspace) as a:
        me = a.whoami()
        jobs, events = me["jobs_channel"], me["events_channel"]
        with listener(db_url, jobs, events) as conn:
            time.sleep(0.1)  # past the 50 ms events window of the session that enqueues
            a.enqueue("nd-later", "t", delay=timedelta(hours=1))
            got = heard(conn)
            assert (events, "") in got, "the stream's wake-up"
            [note] = [payload for channel, payload in got if channel == jobs]
            ms, queues = later(note)
            assert about(ms, 3_600_000) and queues == "nd-later", "due in an hour, not now"
            a.enqueue("nd-now", "t")
            woken = [payload for channel, payload in heard(conn) if channel == jobs]
            assert woken == ["nd-now"], "a job due now wakes the workers at once"


def test_a_batch_wakes_for_its_due_jobs_and_says_when_the_others_are(
    db_url: str, workspace: str
) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        with listener(db_url, jobs) as conn:
            a.enqueue_batch(
                [
                    {"queue": "nd-b", "type": "t"},
                    {"queue": "nd-c", "type": "t", "delay": timedelta(minutes=5)},
                    {"queue": "nd-a", "type": "t", "run_at": "2000-01-01T00:00:00Z"},
                    {"queue": "nd-b", "type": "t", "delay": timedelta(minutes=7)},
                ]
            )
            [now, ahead] = sorted(heard(conn), key=lambda n: n[1].startswith("@"))
            assert now == (jobs, "nd-a,nd-b"), "nd-c has only a job ahead"
            ms, queues = later(ahead[1])
            assert about(ms, 300_000, 420_000) and queues == "nd-b,nd-c", "5 and 7 minutes"
            a.enqueue_batch(
                [
                    {"queue": f"nd-d{i}", "type": "t", "delay": timedelta(seconds=90 - i)}
                    for i in range(3)
                ]
            )
            [(channel, payload)] = heard(conn)
            assert channel == jobs
            ms, queues = later(payload)
            assert about(ms, 88_000, 89_000, 90_000), "ascending"
            assert queues == "nd-d0,nd-d1,nd-d2", "every job ahead: no wake-up now"


def test_delayed_jobs_of_too_many_queues_to_list_name_any(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        names = [f"nd-long-{i:03}-" + "x" * 80 for i in range(100)]  # 9,100 bytes listed
        with listener(db_url, jobs) as conn:
            a.enqueue_batch([{"queue": q, "type": "t", "delay": "1 minute"} for q in names])
            [(_, payload)] = heard(conn)
        ms, queues = later(payload)
        assert about(ms, 60_000) and queues == "", "one time for 100 jobs; too many to list: any"


def test_a_notice_names_each_distinct_due_time_up_to_64(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        with listener(db_url, jobs) as conn:
            a.enqueue_batch(
                [
                    {"queue": "nd-many", "type": "t", "delay": timedelta(seconds=100 + i // 2)}
                    for i in reversed(range(200))  # two jobs a time, latest first
                ]
            )
            [(_, payload)] = heard(conn)
        ms, queues = later(payload)
        assert queues == "nd-many"
        assert about(ms, *(100_000 + 1_000 * i for i in range(64))), (
            "the earliest 64 of the 100 distinct times, ascending, each once"
        )


def test_a_notice_counts_from_its_statement_not_its_transaction(
    db_url: str, workspace: str
) -> None:
    """A transaction that enqueues a job 1 s ahead 0.6 s after it began: the job is due 1 s
    after the transaction's time (run_at), so 0.4 s after the statement, and the notice, sent
    at the commit, says about 400 ms (it said 1,000 before revision 0022: the workers woke
    0.6 s late)."""
    with jobs_listener_and_session(db_url, workspace) as (conn, c):
        c.execute("select pg_sleep(0.6)")
        c.execute("select api.enqueue('nd-long-tx', 't', delay => interval '1 second')")
        c.commit()
        [(_, payload)] = heard(conn)
    [ms], queues = later(payload)
    assert queues == "nd-long-tx" and 1 <= ms <= 400, ms


def test_one_notice_of_jobs_due_later_per_50_ms_a_session(db_url: str, workspace: str) -> None:
    """Each notifying commit takes Postgres' one notification lock: a session tells of jobs
    due later at most once per 50 ms (collab.notify_jobs_later), as it wakes the stream."""
    with jobs_listener_and_session(db_url, workspace) as (conn, c):
        with c.pipeline():  # two statements of one transaction, well within 50 ms
            c.execute("select api.enqueue('nd-win', 't', delay => interval '1 second')")
            c.execute("select api.enqueue('nd-win', 't', delay => interval '2 seconds')")
        c.commit()
        [(_, first)] = heard(conn)
        ms, queues = later(first)
        assert about(ms, 1_000) and queues == "nd-win", "the first; the second within 50 ms: none"
        c.execute("select api.enqueue('nd-win', 't', delay => interval '3 seconds')")
        c.commit()
        [(_, again)] = heard(conn)  # (heard waited 0.5 s)
        ms, queues = later(again)
        assert about(ms, 3_000) and queues == "nd-win", "after the window, a notice again"


def test_a_retry_says_when_its_backoff_ends_and_a_requeue_wakes_at_once(
    db_url: str, workspace: str
) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        a.configure_queue("nd-retry", backoff_base_seconds=30, backoff_jitter=0.5)
        job = a.enqueue("nd-retry", "t", max_attempts=2)
        executor = a.register_executor("nd-retry-worker", ["nd-retry"])
        [claimed] = a.claim(executor, ["nd-retry"])
        with listener(db_url, jobs) as conn:
            a.fail(job.id, claimed.lease_token, {"reason": "boom"}, retryable=True)
            [(_, payload)] = heard(conn)
        with psycopg.connect(db_url) as c:
            [(backoff,)] = c.execute(
                "select (data ->> 'run_at')::timestamptz - created_at from collab.job_events"
                " where job_id = %s and type = 'retry_scheduled'",
                [job.id],
            ).fetchall()
        ms, queues = later(payload)
        assert about(ms, math.ceil(backoff.total_seconds() * 1000)) and queues == "nd-retry"
        assert 14_000 < ms[0] <= 30_000, "the queue's backoff, with its jitter"
        assert a.claim(executor, ["nd-retry"]) == [], "not due yet"

        dead = a.enqueue("nd-dead", "t", max_attempts=1)
        [claimed] = a.claim(a.register_executor("nd-dead-worker", ["nd-dead"]), ["nd-dead"])
        a.fail(dead.id, claimed.lease_token, {"reason": "boom"}, retryable=False)
        with listener(db_url, jobs) as conn:
            a.requeue([dead.id])
            assert heard(conn) == [(jobs, "nd-dead")], "requeued now: runnable at once"


def test_a_heartbeat_sends_nothing(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        me = a.whoami()
        a.enqueue("nd-beat", "t")
        executor = a.register_executor("nd-beat-worker", ["nd-beat"])
        [claimed] = a.claim(executor, ["nd-beat"])
        with listener(db_url, me["jobs_channel"], me["events_channel"]) as conn:
            beat = a.heartbeat(executor, [claimed.id])
            assert beat.lost == [] and beat.cancelled == []
            assert heard(conn) == []


def test_a_worker_claims_a_delayed_job_when_it_is_due_not_at_its_poll(
    db_url: str, workspace: str, run_worker: Callable[[Client, str], Started]
) -> None:
    with acting_in(db_url, workspace, max_size=4) as a:
        queue = "nd-work"
        claims, started = run_worker(a, queue)  # the next poll 3 s away
        before = len(claims)
        at = time.monotonic()
        delayed = a.enqueue(queue, "t", delay=timedelta(seconds=1)).id
        time.sleep(0.7)
        assert len(claims) == before, "the enqueue of a job 1 s ahead made the worker claim"
        wait_for(lambda: delayed in started, 10, "the delayed job")
        assert 1.0 <= started[delayed] - at < 1.5, "started when due, not at the 3 s poll"
        assert claims[before] - at >= 1.0, "its first claim after the enqueue, when due"
        now = a.enqueue(queue, "t").id
        wait_for(lambda: now in started, 2, "a job due now wakes the worker at once")


def test_a_worker_claims_each_of_a_batchs_delayed_jobs_when_due(
    db_url: str, workspace: str, run_worker: Callable[[Client, str], Started]
) -> None:
    """One enqueue of three jobs due 0.6, 1.0 and 1.4 s ahead, with a 3 s poll: each starts
    when due. (Before revision 0022 the notice named the earliest only: the other two started
    at the poll.)"""
    with acting_in(db_url, workspace, max_size=4) as a:
        queue = "nd-batch-work"
        _, started = run_worker(a, queue)  # the next poll 3 s away
        at = time.monotonic()
        delays = (0.6, 1.0, 1.4)
        ids = [
            job.id
            for job in a.enqueue_batch(
                [{"queue": queue, "type": "t", "delay": timedelta(seconds=d)} for d in delays]
            )
        ]
        wait_for(lambda: all(i in started for i in ids), 10, "the delayed jobs")
        for job_id, delay in zip(ids, delays, strict=True):
            assert delay <= started[job_id] - at < delay + 0.35, (delay, started[job_id] - at)


def test_a_worker_keeps_the_earliest_due_times() -> None:
    due: list[float] = []
    for i in range(MAX_DUE_TIMES):
        keep_due(due, 86_400.0 + i)  # jobs due tomorrow
    keep_due(due, 60.0)  # one due in a minute
    assert len(due) == MAX_DUE_TIMES and due[0] == 60.0, "the nearer one is kept"
    assert max(due) == 86_400.0 + MAX_DUE_TIMES - 2, "the latest is dropped"
    keep_due(due, 90_000.0)
    assert max(due) == 86_400.0 + MAX_DUE_TIMES - 2, "a later one is not kept when full"
    assert [heapq.heappop(due) for _ in range(3)] == [60.0, 86_400.0, 86_401.0]
