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
from helpers import acting_in, follow
from online_load import WS, run_under_claimer

from collab import migrate
from collab.client import Event

JOBS = 1_000_000
BATCH = 50_000

# At revision 0011: two events per job, one transaction per batch (so the xids vary as in a
# real stream). A script, so str.format fills it in.
FILL = """
insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, data, created_at)
select '{ws}', j, t::collab.job_event_type, 'old', 't', case t when 'enqueued' then 0 else 1 end,
       '{{}}', now() - interval '20 days' * (1 - j / {n}::numeric)
  from generate_series({first}, {last}) j
  cross join (values ('enqueued'), ('succeeded')) v(t);
"""

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


def stream(url: str, cursor: str) -> list[Event]:
    """Every event after ``cursor`` in the stream, as the workspace's service reads it."""
    with acting_in(url, WS) as client:
        return follow(client, cursor)[0]


@pytest.mark.slow
def test_revision_0012_rekeys_two_million_events_online_and_back(fresh_db: str) -> None:
    migrate.up(fresh_db, "0011")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for first in range(1, JOBS + 1, BATCH):
            conn.execute(FILL.format(ws=WS, n=JOBS, first=first, last=first + BATCH - 1))
        conn.execute("analyze collab.job_events")
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

    # A cursor taken before the migration goes on after it: every event of the claimer's jobs
    # (those before, during and after the migration), each once, in stream order, every job
    # enqueued, claimed and succeeded in that order.
    after = stream(fresh_db, before)
    assert len([e for e in after if e.job_id is not None]) == 3 * claimer.cycles
    assert len({e.id for e in after}) == len(after)
    timeline: dict[int, list[str]] = {}
    for e in after:
        if e.job_id is not None:
            timeline.setdefault(e.job_id, []).append(e.type)
    assert all(t == ["enqueued", "claimed", "succeeded"] for t in timeline.values())

    migrate.down(fresh_db, "0011")
    assert layout(fresh_db) == AT_0011
    assert len(stream(fresh_db, before)) == len(after), "down again: the same stream"
