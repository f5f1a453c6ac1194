"""A claim conflict is counted when a claim comes back short because another transaction holds
the due rows (FOR UPDATE SKIP LOCKED skipped them)."""

from __future__ import annotations

import psycopg

from collab import Client


def _conflicts(conn: psycopg.Connection[tuple[object, ...]], queue: str) -> int:
    row = conn.execute(
        "select coalesce(sum(count), 0)::int from collab.metrics_signals"
        " where kind = 'claim_conflict' and queue = %s",
        [queue],
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_short_claim_behind_a_lock_is_a_conflict(db_url: str) -> None:
    queue = "signals-conflict"
    with Client(db_url, max_size=2) as client, psycopg.connect(db_url) as holder:
        executor = client.register_executor("signals-claimer", [queue])
        job = client.enqueue(queue, "t")
        with psycopg.connect(db_url, autocommit=True) as reader:
            assert _conflicts(reader, queue) == 0

            # Another transaction holds the only due job.
            holder.execute("select id from collab.jobs where id = %s for update", [job.id])
            assert client.claim(executor, [queue], max_jobs=2) == []
            assert _conflicts(reader, queue) == 1

            # Released, it is claimed; the short claim that drains the queue is no conflict.
            holder.rollback()
            claimed = client.claim(executor, [queue], max_jobs=2)
            assert [c.id for c in claimed] == [job.id]
            assert _conflicts(reader, queue) == 1


def test_a_conflict_is_counted_on_the_queue_that_held_the_skipped_rows(db_url: str) -> None:
    a, b = "signals-held", "signals-free"
    with Client(db_url, max_size=2) as client, psycopg.connect(db_url) as holder:
        executor = client.register_executor("signals-two-queues", [a, b])
        held = client.enqueue(a, "t")
        free = client.enqueue(b, "t")
        with psycopg.connect(db_url, autocommit=True) as reader:
            holder.execute("select id from collab.jobs where id = %s for update", [held.id])
            claimed = client.claim(executor, [a, b], max_jobs=3)
            assert [c.id for c in claimed] == [free.id]
            assert (_conflicts(reader, a), _conflicts(reader, b)) == (1, 0), (
                "the queue whose row was skipped, not the one that gave its job"
            )
            holder.rollback()
