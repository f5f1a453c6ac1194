"""The job lifecycle under real concurrency: several connections, each its own Client.

Every claimer and every enqueuer runs in its own thread with its own connection, released
together by a barrier, so the database (SKIP LOCKED, the idempotency unique index, the
fenced lease token) is what keeps the promises, not Python.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from uuid import UUID

import psycopg
import pytest
from helpers import ALL_JOBS

from collab import ClaimedJob, Client, IdempotencyConflict, Job, LeaseLost

T = TypeVar("T")


@pytest.fixture
def client(db_url: str) -> Iterator[Client]:
    with Client(db_url, max_size=2) as c:
        yield c


def _events(db_url: str, job_ids: list[int]) -> dict[int, Counter[str]]:
    """Event types per job, read directly from collab.job_events as the superuser."""
    per_job: dict[int, Counter[str]] = {job_id: Counter() for job_id in job_ids}
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select job_id, type::text from collab.job_events where job_id = any(%s)",
            [job_ids],
        ).fetchall()
    for job_id, event_type in rows:
        per_job[job_id][event_type] += 1
    return per_job


def _together(n: int, fn: Callable[[int, threading.Barrier], T]) -> list[T | BaseException]:
    """Run fn(i, barrier) in n threads; each result, or the exception it raised."""
    barrier = threading.Barrier(n, timeout=60)

    def call(i: int) -> T | BaseException:
        try:
            return fn(i, barrier)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


# -- 1. eight concurrent claimers over 5,000 jobs ------------------------------------------
@pytest.mark.parametrize("n_queues", [1, 3])
def test_concurrent_claimers_claim_each_job_exactly_once(
    db_url: str, client: Client, n_queues: int
) -> None:
    """8 claimers drain 5,000 jobs from one queue, or from three (a claim from several queues
    reads its candidates without a lock and locks the best it can get: revision 0031)."""
    queues, total, claimers = [f"concurrent-claim-{n_queues}-{q}" for q in range(n_queues)], 5000, 8
    all_ids: list[int] = []
    for start in range(0, total, 1000):
        batch = client.enqueue_batch(
            [
                {"queue": queues[n % n_queues], "type": "work", "payload": {"n": n}}
                for n in range(start, start + 1000)
            ]
        )
        assert [j.status for j in batch] == ["queued"] * 1000
        all_ids += [j.id for j in batch]
    assert len(set(all_ids)) == total

    def claim_all(i: int, barrier: threading.Barrier) -> tuple[UUID, list[int]]:
        rng = random.Random(i)
        claimed: list[int] = []
        with Client(db_url, min_size=1, max_size=1) as own:
            executor = own.register_executor(f"claimer-{i}", queues)
            barrier.wait()
            while True:
                jobs = own.claim(executor, queues, rng.randint(1, 20), lease_seconds=600)
                if not jobs:
                    return executor, claimed
                assert all(j.attempt == 1 for j in jobs)
                outcomes = own.complete_batch([(j.id, j.lease_token, {"by": i}) for j in jobs])
                assert [(c.job_id, c.ok, c.reason) for c in outcomes] == [
                    (j.id, True, None) for j in jobs
                ]
                claimed += [j.id for j in jobs]

    results = _together(claimers, claim_all)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    done = [r for r in results if not isinstance(r, BaseException)]

    flat = [job_id for _, ids in done for job_id in ids]
    assert len(flat) == len(set(flat)), "a job was claimed twice"
    assert set(flat) == set(all_ids)
    assert sum(1 for _, ids in done if ids) > 1, "only one claimer ever got work"

    owner = {job_id: executor for executor, ids in done for job_id in ids}
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            f"select id, status::text, attempt, executor_id from {ALL_JOBS} where id = any(%s)",
            [all_ids],
        ).fetchall()
    assert len(rows) == total
    assert {status for _, status, _, _ in rows} == {"succeeded"}
    assert {attempt for _, _, attempt, _ in rows} == {1}
    assert all(executor == owner[job_id] for job_id, _, _, executor in rows)

    events = _events(db_url, all_ids)
    expected = Counter({"enqueued": 1, "claimed": 1, "succeeded": 1})
    wrong = {job_id: dict(c) for job_id, c in events.items() if c != expected}
    assert not wrong, f"{len(wrong)} jobs with wrong events, e.g. {list(wrong.items())[:3]}"


# -- 2. sixteen concurrent enqueues under one idempotency key ------------------------------
def _enqueue_together(db_url: str, key: str, payload_of: Callable[[int], Any]) -> list[Any]:
    def enqueue(i: int, barrier: threading.Barrier) -> Job:
        with Client(db_url, min_size=1, max_size=1) as own:
            own.pool.wait()
            barrier.wait()
            return own.enqueue("idem", "once", payload_of(i), idempotency_key=key)

    return _together(16, enqueue)


def _jobs_with_key(db_url: str, key: str) -> list[tuple[int, Any]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            f"select id, payload from {ALL_JOBS} where idempotency_key = %s", [key]
        ).fetchall()


def test_concurrent_enqueue_same_key_same_payload_makes_one_job(db_url: str) -> None:
    key = "idem-same"
    results = _enqueue_together(db_url, key, lambda i: {"to": "a@example.com"})

    assert all(isinstance(r, Job) for r in results), results
    jobs: list[Job] = results
    assert len({j.id for j in jobs}) == 1
    assert sorted(j.duplicate for j in jobs) == [False] + [True] * 15
    assert all(j.payload == {"to": "a@example.com"} and j.status == "queued" for j in jobs)

    stored = _jobs_with_key(db_url, key)
    assert [job_id for job_id, _ in stored] == [jobs[0].id]
    assert _events(db_url, [jobs[0].id])[jobs[0].id] == Counter({"enqueued": 1})


def test_concurrent_enqueue_same_key_different_payloads_first_commit_wins(
    db_url: str,
) -> None:
    """Each thread a different payload: the first to commit makes the job (duplicate=False);
    every other one raises IdempotencyConflict naming that job, and nothing else is written."""
    key = "idem-different"
    results = _enqueue_together(db_url, key, lambda i: {"n": i})

    winners = [(i, r) for i, r in enumerate(results) if isinstance(r, Job)]
    losers = [r for r in results if not isinstance(r, Job)]
    assert len(winners) == 1, results
    i, job = winners[0]
    assert job.duplicate is False
    assert job.payload == {"n": i}
    assert len(losers) == 15
    assert all(isinstance(e, IdempotencyConflict) for e in losers), losers
    assert all(
        e.reason == "idempotency_conflict" for e in losers if isinstance(e, IdempotencyConflict)
    )
    assert all(e.detail["job_id"] == job.id for e in losers if isinstance(e, IdempotencyConflict))

    assert _jobs_with_key(db_url, key) == [(job.id, {"n": i})]
    assert _events(db_url, [job.id])[job.id] == Counter({"enqueued": 1})


def test_concurrent_enqueue_same_key_two_payloads(db_url: str) -> None:
    """Half the threads send payload A, half payload B: the winner's group gets the job
    (one duplicate=False, the rest duplicate=True); the other group gets IdempotencyConflict."""
    key = "idem-two-groups"
    results = _enqueue_together(db_url, key, lambda i: {"group": i % 2})

    jobs = [r for r in results if isinstance(r, Job)]
    conflicts = [r for r in results if isinstance(r, IdempotencyConflict)]
    assert len(jobs) + len(conflicts) == 16, results
    assert len(jobs) == 8 and len(conflicts) == 8
    assert len({j.id for j in jobs}) == 1
    assert sorted(j.duplicate for j in jobs) == [False] + [True] * 7
    winner_group = jobs[0].payload["group"]
    assert all(j.payload == {"group": winner_group} for j in jobs)
    for i, r in enumerate(results):
        assert isinstance(r, Job) == (i % 2 == winner_group)
    assert len(_jobs_with_key(db_url, key)) == 1
    assert _events(db_url, [jobs[0].id])[jobs[0].id] == Counter({"enqueued": 1})


# -- 3. fencing ---------------------------------------------------------------------------
def test_stale_executor_cannot_complete_after_its_lease_is_reclaimed(
    db_url: str, client: Client
) -> None:
    queue = "fencing"
    client.configure_queue(
        queue, backoff_base_seconds=0.01, backoff_max_seconds=0.01, backoff_jitter=0
    )
    job = client.enqueue(queue, "fenced", {"x": 1})
    first = client.register_executor("fencing-first", [queue])
    second = client.register_executor("fencing-second", [queue])

    (a,) = client.claim(first, [queue], 1, lease_seconds=1)
    assert a.id == job.id and a.attempt == 1
    time.sleep(1.5)

    deadline = time.monotonic() + 10
    reclaimed: list[ClaimedJob] = []
    while not reclaimed and time.monotonic() < deadline:
        reclaimed = client.claim(second, [queue], 1, lease_seconds=60)
        if not reclaimed:
            time.sleep(0.05)
    assert [j.id for j in reclaimed] == [job.id]
    b = reclaimed[0]
    assert b.attempt == 2
    assert b.lease_token != a.lease_token

    with pytest.raises(LeaseLost) as info:
        client.complete(a.id, a.lease_token, {"by": "first"})
    assert info.value.detail["status"] == "running"
    (stale,) = client.complete_batch([(a.id, a.lease_token, {"by": "first"})])
    assert (stale.ok, stale.reason) == (False, "lease_lost")
    with pytest.raises(LeaseLost):
        client.fail(a.id, a.lease_token, {"reason": "late"})
    with pytest.raises(LeaseLost):
        client.progress(a.id, a.lease_token, 0.5)

    moved = client.progress(b.id, b.lease_token, 50.5, "half way")
    assert (float(moved.progress), moved.progress_message) == (50.5, "half way")
    done = client.complete(b.id, b.lease_token, {"by": "second"})
    assert done.status == "succeeded"
    assert done.result == {"by": "second"}
    assert done.executor_id == second
    with pytest.raises(LeaseLost):
        client.complete(a.id, a.lease_token, {"by": "first"})

    with psycopg.connect(db_url) as conn:
        (result, attempt) = conn.execute(
            f"select result, attempt from {ALL_JOBS} where id = %s", [job.id]
        ).fetchone() or (None, None)
        events = conn.execute(
            "select type::text, attempt, executor_id from collab.job_events"
            " where job_id = %s order by id",
            [job.id],
        ).fetchall()
    assert (result, attempt) == ({"by": "second"}, 2)
    assert events == [
        ("enqueued", 0, None),
        ("claimed", 1, first),
        ("lease_expired", 1, first),
        ("claimed", 2, second),
        ("progress", 2, second),
        ("succeeded", 2, second),
    ]
