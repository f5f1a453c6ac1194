"""A worker wake-up (``collab_jobs:<workspace_id>``) is for jobs that can be claimed now; a job
whose run_at is ahead (a delay, a run_at, a retry's backoff) wakes no worker at its enqueue
(each idle worker would claim, find nothing and sleep again). Instead the statement tells the
workers when the earliest of its delayed jobs is due, ``@<ms> <queues>``
(collab.notify_jobs_later), and a worker claims then, not at its next poll. The job is in the
stream at once either way (its event wakes the subscribers)."""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest
from helpers import (
    acting_in,
    heard,
    listener,
    running,
    service_workspaces,
    wait_for,
    wait_listening,
)

from collab import AsyncWorker, Worker
from collab.client import ClaimedJob, Client
from collab.worker import MAX_DUE_TIMES, HandlerContext, keep_due


@pytest.fixture(scope="module")
def workspace(db_url: str) -> str:
    return service_workspaces(db_url, "notify-due", ("a",))["a"]


def later(payload: str) -> tuple[int, str]:
    """The milliseconds and queues of an ``@<ms> <queues>`` payload."""
    assert payload.startswith("@"), payload
    ms, _, queues = payload[1:].partition(" ")
    return int(ms), queues


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
            assert later(note) == (3_600_000, "nd-later"), "due in an hour, not now"
            a.enqueue("nd-now", "t")
            woken = [payload for channel, payload in heard(conn) if channel == jobs]
            assert woken == ["nd-now"], "a job due now wakes the workers at once"


def test_a_batch_wakes_for_its_due_jobs_and_says_when_the_earliest_other_is(
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
            assert later(ahead[1]) == (300_000, "nd-b,nd-c"), "the earliest, 5 minutes"
            a.enqueue_batch(
                [
                    {"queue": f"nd-d{i}", "type": "t", "delay": timedelta(seconds=90 - i)}
                    for i in range(3)
                ]
            )
            [(channel, payload)] = heard(conn)
            assert channel == jobs
            assert later(payload) == (88_000, "nd-d0,nd-d1,nd-d2"), (
                "every job ahead: no wake-up now"
            )


def test_delayed_jobs_of_too_many_queues_to_list_name_any(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
        names = [f"nd-long-{i:03}-" + "x" * 80 for i in range(100)]  # 9,100 bytes listed
        with listener(db_url, jobs) as conn:
            a.enqueue_batch([{"queue": q, "type": "t", "delay": "1 minute"} for q in names])
            [(_, payload)] = heard(conn)
        assert later(payload) == (60_000, ""), "too many to list: any queue"


def test_one_notice_of_jobs_due_later_per_50_ms_a_session(db_url: str, workspace: str) -> None:
    """Each notifying commit takes Postgres' one notification lock: a session tells of jobs
    due later at most once per 50 ms (collab.notify_jobs_later), as it wakes the stream."""
    with acting_in(db_url, workspace) as a:
        jobs = a.whoami()["jobs_channel"]
    claims = json.dumps({"role": "service_role", "workspace_id": workspace})
    with listener(db_url, jobs) as conn, psycopg.connect(db_url) as c:
        c.execute("select set_config('request.jwt.claims', %s, false)", [claims])
        c.commit()
        with c.pipeline():  # two statements of one transaction, well within 50 ms
            c.execute("select api.enqueue('nd-win', 't', delay => interval '1 second')")
            c.execute("select api.enqueue('nd-win', 't', delay => interval '2 seconds')")
        c.commit()
        [(_, first)] = heard(conn)
        assert later(first) == (1_000, "nd-win"), "the first; the second within 50 ms: none"
        c.execute("select api.enqueue('nd-win', 't', delay => interval '3 seconds')")
        c.commit()
        [(_, again)] = heard(conn)  # (heard waited 0.5 s)
        assert later(again) == (3_000, "nd-win"), "after the window, a notice again"


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
        assert later(payload) == (math.ceil(backoff.total_seconds() * 1000), "nd-retry")
        assert 15_000 <= later(payload)[0] <= 30_000, "the queue's backoff, with its jitter"
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


@pytest.fixture(params=["thread", "asyncio"])
def run_worker(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., list[float]]]:
    """Start a worker of the kind (the thread worker or the AsyncWorker, a 3 s poll) on a
    thread (helpers.running); the times of its claim calls, as it makes them. It stops at the
    end."""
    with contextlib.ExitStack() as stack:

        def start(
            client: Client, queue: str, name: str, on_job: Callable[[HandlerContext], None]
        ) -> list[float]:
            claims: list[float] = []
            if request.param == "thread":
                worker = Worker(client, [queue], 2, name=name, poll_seconds=3)
                real = worker._claim

                def counted(n: int) -> tuple[list[ClaimedJob], BaseException | None]:
                    claims.append(time.monotonic())
                    return real(n)

                monkeypatch.setattr(worker, "_claim", counted)
                worker.task("t")(on_job)
                stack.enter_context(running(worker))
            else:
                aworker = AsyncWorker(client, [queue], 2, name=name, poll_seconds=3)
                areal = aworker._claim

                async def acounted(n: int) -> list[ClaimedJob]:
                    claims.append(time.monotonic())
                    return await areal(n)

                async def handle(ctx: HandlerContext) -> None:
                    on_job(ctx)

                monkeypatch.setattr(aworker, "_claim", acounted)
                aworker.task("t")(handle)
                stack.enter_context(running(aworker))
            return claims

        yield start


def test_a_worker_claims_a_delayed_job_when_it_is_due_not_at_its_poll(
    db_url: str, workspace: str, run_worker: Callable[..., list[float]]
) -> None:
    with acting_in(db_url, workspace, max_size=4) as a:
        queue, name = "nd-work", f"nd-worker-{time.monotonic_ns()}"
        started: dict[int, float] = {}
        claims = run_worker(
            a, queue, name, lambda ctx: started.setdefault(ctx.job.id, time.monotonic())
        )
        wait_listening(db_url, name)
        # Right after a poll's claim: the next poll is about 3 s away, so in the 2.5 s after
        # the enqueue below only a notification can make the worker claim.
        first = len(claims)
        wait_for(lambda: len(claims) > first, 10, "a poll's claim")
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
