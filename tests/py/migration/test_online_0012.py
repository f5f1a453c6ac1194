"""Revision 0012 rekeys an event stream of 2 * 10^6 events online, and goes down again.

A database at revision 0011 holds the events of 10^6 finished jobs (enqueued and succeeded,
written 50,000 per transaction). While ``collab migrate up`` builds the new key concurrently,
swaps it in and drops the old indexes, a claimer enqueues, claims and completes jobs one per
transaction (three events each) with ``lock_timeout = 1s``, and a monitor measures its longest
lock wait: both must stay under a second. Afterwards the key is (xid, id, workspace_id), the
separate (xid, id) index and the BRIN are gone, no event was lost, and a stream cursor taken
before the migration goes on after it with every event of the claimer, in order; down again
puts the old key and indexes back.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from online_load import claimer_stream, fill_events, run_under_claimer, stream

from collab import migrate

JOBS = 1_000_000
BATCH = 50_000


LAYOUT = """
select (select array_agg(a.attname::text order by k.n)
          from pg_constraint c
          cross join lateral unnest(c.conkey) with ordinality k(attnum, n)
          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
         where c.conrelid = 'collab.job_events'::regclass and c.contype = 'p'),
       (select array_agg(i.indexrelid::regclass::text order by i.indexrelid::regclass::text)
          from pg_index i where i.indrelid = 'collab.job_events'::regclass),
       (select bool_and(i.indisvalid) from pg_index i where i.indrelid = 'collab.job_events'::regclass)
"""


# The key, the indexes and whether all are valid, at 0011.
AT_0011 = (
    ["id", "workspace_id"],
    [
        "collab.job_events_created_brin",
        "collab.job_events_job_idx",
        "collab.job_events_pkey",
        "collab.job_events_stream_idx",
    ],
    True,
)


def layout(url: str) -> tuple[Any, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute(LAYOUT).fetchone()
    assert row is not None
    return tuple(row)


@pytest.mark.slow
def test_revision_0012_rekeys_two_million_events_online_and_back(fresh_db: str) -> None:
    migrate.up(fresh_db, "0011")
    fill_events(fresh_db, JOBS, BATCH)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        # The cursor of the last event filled, whose transaction and every one before it have
        # ended: what api.events_since hands out after it is the claimer's.
        row = conn.execute(
            "select xid::text || ':' || id from collab.job_events order by xid desc, id desc limit 1"
        ).fetchone()
    assert row is not None
    before = str(row[0])
    assert layout(fresh_db) == AT_0011

    claimer, _ = run_under_claimer(fresh_db, lambda: migrate.up(fresh_db))

    assert layout(fresh_db) == (
        ["xid", "id", "workspace_id"],
        ["collab.job_events_job_idx", "collab.job_events_pkey"],
        True,
    )
    with psycopg.connect(fresh_db) as conn:
        row = conn.execute(
            "select count(*) filter (where queue = 'old'), count(*) filter (where queue = 'live')"
            "  from collab.job_events"
        ).fetchone()
    assert row == (2 * JOBS, 3 * claimer.cycles), (
        "every event kept, and three for each cycle of the claimer"
    )

    # A cursor taken before the migration goes on after it, with every event of the claimer.
    after = claimer_stream(fresh_db, before, claimer.cycles)

    migrate.down(fresh_db, "0011")
    assert layout(fresh_db) == AT_0011
    assert len(stream(fresh_db, before)) == len(after), "down again: the same stream"
