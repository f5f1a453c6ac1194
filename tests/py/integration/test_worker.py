"""collab.Worker in-process against a real database: success, retry, dead, async, cancel."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import helpers
import psycopg
import pytest
from helpers import event_types, finished, running, wait_for

from collab import Client, JobContext, NonRetryable, Worker


@pytest.fixture
def client(db_url: str) -> Iterator[Client]:
    with Client(db_url, max_size=4) as c:
        yield c


def make_worker(client: Client, queue: str, **options: Any) -> Worker:
    return helpers.make_worker(Worker, client, queue, **options)


def run_noop_jobs(client: Client, worker: Worker, n: int, timeout: float = 30.0) -> list[Any]:
    """Enqueue n no-op jobs on the worker's queue, run it until they have all finished, and
    return them as api.get_job has them."""

    @worker.task("noop")
    def noop(ctx: JobContext) -> None:
        return None

    jobs = [client.enqueue(worker.queues[0], "noop") for _ in range(n)]
    with running(worker):
        return [finished(client, j.id, timeout) for j in jobs]


def first_claim_call_does(
    client: Client, monkeypatch: pytest.MonkeyPatch, action: Callable[[], object]
) -> dict[str, int]:
    """Patch client.claim: its first call runs action() first (which may raise or wait); every
    call is counted in the returned {"n": calls}."""
    lock = threading.Lock()
    calls = {"n": 0}
    claim = client.claim

    def patched(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls["n"] += 1
            first = calls["n"] == 1
        if first:
            action()
        return claim(*args, **kwargs)

    monkeypatch.setattr(client, "claim", patched)
    return calls


def test_handlers_succeed_with_their_result(client: Client) -> None:
    worker = make_worker(client, "w-success")
    seen: list[tuple[int, Any]] = []

    @worker.task("double")
    def double(ctx: JobContext) -> dict[str, int]:
        seen.append((ctx.job.attempt, ctx.payload))
        return {"value": ctx.payload["n"] * 2}

    jobs = [client.enqueue("w-success", "double", {"n": n}) for n in range(10)]
    with running(worker):
        results = [finished(client, j.id) for j in jobs]

    assert [r["status"] for r in results] == ["succeeded"] * 10
    assert [r["result"] for r in results] == [{"value": n * 2} for n in range(10)]
    assert all(r["attempt"] == 1 for r in results)
    assert all(event_types(r) == ["enqueued", "claimed", "succeeded"] for r in results)
    assert sorted(p["n"] for _, p in seen) == list(range(10))


def test_claims_of_max_batch_fill_every_free_slot_without_waiting_for_a_poll(
    client: Client,
) -> None:
    # max_batch=1 with 4 slots: after a full claim of one job the worker claims again at
    # once. Were a claim of one taken for a short claim, the other jobs would wait for the
    # next poll (an hour here) and the four handlers would never meet at the barrier.
    worker = make_worker(client, "w-batch1", max_batch=1, poll_seconds=3600)
    barrier = threading.Barrier(4, timeout=20)

    @worker.task("meet")
    def meet(ctx: JobContext) -> None:
        barrier.wait()

    jobs = [client.enqueue("w-batch1", "meet") for _ in range(4)]
    with running(worker):
        results = [finished(client, j.id) for j in jobs]
    assert [r["status"] for r in results] == ["succeeded"] * 4


def test_free_slots_beyond_max_batch_claim_side_by_side(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four slots with max_batch=1 claim like consumers of one job each, not one after another:
    # with a pool of 4 connections, two claims (the pool less the reporter's and the
    # heartbeat's) are under way at once. One claim loop made the worker's rate one over the
    # claim's latency (the burst row of docs/bench.md).
    worker = make_worker(client, "w-lanes", max_batch=1, poll_seconds=3600)
    lock = threading.Lock()
    state = {"now": 0, "most": 0}
    claim = client.claim

    def slow_claim(*args: Any, **kwargs: Any) -> Any:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            time.sleep(0.2)
            return claim(*args, **kwargs)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(client, "claim", slow_claim)
    results = run_noop_jobs(client, worker, 8)
    assert [r["status"] for r in results] == ["succeeded"] * 8
    assert state["most"] == 2, f"at most {state['most']} claims at once"


def test_jobs_of_the_claims_that_succeed_start_when_a_claim_beside_them_fails(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first claim call fails as if its connection broke, while the call beside it claims a
    # job: that job is leased to the worker, so it starts at once, not after its lease
    # (60 s here, past the wait below) has run out.
    worker = make_worker(client, "w-lane-fails", max_batch=1, lease_seconds=60)

    def connection_lost() -> None:
        time.sleep(0.1)  # the call beside it has claimed by now
        raise psycopg.OperationalError("connection lost (test)")

    first_claim_call_does(client, monkeypatch, connection_lost)
    results = run_noop_jobs(client, worker, 4, timeout=20)
    assert [r["status"] for r in results] == ["succeeded"] * 4
    assert all(r["attempt"] == 1 for r in results)


def test_with_claims_of_one_a_freed_slot_claims_its_next_job_on_its_own_thread(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # max_batch=1: when a handler returns, its thread claims the slot's next job and runs it
    # there, like a consumer of its own, instead of waking the main loop to claim on the claim
    # pool and handing the job back (three thread hand-offs a job). So past the first claims
    # (the main loop's, for the idle slots), the claims are made on the handler threads, and
    # each job runs on the thread that claimed it. A pool of 6: a claim lane for each slot.
    client = Client(db_url, max_size=6)
    worker = make_worker(client, "w-own-slot", max_batch=1, poll_seconds=3600)
    claim = client.claim
    claimed_on: dict[int, str] = {}
    ran_on: dict[int, str] = {}

    def recording_claim(*args: Any, **kwargs: Any) -> Any:
        jobs = claim(*args, **kwargs)
        here = threading.current_thread().name
        for job in jobs:
            claimed_on[job.id] = here
        return jobs

    monkeypatch.setattr(client, "claim", recording_claim)

    @worker.task("noop")
    def noop(ctx: JobContext) -> None:
        ran_on[ctx.job.id] = threading.current_thread().name
        # Long enough for the reporter to keep up on a loaded machine: with more than twice
        # concurrency leases held (finished jobs count until reported), a freed slot is left to
        # the main loop (the lease cap), and with 10 ms handlers that happened for 11 of 40.
        time.sleep(0.05)

    jobs = [client.enqueue("w-own-slot", "noop") for _ in range(40)]
    with client, running(worker):
        results = [finished(client, j.id) for j in jobs]
    assert [r["status"] for r in results] == ["succeeded"] * 40
    on_handlers = [j for j, t in claimed_on.items() if t.startswith("collab-job")]
    # 0 of 40 with the worker that woke the main loop for every freed slot.
    assert len(on_handlers) >= 28, f"{len(on_handlers)} of 40 jobs claimed on handler threads"
    assert all(ran_on[j] == claimed_on[j] for j in on_handlers)


def test_with_claims_of_many_the_main_loop_claims_for_freed_slots_together(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # max_batch above one: slots freed together go out in one call of the claim pool (a
    # handler's thread claiming for its own slot made the 4-way row's claims of 4 claims of 1).
    worker = make_worker(client, "w-main-claims", max_batch=4, poll_seconds=3600)
    claim = client.claim
    claim_threads: list[str] = []

    def recording_claim(*args: Any, **kwargs: Any) -> Any:
        claim_threads.append(threading.current_thread().name)
        return claim(*args, **kwargs)

    monkeypatch.setattr(client, "claim", recording_claim)
    results = run_noop_jobs(client, worker, 20)
    assert [r["status"] for r in results] == ["succeeded"] * 20
    assert claim_threads and all(t.startswith("collab-claim") for t in claim_threads)


def test_a_slow_claim_call_does_not_hold_up_the_other_slots(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The main loop hands claim calls to the claim pool and never waits for one: while the
    # first call hangs (a slow network, a lock), the other lane goes on claiming and running
    # jobs one at a time for the free slots. A loop that waited for its calls would stop
    # claiming until the hung call returned and run at most one job meanwhile.
    worker = make_worker(client, "w-hung-lane", max_batch=1, poll_seconds=0.2)
    release = threading.Event()
    calls = first_claim_call_does(client, monkeypatch, lambda: release.wait(30))

    @worker.task("noop")
    def noop(ctx: JobContext) -> None:
        return None

    jobs = [client.enqueue("w-hung-lane", "noop") for _ in range(6)]
    with running(worker):
        try:
            results = [finished(client, j.id, timeout=15) for j in jobs]
            still_hung = not release.is_set()
        finally:
            release.set()
    assert [r["status"] for r in results] == ["succeeded"] * 6
    assert still_hung
    assert calls["n"] >= 7  # the hung call and at least one claim per job beside it


def test_a_claim_under_way_at_stop_runs_its_jobs_before_run_returns(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # stop() while a claim call is still under way: run() waits for the call, and the job it
    # claimed runs within the grace period. Left behind, it would stay leased to a stopped
    # worker until its lease ran out (60 s here).
    worker = make_worker(client, "w-stop-claiming", lease_seconds=60)
    entered = threading.Event()

    def slow() -> None:
        entered.set()
        time.sleep(0.5)

    first_claim_call_does(client, monkeypatch, slow)

    @worker.task("noop")
    def noop(ctx: JobContext) -> str:
        return "ran"

    job = client.enqueue("w-stop-claiming", "noop")
    with running(worker):
        assert entered.wait(10)
    result = client.get_job(job.id)
    assert (result["status"], result["result"]) == ("succeeded", "ran")


def test_a_claim_error_other_than_a_broken_connection_is_raised_by_run(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A broken connection is waited out (the database restarts); any other error in a claim
    # call, made on the claim pool, ends run() with that error, as a bug must.
    worker = make_worker(client, "w-claim-bug")

    def broken_claim(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("a bug in claim (test)")

    monkeypatch.setattr(client, "claim", broken_claim)
    with pytest.raises(ValueError, match="a bug in claim"):
        worker.run()


def test_exception_is_retried_then_succeeds_on_attempt_two(client: Client) -> None:
    worker = make_worker(client, "w-retry")
    attempts: list[int] = []

    @worker.task("flaky")
    def flaky(ctx: JobContext) -> str:
        attempts.append(ctx.job.attempt)
        if ctx.job.attempt == 1:
            raise RuntimeError("transient trouble")
        return "ok"

    job = client.enqueue("w-retry", "flaky")
    with running(worker):
        result = finished(client, job.id)

    assert attempts == [1, 2]
    assert result["status"] == "succeeded"
    assert result["attempt"] == 2
    assert result["result"] == "ok"
    assert event_types(result) == [
        "enqueued",
        "claimed",
        "retry_scheduled",
        "claimed",
        "succeeded",
    ]
    retry = result["events"][2]
    assert retry["attempt"] == 1


def test_non_retryable_goes_dead_at_once(client: Client) -> None:
    worker = make_worker(client, "w-dead")
    attempts: list[int] = []

    @worker.task("doomed")
    def doomed(ctx: JobContext) -> None:
        attempts.append(ctx.job.attempt)
        raise NonRetryable("bad input, do not retry")

    job = client.enqueue("w-dead", "doomed", max_attempts=5)
    with running(worker):
        result = finished(client, job.id)

    assert attempts == [1]
    assert result["status"] == "dead"
    assert result["attempt"] == 1
    assert result["last_error"]["reason"] == "non_retryable"
    assert result["last_error"]["error"]["type"] == "NonRetryable"
    assert result["last_error"]["error"]["message"] == "bad input, do not retry"
    assert event_types(result) == ["enqueued", "claimed", "dead"]


def test_exhausted_attempts_go_dead(client: Client) -> None:
    worker = make_worker(client, "w-exhausted")

    @worker.task("always_fails")
    def always_fails(ctx: JobContext) -> None:
        raise ValueError(f"attempt {ctx.job.attempt}")

    job = client.enqueue("w-exhausted", "always_fails", max_attempts=2)
    with running(worker):
        result = finished(client, job.id)

    assert result["status"] == "dead"
    assert result["attempt"] == 2
    assert result["last_error"]["reason"] == "max_attempts_exceeded"
    assert result["last_error"]["error"]["message"] == "attempt 2"


def test_async_handler(client: Client) -> None:
    worker = make_worker(client, "w-async")

    @worker.task("async_echo")
    async def async_echo(ctx: JobContext) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return {"echo": ctx.payload, "loop": asyncio.get_running_loop() is not None}

    jobs = [client.enqueue("w-async", "async_echo", {"n": n}) for n in range(3)]
    with running(worker):
        results = [finished(client, j.id) for j in jobs]

    assert [r["status"] for r in results] == ["succeeded"] * 3
    assert [r["result"] for r in results] == [{"echo": {"n": n}, "loop": True} for n in range(3)]


def test_unknown_type_goes_dead(client: Client) -> None:
    worker = make_worker(client, "w-unknown")
    job = client.enqueue("w-unknown", "nobody_handles_this")
    with running(worker):
        result = finished(client, job.id)
    assert result["status"] == "dead"
    assert result["last_error"]["error"]["reason"] == "unknown_type"


def test_cancel_of_a_running_job_reaches_the_handler(client: Client) -> None:
    """lease_seconds=3 makes the heartbeat every second; the handler sees ctx.cancelled at
    the next heartbeat, its result is discarded and the job ends cancelled."""
    worker = make_worker(client, "w-cancel", lease_seconds=3)
    started = threading.Event()
    saw_cancel = threading.Event()

    @worker.task("long")
    def long(ctx: JobContext) -> str:
        started.set()
        if ctx.cancelled.wait(30):
            saw_cancel.set()
            assert ctx.aborted
            return "finished anyway"  # must be discarded
        return "never cancelled"

    job = client.enqueue("w-cancel", "long")
    with running(worker):
        assert started.wait(30)
        flagged = client.cancel(job.id)
        assert flagged.status == "running" and flagged.cancel_requested
        # one heartbeat interval is 1 s; allow a few for a loaded machine
        assert saw_cancel.wait(10), "the handler never saw the cancel"
        finished(client, job.id)
        time.sleep(0.5)  # give the worker a chance to (wrongly) report the result
        result = client.get_job(job.id)

    assert result["status"] == "cancelled"
    assert result["result"] is None
    assert result["attempt"] == 1
    assert event_types(result) == ["enqueued", "claimed", "cancel_requested", "cancelled"]


def test_stop_fails_back_what_outlives_the_grace_period(client: Client) -> None:
    """stop(): running handlers get grace_seconds; what is still running is failed back as
    retryable (queued again, attempt counted), and the handler is told through ctx.cancelled."""
    worker = make_worker(client, "w-grace", grace_seconds=0.5)
    started = threading.Event()
    told = threading.Event()
    release = threading.Event()

    @worker.task("stubborn")
    def stubborn(ctx: JobContext) -> str:
        started.set()
        release.wait(30)
        if ctx.cancelled.is_set():
            told.set()
        return "too late"

    job = client.enqueue("w-grace", "stubborn")
    try:
        with running(worker):
            assert started.wait(30)
    finally:
        release.set()

    assert told.wait(10), "the handler was not told of the shutdown"
    time.sleep(0.3)
    result = client.get_job(job.id)
    assert result["status"] == "queued"
    assert result["attempt"] == 1
    assert result["result"] is None
    assert result["last_error"]["error"] == {"reason": "worker_shutdown"}
    assert event_types(result) == ["enqueued", "claimed", "retry_scheduled"]


SIGNAL_WHILE_EVENT_LOCKED = """
import os, signal, sys
from collab import Client, Worker

