"""Revision 0029 partitions an event stream of 2 * 10^6 events online, and goes down again.

A database at revision 0028 holds the events of 10^6 finished jobs (enqueued and succeeded,
written 50,000 per transaction). While ``collab migrate up`` validates the CHECK that bounds
their xids (writers go on) and then switches the table under the code locks (catalog changes
only: no row is read or moved), a claimer enqueues, claims and completes jobs one per
transaction (three events each) with ``lock_timeout = 1s``, and a monitor measures its longest
lock wait: both must stay under a second. Afterwards collab.job_events is partitioned by xid,
the old table is its first range (every event in it, none lost) beside an empty default
partition, ids go on from where the identity stood, and a stream cursor taken before the
migration goes on after it with every event of the claimer, in order; down again puts one
plain table with its identity back, with the same stream.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from online_load import WS, claimer_stream, fill_events, run_under_claimer, stream

from collab import migrate

JOBS = 1_000_000
BATCH = 50_000


LAYOUT = """
select c.relkind::text,
       (select array_agg(i.inhrelid::regclass::text || ' '
                         || pg_get_expr(p.relpartbound, p.oid) order by i.inhrelid::regclass::text)
          from pg_inherits i join pg_class p on p.oid = i.inhrelid where i.inhparent = c.oid),
       (select a.attidentity::text from pg_attribute a
         where a.attrelid = c.oid and a.attname = 'id')
  from pg_class c where c.oid = 'collab.job_events'::regclass
"""


def layout(url: str) -> tuple[Any, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute(LAYOUT).fetchone()
    assert row is not None
    return tuple(row)


@pytest.mark.slow
def test_revision_0029_partitions_two_million_events_online_and_back(fresh_db: str) -> None:
    migrate.up(fresh_db, "0028")
    fill_events(fresh_db, JOBS, BATCH)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        row = conn.execute(
            "select xid::text || ':' || id, (select max(id) from collab.job_events),"
            "       pg_snapshot_xmax(pg_current_snapshot())::text::numeric"
            "  from collab.job_events order by xid desc, id desc limit 1"
        ).fetchone()
    assert row is not None
    before, last_id, next_xid = str(row[0]), int(row[1]), int(row[2])
    assert layout(fresh_db) == ("r", None, "a")

    claimer, _ = run_under_claimer(fresh_db, lambda: migrate.up(fresh_db))

    kind, partitions, identity = layout(fresh_db)
    assert (kind, identity) == ("p", "")
    first, default = partitions
    name, _, bound = first.partition(" ")
    assert (name, default) == ("collab.job_events_0", "collab.job_events_default DEFAULT")
    assert bound.startswith("FOR VALUES FROM (MINVALUE) TO ('"), bound
    high = int(bound.split("'")[1])
    assert high >= next_xid + 2**24, "the first range ends 2^24 xids past the next xid"
    with psycopg.connect(fresh_db) as conn:
        row = conn.execute(
            "select count(*) filter (where queue = 'old'), count(*) filter (where queue = 'live'),"
            "       count(*) filter (where tableoid <> 'collab.job_events_0'::regclass),"
            "       min(id) filter (where queue = 'live') > %s"
            "  from collab.job_events",
            [last_id],
        ).fetchone()
    assert row == (2 * JOBS, 3 * claimer.cycles, 0, True), (
        "every event kept, three for each cycle of the claimer, all in the first range, and"
        " ids going on past the identity's"
    )

    # A cursor taken before the migration goes on after it, with every event of the claimer.
    after = claimer_stream(fresh_db, before, claimer.cycles)

    migrate.down(fresh_db, "0028")
    assert layout(fresh_db) == ("r", None, "a")
    assert len(stream(fresh_db, before)) == len(after), "down again: the same stream"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(
            "insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt,"
            " created_at) values (%s, 1, 'enqueued', 'down', 't', 0, now())",
            [WS],
        )
        row = conn.execute(
            "select (select id from collab.job_events where queue = 'down')"
            " > (select max(id) from collab.job_events where queue <> 'down')"
        ).fetchone()
    assert row == (True,), "the identity goes on past every id"
