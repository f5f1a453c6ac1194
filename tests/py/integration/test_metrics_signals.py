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
