"""One idempotency key, two enqueues at once, step by step: the second waits on the first's
key row (collab.idempotency_keys) and then answers from what the first did: the same job as a
duplicate when it committed, a new job when it rolled back. The key holds the same way after
its job finished and left collab.jobs."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from helpers import wait_for

ENQUEUE = "select id, duplicate, status from api.enqueue('waits', 't', '{\"n\": 1}', idempotency_key => %s)"
# The same on a queue of its own, so that a claim takes exactly this job.
ENQUEUE_DONE = ENQUEUE.replace("'waits'", "'waits-done'")


def _waiting_on_a_lock(db_url: str, pid: int) -> bool:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select wait_event_type from pg_stat_activity where pid = %s", [pid]
        ).fetchone()
    return row is not None and row[0] == "Lock"


def _second_enqueue(db_url: str, key: str) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            out["pid"] = conn.info.backend_pid
            ready.set()
            out["row"] = conn.execute(ENQUEUE, [key]).fetchone()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    return thread, out


def test_the_second_enqueue_waits_for_the_first_and_returns_its_job(db_url: str) -> None:
    with psycopg.connect(db_url) as first:
        mine = first.execute(ENQUEUE, ["wait-commit"]).fetchone()
        assert mine is not None and mine[1] is False
        thread, out = _second_enqueue(db_url, "wait-commit")
        wait_for(lambda: _waiting_on_a_lock(db_url, out["pid"]), what="the second enqueue waits")
        assert "row" not in out
        first.commit()
    thread.join(10)
    assert out["row"] == (mine[0], True, "queued")


def test_when_the_first_rolls_back_the_second_makes_the_job(db_url: str) -> None:
    with psycopg.connect(db_url) as first:
        mine = first.execute(ENQUEUE, ["wait-rollback"]).fetchone()
        assert mine is not None
        thread, out = _second_enqueue(db_url, "wait-rollback")
        wait_for(lambda: _waiting_on_a_lock(db_url, out["pid"]), what="the second enqueue waits")
        first.rollback()
    thread.join(10)
    assert out["row"] is not None and out["row"][1:] == (False, "queued")
    assert out["row"][0] != mine[0]
    with psycopg.connect(db_url) as conn:
        keys = conn.execute(
            "select job_id from collab.idempotency_keys where key = 'wait-rollback'"
        ).fetchall()
    assert keys == [(out["row"][0],)]


def test_a_finished_job_keeps_its_key_against_concurrent_repeats(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        job = conn.execute(ENQUEUE_DONE, ["wait-finished"]).fetchone()
        assert job is not None
        executor = conn.execute(
            "select api.register_executor('waits', array['waits-done'])"
        ).fetchone()
        assert executor is not None
        claimed = conn.execute(
            "select id, lease_token from api.claim(%s, array['waits-done'], 1, 60)", [executor[0]]
        ).fetchone()
        assert claimed is not None and claimed[0] == job[0]
        conn.execute("select api.complete(%s, %s)", list(claimed))
    results: list[Any] = []
    barrier = threading.Barrier(4)

    def repeat() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            barrier.wait()
            results.append(conn.execute(ENQUEUE_DONE, ["wait-finished"]).fetchone())

    threads = [threading.Thread(target=repeat) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [(job[0], True, "succeeded")] * 4
