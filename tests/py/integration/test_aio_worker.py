"""collab.AsyncWorker against a real database: success, retry, dead, sync handlers, cancel,
shutdown, wake-ups, the slot and lease rules, and a caller's claims."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import helpers
import psycopg
import pytest
from helpers import event_types, finished, running, wait_for

from collab import AsyncJobContext, AsyncWorker, Client, JobContext, NonRetryable


@pytest.fixture
def client(db_url: str) -> Iterator[Client]:
    with Client(db_url, max_size=4) as c:
        yield c


def make_worker(client: Client, queue: str, **options: Any) -> AsyncWorker:
    return helpers.make_worker(AsyncWorker, client, queue, **options)


def test_async_handlers_succeed_with_their_result_on_the_workers_loop(client: Client) -> None:
    worker = make_worker(client, "aw-success")
    loops: set[int] = set()

    @worker.task("double")
    async def double(ctx: AsyncJobContext) -> dict[str, int]:
        loops.add(id(asyncio.get_running_loop()))
        await asyncio.sleep(0.01)
        return {"value": ctx.payload["n"] * 2}

    jobs = [client.enqueue("aw-success", "double", {"n": n}) for n in range(20)]
    with running(worker):
        results = [finished(client, j.id) for j in jobs]

    assert [r["status"] for r in results] == ["succeeded"] * 20
    assert [r["result"] for r in results] == [{"value": n * 2} for n in range(20)]
    assert all(r["attempt"] == 1 for r in results)
    assert all(event_types(r) == ["enqueued", "claimed", "succeeded"] for r in results)
    assert len(loops) == 1, "every handler runs on the worker's one loop"


def test_a_sync_handler_runs_in_a_thread_and_does_not_stall_the_loop(client: Client) -> None:
    """A blocking handler runs off the loop: an async job beside it finishes while it blocks."""
    worker = make_worker(client, "aw-sync")
    release = threading.Event()
    threads: list[str] = []

    @worker.task("blocking")
    def blocking(ctx: JobContext) -> str:
        assert isinstance(ctx, JobContext)  # the same context as under collab.Worker
        threads.append(threading.current_thread().name)
        assert release.wait(30)
        ctx.progress(1.0, "unblocked")
        return "done"

    @worker.task("quick")
    async def quick(ctx: AsyncJobContext) -> str:
        return "quick"

    slow = client.enqueue("aw-sync", "blocking")
    with running(worker):
        wait_for(lambda: threads or None, 30)
        fast = client.enqueue("aw-sync", "quick")
        assert finished(client, fast.id)["result"] == "quick"
        assert client.get_job(slow.id)["status"] == "running"
        release.set()
        result = finished(client, slow.id)
    assert result["result"] == "done"
    assert event_types(result) == ["enqueued", "claimed", "progress", "succeeded"]
    assert threads and threads[0] != "test-async-worker"


def test_exception_is_retried_then_succeeds_on_attempt_two(client: Client) -> None:
    worker = make_worker(client, "aw-retry")
    attempts: list[int] = []

    @worker.task("flaky")
    async def flaky(ctx: AsyncJobContext) -> str:
        attempts.append(ctx.job.attempt)
        if ctx.job.attempt == 1:
            raise RuntimeError("first try fails")
        return "ok"

    job = client.enqueue("aw-retry", "flaky")
    with running(worker):
        result = finished(client, job.id)

    assert result["status"] == "succeeded" and result["attempt"] == 2
    assert attempts == [1, 2]
    assert event_types(result) == ["enqueued", "claimed", "retry_scheduled", "claimed", "succeeded"]
    retry = result["events"][2]["data"]["error"]["error"]
    assert retry["type"] == "RuntimeError" and retry["message"] == "first try fails"


def test_non_retryable_and_unknown_types_go_dead_at_once(client: Client) -> None:
    worker = make_worker(client, "aw-dead")

    @worker.task("poison")
    async def poison(ctx: AsyncJobContext) -> None:
        raise NonRetryable("bad input")

    bad = client.enqueue("aw-dead", "poison", max_attempts=5)
    unknown = client.enqueue("aw-dead", "nobody_handles_this")
    with running(worker):
        bad_result = finished(client, bad.id)
        unknown_result = finished(client, unknown.id)

    assert bad_result["status"] == "dead" and bad_result["attempt"] == 1
    assert bad_result["last_error"]["error"]["type"] == "NonRetryable"
    assert unknown_result["status"] == "dead"
    assert unknown_result["last_error"]["error"]["reason"] == "unknown_type"


def test_progress_is_reported_under_the_jobs_lease(client: Client) -> None:
    worker = make_worker(client, "aw-progress")

    @worker.task("steps")
    async def steps(ctx: AsyncJobContext) -> str:
        job = await ctx.progress(0.5, "half way")
        assert job.status == "running"
        return "done"

    job = client.enqueue("aw-progress", "steps")
    with running(worker):
        result = finished(client, job.id)
    assert event_types(result) == ["enqueued", "claimed", "progress", "succeeded"]
    assert result["events"][2]["data"] == {"progress": 0.5, "message": "half way"}


def test_cancel_of_a_running_job_reaches_the_handler(client: Client) -> None:
    """lease_seconds=3 makes the heartbeat every second; the handler sees ctx.cancelled at
    the next heartbeat, its result is discarded and the job ends cancelled."""
    worker = make_worker(client, "aw-cancel")
    started = threading.Event()
    saw_cancel = threading.Event()

    @worker.task("long")
    async def long(ctx: AsyncJobContext) -> str:
        started.set()
        await asyncio.wait_for(ctx.cancelled.wait(), 30)
        saw_cancel.set()
        assert ctx.aborted
        return "finished anyway"  # must be discarded

    job = client.enqueue("aw-cancel", "long")
    with running(worker):
        assert started.wait(30)
        flagged = client.cancel(job.id)
        assert flagged.status == "running" and flagged.cancel_requested
        assert saw_cancel.wait(10), "the handler never saw the cancel"
        finished(client, job.id)
        time.sleep(0.5)  # give the worker a chance to (wrongly) report the result
        result = client.get_job(job.id)

    assert result["status"] == "cancelled" and result["result"] is None
    assert event_types(result) == ["enqueued", "claimed", "cancel_requested", "cancelled"]


def test_stop_cancels_and_fails_back_what_outlives_the_grace_period(client: Client) -> None:
    worker = make_worker(client, "aw-grace", grace_seconds=0.5)
    started = threading.Event()
    told = threading.Event()

    @worker.task("stubborn")
    async def stubborn(ctx: AsyncJobContext) -> str:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            if ctx.cancelled.is_set():
                told.set()
            raise
        return "too late"

    job = client.enqueue("aw-grace", "stubborn")
    with running(worker):
        assert started.wait(30)
    assert told.is_set(), "the handler was not cancelled at the end of the grace period"
    result = client.get_job(job.id)
    assert result["status"] == "queued" and result["attempt"] == 1
    assert result["last_error"]["error"] == {"reason": "worker_shutdown"}
    assert event_types(result) == ["enqueued", "claimed", "retry_scheduled"]


def test_at_most_concurrency_handlers_run_and_at_most_twice_as_many_leases_are_held(
    client: Client,
) -> None:
    worker = make_worker(client, "aw-slots", concurrency=3)
    now = {"running": 0, "most": 0}
    most_held = {"n": 0}

    @worker.task("t")
    async def t(ctx: AsyncJobContext) -> None:
        now["running"] += 1
        now["most"] = max(now["most"], now["running"])
        most_held["n"] = max(most_held["n"], len(worker._running))
        await asyncio.sleep(0.02)
        now["running"] -= 1

    jobs = client.enqueue_batch([{"queue": "aw-slots", "type": "t"} for _ in range(40)])
    with running(worker):
        results = [finished(client, j.id) for j in jobs]
    assert all(r["status"] == "succeeded" for r in results)
    assert now["most"] == 3
    assert most_held["n"] <= 6


def test_an_idle_worker_is_woken_by_the_enqueue_not_the_poll(client: Client) -> None:
    worker = make_worker(client, "aw-wake", poll_seconds=30)
    started: list[float] = []

    @worker.task("t")
    async def t(ctx: AsyncJobContext) -> None:
        started.append(time.monotonic())

    with running(worker):
        time.sleep(1.0)  # registered, listening and idle: its first claim found nothing
        at = time.monotonic()
        job = client.enqueue("aw-wake", "t")
        finished(client, job.id, timeout=10)
    assert started and started[0] - at < 5, "the job waited for the poll"


def test_stop_when_idle_drains_the_queue_and_returns(client: Client) -> None:
    worker = make_worker(client, "aw-idle", max_batch=7)

    @worker.task("t")
    async def t(ctx: AsyncJobContext) -> int:
        return int(ctx.payload["i"])

    client.enqueue_batch(
        [{"queue": "aw-idle", "type": "t", "payload": {"i": i}} for i in range(50)]
    )
    asyncio.run(worker.run(stop_when_idle=True))
    assert worker.processed == 50
    with psycopg.connect(client.dsn) as c:
        rows = c.execute(
            "select count(*) from collab.job_history where queue = 'aw-idle' and status = 'succeeded'"
        ).fetchone()
    assert rows is not None and rows[0] == 50
    with psycopg.connect(client.dsn) as c:
        left = c.execute(
            "select count(*) from pg_stat_activity where application_name like %s",
            [f"collab-% {worker.name}"],
        ).fetchone()
    assert left is not None and left[0] == 0, "run() returned with its connections open"


def test_calls_are_made_as_the_clients_caller(db_url: str) -> None:
    """A user's client: the worker registers, claims and completes as that user (their
    executor), under their workspace, through the claims set in each call's transaction."""
    user = uuid.uuid4()
    with Client(db_url, max_size=1) as service:
        ws = service.create_workspace(f"aw-{user.hex[:8]}")["workspace_id"]
    with Client(db_url, max_size=1, claims={"role": "service_role", "workspace_id": ws}) as c:
        c.add_member(user, "admin")
    owner_claims = {"role": "authenticated", "sub": str(user), "workspace_id": str(ws)}
    with Client(db_url, max_size=2, claims=owner_claims) as mine:
        worker = make_worker(mine, "aw-user")

        @worker.task("t")
        async def t(ctx: AsyncJobContext) -> str:
            return "mine"

        job = mine.enqueue("aw-user", "t")
        with running(worker):
            result = finished(mine, job.id)
        assert result["status"] == "succeeded" and result["result"] == "mine"
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select e.user_id, e.workspace_id from collab.executors e where e.id = %s",
            [worker.executor_id],
        ).fetchone()
    assert row == (user, uuid.UUID(str(ws)))


