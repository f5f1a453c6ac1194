"""api.claim and api.complete_batch read collab.jobs by their indexes, whatever the statistics
of collab.jobs say.

A hot table is vacuumed and analyzed while nearly every row in it is dead, and then its
statistics can say it is empty (`reltuples = 0`) while thousands of jobs are queued. The
planner, costing every path of an "empty" table at about nothing, once chose a bitmap scan of
the primary key over every job of the workspace and a sort for the claim's pick: 40 times the
cost of a claim with 150,000 queued jobs, a 30-second stall in the 10-minute soak
(docs/bench.md, "Soak and chaos"); api.complete_batch, likewise, read the primary key over the
workspace's jobs for every batch. Both turn bitmap scans off. This test makes the statistics
say "empty" and counts the entries the calls read from the indexes of collab.jobs: a few per
job they claim or complete, not every queued job for every call.
"""

from __future__ import annotations

import json

import psycopg

QUEUED = 5000
CLAIMS = 20


def index_entries_read(url: str) -> int:
    """Index entries read so far from all the indexes of collab.jobs."""
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute(
            "select sum(idx_tup_read)::bigint from pg_stat_user_indexes"
            " where relid = 'collab.jobs'::regclass"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_claim_keeps_to_the_claim_index_when_statistics_say_the_table_is_empty(
    db_url: str,
) -> None:
    jobs = json.dumps([{"queue": "plans", "type": "t", "payload": {"n": i}} for i in range(1000)])
    with psycopg.connect(db_url, autocommit=True) as c:
        executor = c.execute("select api.register_executor('plans', array['plans'])").fetchone()
        assert executor is not None
        for _ in range(QUEUED // 1000):
            c.execute("select count(*) from api.enqueue_batch(%s::jsonb)", [jobs])
        c.execute("analyze collab.jobs")
        # What an analyze of a table whose rows were nearly all dead leaves behind.
        c.execute(
            "update pg_class set reltuples = 0, relpages = 7602 where oid = 'collab.jobs'::regclass"
        )
    before = index_entries_read(db_url)
    with psycopg.connect(db_url, autocommit=True) as c:  # a new session: no cached plan
        for _ in range(CLAIMS):
            row = c.execute(
                "select count(*) from api.claim(%s, array['plans'], 1, 60)", [executor[0]]
            ).fetchone()
            assert row == (1,)
        c.execute("select pg_stat_force_next_flush()")
    read = index_entries_read(db_url) - before
    # A claim reads its job's claim-index entry and updates the job by primary key. The plan
    # to avoid reads every queued job's entry for every claim (about 5,000 x 20).
    assert read <= 10 * CLAIMS, f"claims read {read} index entries"

    before = index_entries_read(db_url)
    with psycopg.connect(db_url, autocommit=True) as c:
        claimed = c.execute(
            "select id, lease_token from api.claim(%s, array['plans'], 32, 60)", [executor[0]]
        ).fetchall()
        items = json.dumps([{"job_id": i, "lease_token": str(t)} for i, t in claimed])
        done = c.execute("select count(*) from api.complete_batch(%s::jsonb)", [items])
        assert done.fetchone() == (32,)
        c.execute("select pg_stat_force_next_flush()")
    read = index_entries_read(db_url) - before
    # 172 here; reading the workspace's jobs by the wrong index, about 15,000.
    assert read <= 10 * 64, f"a claim and a completion of 32 jobs read {read} index entries"
