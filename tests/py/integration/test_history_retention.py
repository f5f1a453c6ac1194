"""collab.purge_job_history and the events of the jobs it removes: it finds them through the
events' job index, in the span of ids each dropped partition holds, and never reads every
event (it scanned the whole stream for events older than the partition before, once a day,
even when event retention had removed them all). tests/sql/560 holds the rest of its rules."""

from __future__ import annotations

from typing import Any

import psycopg
from helpers import acting_in

WS = "00000000-0000-0000-0000-000000000001"


def scans(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """Sequential and index scans of the event stream's partitions in this transaction."""
    row = conn.execute(
        "select coalesce(sum(s.seq_scan), 0)::bigint, coalesce(sum(s.idx_scan), 0)::bigint"
        "  from pg_stat_xact_user_tables s"
        "  join collab.event_partitions() p on p.partition::oid = s.relid"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_purge_job_history_finds_the_events_of_its_jobs_by_index(own_db: str) -> None:
    with acting_in(own_db, WS) as client, psycopg.connect(own_db, autocommit=True) as conn:
        executor = client.register_executor("hist", ["hist"])
        old = []
        for _ in range(3):  # finished today: in today's partition of the history
            old.append(client.enqueue("hist", "t").id)
            (job,) = client.claim(executor, ["hist"], 1, 30)
            client.complete(job.id, job.lease_token)
        for _ in range(10):  # enqueued after them and not run: their events stay
            client.enqueue_batch([{"queue": "later", "type": "t"}] * 1000)
        conn.execute("analyze collab.job_events")
        events = conn.execute("select count(*) from collab.job_events").fetchone()
        assert events is not None

        with conn.transaction():
            before = scans(conn)  # (counts this session has not reported yet show too)
            conn.execute("set local collab.clock_offset = '40 days'")
            removed = conn.execute("select collab.purge_job_history('30 days')").fetchone()
            seq, idx = (a - b for a, b in zip(scans(conn), before, strict=True))
        assert removed == (3,), "today's partition dropped, 40 days on, keeping 30"
        assert seq == 0, "no event partition read whole"
        assert idx > 0, "the events' job index instead"
        left = conn.execute(
            "select count(*) filter (where job_id = any(%s)), count(*) from collab.job_events",
            [old],
        ).fetchone()
        assert left == (0, events[0] - 9), "the three jobs' events went (three each), no other"
        assert conn.execute("select count(*) from collab.check_invariants()").fetchone() == (0,)