def test_connections_cut_mid_run_are_opened_again_and_every_job_finishes_once(
    client: Client,
) -> None:
    """The database ends every connection of the worker (a restart, a pooler's cut) while jobs
    flow: claims pause and resume, finished jobs are reported again on a new connection, and
    every job succeeds exactly once."""
    worker = make_worker(client, "aw-cut")
    ran: list[int] = []

    @worker.task("t")
    async def t(ctx: AsyncJobContext) -> None:
        ran.append(ctx.job.id)
        await asyncio.sleep(0.005)

    jobs = client.enqueue_batch([{"queue": "aw-cut", "type": "t"} for _ in range(300)])
    with running(worker):
        wait_for(lambda: len(ran) >= 50 or None, 30)
        with psycopg.connect(client.dsn, autocommit=True) as c:
            cut = c.execute(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                " where application_name like %s",
                [f"collab-% {worker.name}"],
            ).fetchone()
        assert cut is not None and cut[0] >= 2, "the worker's connections were not found"
        results = [finished(client, j.id, timeout=60) for j in jobs]
    assert all(r["status"] == "succeeded" for r in results)
    assert all(event_types(r).count("succeeded") == 1 for r in results)


def test_stop_when_idle_is_not_fooled_by_a_claim_on_a_broken_connection(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim that fails on a broken connection finds nothing, but claims are paused, not
    idle: the worker claims again after poll_seconds and drains the queue before returning."""
    worker = make_worker(client, "aw-idle-cut")

    @worker.task("t")
    async def t(ctx: AsyncJobContext) -> None:
        return None

    client.enqueue_batch([{"queue": "aw-idle-cut", "type": "t"} for _ in range(5)])
    call = worker._call
    failed: list[str] = []

    async def first_claim_breaks(role: str, query: str, params: Any) -> list[dict[str, Any]]:
        if "api.claim" in query and not failed:
            failed.append(query)
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return await call(role, query, params)

    monkeypatch.setattr(worker, "_call", first_claim_breaks)
    asyncio.run(worker.run(stop_when_idle=True))
    assert failed, "the patched claim was not made"
    assert worker.processed == 5


def test_at_low_load_a_job_costs_one_claim_that_finds_nothing(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Jobs one at a time: each is claimed on its notification by a claim that asks for every
    # free slot; its slot frees while that claim's queue was drained, so the next claim waits
    # for the job's report, and that claim alone finds nothing (not one for the slot, too).
    worker = make_worker(client, "aw-empty", poll_seconds=30)
    claims: list[int] = []
    claim = worker._claim

    async def counted(n: int) -> Any:
        jobs = await claim(n)
        claims.append(len(jobs))
        return jobs

    monkeypatch.setattr(worker, "_claim", counted)

    @worker.task("t")
    async def t(ctx: AsyncJobContext) -> None:
        return None

    with running(worker):
        wait_for(lambda: len(claims) >= 1, timeout=10)  # registered; its first claim found nothing
        for _ in range(10):
            job = client.enqueue("aw-empty", "t")
            finished(client, job.id, timeout=10)
            time.sleep(0.1)  # the report and its claim
    assert sum(claims) == 10
    # One a job, and the first; two a job (21 in all) before. A little room for a wake-up
    # that comes while a claim is under way.
    assert claims.count(0) <= 10 + 3, claims


def test_a_queue_at_its_concurrency_limit_runs_on_without_the_poll(client: Client) -> None:
    # A claim of a limited queue comes back short while the limit is reached; the reports of
    # the jobs that held the places claim the next ones (the poll is 30 s away).
    worker = make_worker(client, "aw-limit", poll_seconds=30)
    client.configure_queue("aw-limit", concurrency_limit=1)
    running_now = {"n": 0, "most": 0}

    @worker.task("t")
    async def t(ctx: AsyncJobContext) -> None:
        running_now["n"] += 1
        running_now["most"] = max(running_now["most"], running_now["n"])
        await asyncio.sleep(0.01)
        running_now["n"] -= 1

    helpers.run_past_a_limit(client, "aw-limit", running(worker))
    assert running_now["most"] == 1