worker = Worker(Client(sys.argv[1], max_size=1), ["q"])
worker.install_signal_handlers()
# The main thread holds the lock inside the worker's wake-up Event, as it does for an instant
# in every Event.wait() and clear() of the claim loop. A signal arriving then runs its Python
# handler right here, on this thread, before the lock is released.
with worker._wake._cond:
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(1000):
        pass
print("stopping" if worker._stopping.wait(10) else "not stopping", flush=True)
worker.client.close()
"""


def test_a_signal_while_the_main_thread_holds_an_event_lock_still_stops_the_worker(
    db_url: str,
) -> None:
    # A handler that set the Event itself waited for that lock on the thread that held it:
    # the process hung, and CI saw a worker that never exited after SIGTERM.
    proc = subprocess.run(
        [sys.executable, "-c", SIGNAL_WHILE_EVENT_LOCKED, db_url],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "stopping"), proc.stderr


def test_run_returns_with_its_threads_ended_and_its_listen_connection_closed(
    client: Client, db_url: str
) -> None:
    # The listen thread used to wait out its 1-second notifies() timeout after run() returned:
    # a caller that dropped the database next made it log "listen connection lost".
    queue = "run-returns"
    worker = make_worker(client, queue)
    client.enqueue(queue, "noop")

    @worker.task("noop")
    def noop(ctx: JobContext) -> None:
        return None

    before = set(threading.enumerate())
    worker.run(stop_when_idle=True)
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert [n for n in left if not n.startswith("collab-job")] == []
    with psycopg.connect(db_url) as conn:
        listening = conn.execute(
            "select count(*) from pg_stat_activity where application_name = %s",
            [f"collab-listen {worker.name}"],
        ).fetchone()
    assert listening == (0,)


def test_at_low_load_a_job_costs_one_claim_that_finds_nothing(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Jobs one at a time: each is claimed on its notification by a call that asks for every
    # free slot; its slot frees while that call found the queue drained, so the main loop does
    # not claim for it: the job's report makes the one claim that finds nothing (not one for
    # the slot, too).
    worker = make_worker(client, "w-empty", poll_seconds=30)
    lock = threading.Lock()
    claims: list[int] = []
    claim = client.claim

    def counted(*args: Any, **kwargs: Any) -> Any:
        jobs = claim(*args, **kwargs)
        with lock:
            claims.append(len(jobs))
        return jobs

    monkeypatch.setattr(client, "claim", counted)

    @worker.task("t")
    def t(ctx: JobContext) -> None:
        return None

    with running(worker):
        wait_for(lambda: len(claims) >= 1, timeout=10)  # registered; its first claim found nothing
        time.sleep(0.2)
        first = len(claims)
        for _ in range(10):
            job = client.enqueue("w-empty", "t")
            finished(client, job.id, timeout=10)
            time.sleep(0.1)  # the report and its claim
    assert sum(claims) == 10
    # One a job; two a job (20 in all) before. A little room for a wake-up that comes while a
    # claim is under way.
    assert claims[first:].count(0) <= 10 + 3, claims[first:]


@pytest.mark.parametrize("max_batch", [1000, 1])
def test_a_queue_at_its_concurrency_limit_runs_on_without_the_poll(
    client: Client, max_batch: int
) -> None:
    # A claim of a limited queue comes back short while the limit is reached; the reports of
    # the jobs that held the places claim the next ones (the poll is 30 s away).
    queue = f"w-limit-{max_batch}"
    worker = make_worker(client, queue, poll_seconds=30, max_batch=max_batch)
    client.configure_queue(queue, concurrency_limit=1)
    lock = threading.Lock()
    running_now = {"n": 0, "most": 0}

    @worker.task("t")
    def t(ctx: JobContext) -> None:
        with lock:
            running_now["n"] += 1
            running_now["most"] = max(running_now["most"], running_now["n"])
        time.sleep(0.01)
        with lock:
            running_now["n"] -= 1

    helpers.run_past_a_limit(client, queue, running(worker))
    assert running_now["most"] == 1
