"""Heartbeat and complete_batch lock a worker's rows in id order, so the worker's two threads
(heartbeat and reporter, each on its own connection) wait for each other but never deadlock.
The soak found the deadlock: a heartbeat took the rows in index (heap) order, complete_batch
in the order its join chose; with the old code this test fails with DeadlockDetected."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from helpers import ALL_JOBS, wait_for, waiting_on_a_lock
from psycopg.types.json import Jsonb

from collab import Client


def test_complete_batch_and_heartbeat_over_the_same_jobs_never_deadlock(db_url: str) -> None:
    queue = "lock-order-mix"
    with Client(db_url, max_size=4) as client:
        executor = client.register_executor("lock-order-mix", [queue])
        client.enqueue_batch([{"queue": queue, "type": "t"} for _ in range(400)])
        errors: list[BaseException] = []
        stop = threading.Event()

        def beat() -> None:
            while not stop.is_set():
                try:
                    client.heartbeat(executor)
                except BaseException as exc:  # a deadlock would land here
                    errors.append(exc)

        thread = threading.Thread(target=beat)
        thread.start()
        try:
            for _ in range(20):
                claimed = client.claim(executor, [queue], 20, 300)
                # Reverse order: the items' order must not decide the lock order.
                items = [(j.id, j.lease_token, None) for j in reversed(claimed)]
                assert all(c.ok for c in client.complete_batch(items))
        finally:
            stop.set()
            thread.join(10)
        assert errors == []


def test_a_heartbeat_touches_only_the_jobs_it_locked_first(db_url: str) -> None:
    # The heartbeat locked the executor's running jobs in id order, then extended "every
    # running job" in a later statement. A job claimed in between, with a lower id, was not
    # locked in order: complete_batch(low, high) held low and waited for high, the heartbeat
    # held high and waited for low. The soak hit it; before the change this test failed with
    # DeadlockDetected.
    queue = "lock-order-late"
    with Client(db_url, max_size=4) as client, psycopg.connect(db_url, autocommit=True) as admin:
        executor = client.register_executor("lock-order-late", [queue])
        low = client.enqueue(queue, "t").id  # the lowest id, claimed last
        high = client.enqueue(queue, "t", priority=10).id
        blocker = client.enqueue(queue, "t", priority=10).id
        claimed = {j.id: j for j in client.claim(executor, [queue], 2, 300)}
        assert set(claimed) == {high, blocker}

        heartbeat_conn = psycopg.connect(db_url, autocommit=True)
        batch_conn = psycopg.connect(db_url, autocommit=True)
        hold = psycopg.connect(db_url)
        errors: list[BaseException] = []

        def call(conn: psycopg.Connection[Any], sql: str, params: list[Any]) -> None:
            try:
                conn.execute(sql, params)
            except BaseException as exc:
                errors.append(exc)

        try:
            # The heartbeat locks high, then waits for blocker (held here).
            hold.execute("select 1 from collab.jobs where id = %s for update", [blocker])
            beat = threading.Thread(
                target=call,
                args=(heartbeat_conn, "select * from api.heartbeat(%s)", [executor]),
            )
            beat.start()
            wait_for(lambda: waiting_on_a_lock(admin, heartbeat_conn.info.backend_pid))
            # Meanwhile the low job is claimed, and a complete_batch of low and high locks
            # low and waits for high.
            (late,) = client.claim(executor, [queue], 1, 300)
            assert late.id == low
            items = Jsonb(
                [{"job_id": j.id, "lease_token": str(j.lease_token)} for j in (late, claimed[high])]
            )
            done = threading.Thread(
                target=call,
                args=(batch_conn, "select * from api.complete_batch(%s)", [items]),
            )
            done.start()
            wait_for(lambda: waiting_on_a_lock(admin, batch_conn.info.backend_pid))
            hold.rollback()  # the heartbeat goes on
            beat.join(20)
            done.join(20)
            assert errors == []
            statuses: dict[int, str] = dict(
                admin.execute(
                    f"select id, status::text from {ALL_JOBS} where id = any(%s)", [[low, high]]
                ).fetchall()
            )
            assert statuses == {low: "succeeded", high: "succeeded"}
        finally:
            for conn in (hold, heartbeat_conn, batch_conn):
                conn.close()
