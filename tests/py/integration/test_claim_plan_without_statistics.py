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

The second test is the other way a plan can be made for a table of the wrong size: a session's
first calls on a fresh database, where collab.jobs has a few pages. api.claim and
api.complete_batch keep their generic plans for the session, and those plans once read the
whole table (sequential scans) or every job of the workspace (jobs_list_status_idx) for every
call, dead rows and all, as the table grew before its first vacuum: the Python worker fell from
800 to 95 jobs/s within a minute of a burst (docs/bench.md). Revision 0011 turns sequential
scans off in both, and in api.heartbeat, and tests a row found by primary key for its
workspace in a way no index can serve. api.complete (a REST caller's one call a job) is held to
the same rounds, starting from the statistics a vacuum of the empty table leaves (relpages and
reltuples 0, as in the benchmark's template): from them its session kept a generic plan that
scanned the whole table for every completion, so it turns sequential scans off too. So do the
other calls a REST client makes on a job it holds or watches (api.progress, api.get_job,
api.fail, api.cancel) and the DLQ's api.requeue: from the same statistics they made 1 to 4
sequential scans of collab.jobs a round, each reading the whole table. The tests' databases
(unvacuumed_db) have autovacuum off on every table: an autoanalyze of the events or the history
that held its snapshot while the rounds were counted made them read about 1,200 entries
instead of about 300, and one during the 20 claims of the empty-statistics test made them
read 230 (a CI run), each claim walking the entries of the jobs claimed before it.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from helpers import table_reads

QUEUED = 5000
CLAIMS = 20
THOUSAND_JOBS = json.dumps(
    [{"queue": "plans", "type": "t", "payload": {"n": i}} for i in range(1000)]
)


def items(claimed: list[tuple[object, ...]]) -> str:
    """api.complete_batch's items for claimed (id, lease_token) rows."""
    return json.dumps([{"job_id": i, "lease_token": str(t)} for i, t in claimed])


def cycle(c: psycopg.Connection[tuple[object, ...]], executor: object, completion: str) -> None:
    """A round with claims of one: a claim, a heartbeat, and the job finished by
    api.complete_batch (the Python worker), api.complete (REST callers, one call a job), a
    progress report, a read of the job and api.complete, api.fail with no retry and the dead
    job requeued from the DLQ, or api.cancel of a running job and api.fail (a cancel request
    turns the failure into cancelled)."""
    claimed = c.execute(
        "select id, lease_token from api.claim(%s, array['plans'], 1, 60)", [executor]
    ).fetchall()
    assert len(claimed) == 1
    job, token = claimed[0]
    c.execute("select api.heartbeat(%s, %s)", [executor, [job]])
    if completion == "complete_batch":
        done = c.execute(
            "select count(*) from api.complete_batch(%s::jsonb) where ok", [items(claimed)]
        )
        assert done.fetchone() == (1,)
        return
    if completion == "progress":
        c.execute("select api.progress(%s, %s, 0.5, 'half')", [job, token])
        row = c.execute("select api.get_job(%s)->>'progress_message'", [job]).fetchone()
        assert row == ("half",)
    if completion == "cancel":
        c.execute("select api.cancel(%s)", [job])
    if completion in ("complete", "progress"):
        row = c.execute("select status from api.complete(%s, %s)", [job, token]).fetchone()
        assert row == ("succeeded",)
    else:
        row = c.execute(
            "select status from api.fail(%s, %s, retryable => false)", [job, token]
        ).fetchone()
        assert row == ("dead" if completion == "fail" else "cancelled",)
    if completion == "fail":
        row = c.execute("select count(*) from api.requeue(array[%s]::bigint[])", [job]).fetchone()
        assert row == (1,)


@pytest.mark.parametrize("completion", ["complete_batch", "complete", "progress", "fail", "cancel"])
def test_plans_made_while_the_table_was_small_keep_to_the_indexes_as_it_grows(
    unvacuumed_db: str, completion: str
) -> None:
    with psycopg.connect(unvacuumed_db, autocommit=True) as worker:
        executor = worker.execute(
            "select api.register_executor('plans', array['plans'])"
        ).fetchone()
        assert executor is not None
        worker.execute(
            "select count(*) from api.enqueue_batch("
            "(select jsonb_agg(jsonb_build_object('queue', 'plans', 'type', 't'))"
            " from generate_series(1, 10)))"
        )
        # What a vacuum of the empty table left (the benchmark copies a template vacuumed
        # before any job): with these, a table of a page or two looks nearly free to scan.
        worker.execute(
            "update pg_class set reltuples = 0, relpages = 0 where oid = 'collab.jobs'::regclass"
        )
        # Past the 5 custom plans plpgsql tries first: the session's plans are made now, for a
        # table of a page or two.
        for _ in range(8):
            cycle(worker, executor[0], completion)
        # Another session runs 20,000 jobs through; nothing vacuums collab.jobs.
        with psycopg.connect(unvacuumed_db, autocommit=True) as other:
            helper = other.execute(
                "select api.register_executor('helper', array['plans'])"
            ).fetchone()
            assert helper is not None
            for _ in range(22):
                other.execute("select count(*) from api.enqueue_batch(%s::jsonb)", [THOUSAND_JOBS])
            for _ in range(20):
                claimed = other.execute(
                    "select id, lease_token from api.claim(%s, array['plans'], 1000, 60)",
                    [helper[0]],
                ).fetchall()
                other.execute(
                    "select count(*) from api.complete_batch(%s::jsonb)", [items(claimed)]
                )
            other.execute("select pg_stat_force_next_flush()")
        # The first claim reads the entries the other session's jobs left at the head of the
        # claim index (about 21,000 here) and marks them dead as it passes; later ones do not.
        cycle(worker, executor[0], completion)
        queued = worker.execute(
            "select count(*) from collab.jobs where status = 'queued'"
        ).fetchone()
        assert queued is not None
        worker.execute("select pg_stat_force_next_flush()")
        seq0, read0 = table_reads(unvacuumed_db, "collab.jobs")
        events0 = table_reads(unvacuumed_db, "collab.job_events")[0]
        for _ in range(CLAIMS):
            cycle(worker, executor[0], completion)
        worker.execute("select pg_stat_force_next_flush()")
    seq1, read1 = table_reads(unvacuumed_db, "collab.jobs")
    events1 = table_reads(unvacuumed_db, "collab.job_events")[0]
    # About 14 entries a round here. With the plans of a small table: sequential scans of the
    # 20,000 dead and 2,000 queued rows in every claim and batch, or the workspace's jobs read
    # from jobs_list_status_idx.
    assert seq1 - seq0 == 0, f"{seq1 - seq0} sequential scans of collab.jobs"
    assert events1 - events0 == 0, f"{events1 - events0} sequential scans of collab.job_events"
    # api.requeue's max_queued_jobs check counts the workspace's queued jobs (up to the quota)
    # from jobs_list_status_idx: by design, a hard limit. Then about 28 entries a round here.
    per_round = 20 + (20 + queued[0] if completion == "fail" else 0)
    assert read1 - read0 <= per_round * CLAIMS, (
        f"{CLAIMS} rounds read {read1 - read0} index entries"
    )


def test_claim_keeps_to_the_claim_index_when_statistics_say_the_table_is_empty(
    unvacuumed_db: str,
) -> None:
    with psycopg.connect(unvacuumed_db, autocommit=True) as c:
        executor = c.execute("select api.register_executor('plans', array['plans'])").fetchone()
        assert executor is not None
        for _ in range(QUEUED // 1000):
            c.execute("select count(*) from api.enqueue_batch(%s::jsonb)", [THOUSAND_JOBS])
        c.execute("analyze collab.jobs")
        # What an analyze of a table whose rows were nearly all dead leaves behind.
        c.execute(
            "update pg_class set reltuples = 0, relpages = 7602 where oid = 'collab.jobs'::regclass"
        )
    before = table_reads(unvacuumed_db, "collab.jobs")[1]
    with psycopg.connect(unvacuumed_db, autocommit=True) as c:  # a new session: no cached plan
        for _ in range(CLAIMS):
            row = c.execute(
                "select count(*) from api.claim(%s, array['plans'], 1, 60)", [executor[0]]
            ).fetchone()
            assert row == (1,)
        c.execute("select pg_stat_force_next_flush()")
    read = table_reads(unvacuumed_db, "collab.jobs")[1] - before
    # A claim reads its job's claim-index entry and updates the job by primary key. The plan
    # to avoid reads every queued job's entry for every claim (about 5,000 x 20).
    assert read <= 10 * CLAIMS, f"claims read {read} index entries"

    before = table_reads(unvacuumed_db, "collab.jobs")[1]
    with psycopg.connect(unvacuumed_db, autocommit=True) as c:
        claimed = c.execute(
            "select id, lease_token from api.claim(%s, array['plans'], 32, 60)", [executor[0]]
        ).fetchall()
        done = c.execute("select count(*) from api.complete_batch(%s::jsonb)", [items(claimed)])
        assert done.fetchone() == (32,)
        c.execute("select pg_stat_force_next_flush()")
    read = table_reads(unvacuumed_db, "collab.jobs")[1] - before
    # 172 here; reading the workspace's jobs by the wrong index, about 15,000.
    assert read <= 10 * 64, f"a claim and a completion of 32 jobs read {read} index entries"
