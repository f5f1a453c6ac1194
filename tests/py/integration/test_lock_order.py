"""Heartbeat and complete_batch lock a worker's rows in id order, so the worker's two threads
(heartbeat and reporter, each on its own connection) wait for each other but never deadlock.
The soak found the deadlock: a heartbeat took the rows in index (heap) order, complete_batch
in the order its join chose; with the old code this test fails with DeadlockDetected."""

from __future__ import annotations

import threading

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
