"""Claims behind a transaction held open by another session.

A session sits idle in a transaction that has an xid (`begin; select txid_current()`), as a
stuck client does. Postgres can then neither remove nor mark dead the claim-index entries of
the jobs claimed since, and a claim that reads its queue from the head walks all of them.
With the mark (`collab.claim_mark`, docs/architecture.md "Claims"), a session whose walk was
long starts its next claims of that queue at the last job it took: the test counts the
claim-index entries each claim reads, and checks that the jobs still come in claim order,
higher priorities first. Each test's database has autovacuum off on every table
(unvacuumed_db): an autoanalyze that started while the transaction was held keeps its snapshot
after the transaction ends, and the horizon with it (a CI run: the first claim after the
release read 3 entries, from the mark, which the analyze's snapshot rightly kept).
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

JOBS = 1500
FIRST = 1100


def claim_one(
    c: psycopg.Connection[tuple[Any, ...]], executor: object, counter: str = "tuples_returned"
) -> tuple[int, int]:
    """Claim one job and complete it, in one transaction: (its id, what the claim read of the
    claim index: entries, or pages with counter="blocks_fetched")."""
    read = f"select pg_stat_get_xact_{counter}('collab.jobs_queued_claim_idx'::regclass)"
    with c.transaction():
        before = c.execute(read).fetchone()
        row = c.execute(
            "select id, lease_token from api.claim(%s, array['held'], 1, 60)", [executor]
        ).fetchone()
        after = c.execute(read).fetchone()
        assert row is not None and before is not None and after is not None
        c.execute("select api.complete(%s, %s)", [row[0], row[1]])
    return int(row[0]), int(after[0]) - int(before[0])


def mark_of(c: psycopg.Connection[tuple[Any, ...]]) -> str:
    row = c.execute("select current_setting('collab.claim_mark', true)").fetchone()
    assert row is not None
    return str(row[0] or "")


def test_claims_behind_a_held_transaction_start_at_the_mark(unvacuumed_db: str) -> None:
    with (
        psycopg.connect(unvacuumed_db, autocommit=True) as holder,
        psycopg.connect(unvacuumed_db, autocommit=True) as producer,
        psycopg.connect(unvacuumed_db, autocommit=True) as worker,
    ):
        executor = worker.execute("select api.register_executor('held', array['held'])").fetchone()
        assert executor is not None
        holder.execute("begin")
        holder.execute("select txid_current()")
        producer.execute(
            "select count(*) from api.enqueue_batch(%s::jsonb)",
            [json.dumps([{"queue": "held", "type": "t"} for _ in range(JOBS)])],
        )
        expected = [
            int(r[0])
            for r in producer.execute(
                "select id from collab.jobs where queue = 'held' order by priority desc, run_at, id"
            )
        ]
        # Another session claims and completes most of them, one a transaction, with no mark
        # of its own (a claim of two queues never marks): their entries stay in the index.
        other = producer.execute(
            "select api.register_executor('other', array['held', 'elsewhere'])"
        ).fetchone()
        assert other is not None
        taken = 0
        while taken < FIRST:
            rows = producer.execute(
                "select id, lease_token from api.claim(%s, array['held', 'elsewhere'], 100, 60)",
                [other[0]],
            ).fetchall()
            producer.execute(
                "select count(*) from api.complete_batch(%s::jsonb)",
                [json.dumps([{"job_id": i, "lease_token": str(t)} for i, t in rows])],
            )
            taken += len(rows)

        first, walked = claim_one(worker, executor[0])
        assert first == expected[FIRST]
        assert walked >= FIRST, "the first claim walks the entries the held transaction keeps"
        assert mark_of(worker) == "", "one long walk notes its xid and sets no mark"
        second, walked = claim_one(worker, executor[0])
        assert second == expected[FIRST + 1]
        assert walked >= FIRST, "the second walks them again: they were not dead to every snapshot"
        assert mark_of(worker) != "", "so it marks"

        reads = []
        got = [first, second]
        for _ in range(49):
            job, read = claim_one(worker, executor[0])
            got.append(job)
            reads.append(read)
        assert got == expected[FIRST : FIRST + 51], "claim order holds"
        assert max(reads) < 20, f"from the mark, not the head: {reads}"

        # A higher priority enqueued now comes first, read from the start of its priority.
        high = producer.execute("select (api.enqueue('held', 't', priority => 3)).id").fetchone()
        assert high is not None
        job, read = claim_one(worker, executor[0])
        assert job == high[0]
        assert read < 20

        # A second later the mark has expired: one claim walks from the head again (and marks).
        worker.execute("set collab.clock_offset = '2 seconds'")
        job, read = claim_one(worker, executor[0])
        assert job == expected[FIRST + 51]
        assert read >= FIRST
        job, read = claim_one(worker, executor[0])
        assert job == expected[FIRST + 52]
        assert read < 20

        # The held transaction ends: the horizon moves, so the next claim drops the mark and
        # reads from the head once, marking the entries dead as it passes them (Postgres can now
        # delete them from a full page); the claims after it read a few entries and set no mark.
        assert mark_of(worker) != ""
        holder.execute("rollback")
        job, read = claim_one(worker, executor[0])
        assert job == expected[FIRST + 53]
        assert read >= FIRST, "the first claim after the release reads from the head"
        job, read = claim_one(worker, executor[0])
        assert job == expected[FIRST + 54]
        assert read < 20, "its walk marked the entries dead"
        assert mark_of(worker) == "", "no mark once the horizon has passed it"


def test_without_a_held_transaction_no_mark_is_set(unvacuumed_db: str) -> None:
    """Dead entries are marked as claims read them, walks stay short, no mark is set."""
    with psycopg.connect(unvacuumed_db, autocommit=True) as c:
        executor = c.execute("select api.register_executor('free', array['held'])").fetchone()
        assert executor is not None
        c.execute(
            "select count(*) from api.enqueue_batch(%s::jsonb)",
            [json.dumps([{"queue": "held", "type": "t"} for _ in range(JOBS)])],
        )
        reads = [claim_one(c, executor[0])[1] for _ in range(FIRST + 50)]
        mark = c.execute("select current_setting('collab.claim_mark', true)").fetchone()
        assert mark is not None, "current_setting returns a row"
        assert not mark[0], f"no mark: {mark[0]!r}"
        assert max(reads[-50:]) < 20, f"short walks: {reads[-50:]}"


def test_entries_nobody_read_since_they_died_set_no_mark(unvacuumed_db: str) -> None:
    """The 1,000 jobs claimed by one batch are dead to every snapshot once it commits, but nobody has read
    their entries since: the next walk reads them all, and marks them dead as it passes, so it
    sets no mark and the walk after it is short."""
    with (
        psycopg.connect(unvacuumed_db, autocommit=True) as producer,
        psycopg.connect(unvacuumed_db, autocommit=True) as worker,
    ):
        executor = worker.execute("select api.register_executor('quiet', array['held'])").fetchone()
        other = producer.execute("select api.register_executor('batch', array['held'])").fetchone()
        assert executor is not None and other is not None
        producer.execute(
            "select count(*) from api.enqueue_batch(%s::jsonb)",
            [json.dumps([{"queue": "held", "type": "t"} for _ in range(JOBS)])],
        )
        producer.execute("select count(*) from api.claim(%s, array['held'], 1000, 60)", [other[0]])
        _, walked = claim_one(worker, executor[0])
        assert walked >= 1000, "the first walk reads the entries of the batch's jobs"
        assert mark_of(worker) == "", "and sets no mark, only notes its xid"
        _, walked = claim_one(worker, executor[0])
        assert walked < 20, "it marked them dead as it passed"
        _, walked = claim_one(worker, executor[0])
        assert walked < 20
        assert mark_of(worker) == "", "no mark: the long walk was not behind a held snapshot"


def hold_snapshot(reader: psycopg.Connection[tuple[Any, ...]]) -> str:
    """Begin a repeatable read transaction on `reader` and take its snapshot, which it holds
    without an xid: the snapshot's xmin (its backend_xmin)."""
    reader.execute("begin isolation level repeatable read")
    reader.execute("select 1")
    row = reader.execute(
        "select backend_xmin::text from pg_stat_activity where pid = pg_backend_pid()"
    ).fetchone()
    assert row is not None and row[0] is not None
    return str(row[0])


def test_the_cleanup_horizon_is_the_oldest_held_xid_or_snapshot(unvacuumed_db: str) -> None:
    """collab.cleanup_horizon: an open transaction's xid, a snapshot held without an xid (a
    repeatable read transaction), and the horizon moving once they end; and
    collab.horizon_held_since, answered from the other sessions' snapshots for the one held
    without an xid (this session's own snapshot has passed the xid)."""
    with (
        psycopg.connect(unvacuumed_db, autocommit=True) as holder,
        psycopg.connect(unvacuumed_db, autocommit=True) as reader,
        psycopg.connect(unvacuumed_db, autocommit=True) as me,
    ):

        def horizon() -> str:
            row = me.execute("select collab.cleanup_horizon()::text").fetchone()
            assert row is not None
            return str(row[0])

        def held_since(x: str) -> bool:
            row = me.execute("select collab.horizon_held_since(%s::xid)", [x]).fetchone()
            assert row is not None
            return bool(row[0])

        snap = hold_snapshot(reader)
        holder.execute("begin")
        xid = holder.execute("select txid_current()::text").fetchone()
        assert xid is not None
        assert horizon() == snap, "the snapshot taken before the xid is the older"
        later = me.execute("select txid_current()::text").fetchone()  # xids assigned and committed
        assert later is not None
        assert horizon() == snap, "it holds while the snapshot is held"
        assert held_since(later[0]), "held since an xid that committed after the snapshot was taken"
        reader.execute("rollback")
        assert horizon() == xid[0], "then the open transaction's xid"
        assert held_since(later[0]), "and still held: the open transaction began before it"
        holder.execute("rollback")
        assert not held_since(later[0]), "nothing held open since: the horizon has passed it"
        first = horizon()
        me.execute("select txid_current()")
        assert horizon() != first, "with nothing held, the horizon moves at every commit"


def test_a_snapshot_held_in_another_database_does_not_hold_the_horizon(
    unvacuumed_db: str, server_url: str
) -> None:
    """A repeatable read transaction of another database of the cluster holds a snapshot that
    cannot see this database's tables, and Postgres's horizon for them leaves it out: so do
    collab.cleanup_horizon and collab.horizon_held_since, while the same snapshot held in this
    database counts."""
    with (
        psycopg.connect(server_url, autocommit=True) as elsewhere,
        psycopg.connect(unvacuumed_db, autocommit=True) as here,
        psycopg.connect(unvacuumed_db, autocommit=True) as me,
    ):
        for reader, held in ((elsewhere, False), (here, True)):
            snap = hold_snapshot(reader)
            later = me.execute("select txid_current()::text").fetchone()  # committed after it
            assert later is not None
            row = me.execute(
                "select collab.cleanup_horizon()::text, collab.horizon_held_since(%s::xid)",
                [later[0]],
            ).fetchone()
            assert row is not None
            assert (row[0] == snap) is held, f"the horizon {row[0]} against the snapshot {snap}"
            assert row[1] is held, "held since the xid only by a snapshot of this database"
            reader.execute("rollback")


def test_pages_of_dead_entries_at_the_head_set_a_mark_for_a_second(unvacuumed_db: str) -> None:
    """No snapshot is held, so the entries of claimed jobs are marked dead as claims pass them,
    but only a vacuum removes their pages from the head of the claim index (autovacuum is off
    here, as before the launcher's first visit to a fresh database). A claim that read 32 pages
    or more sets a mark with xid 0, kept for its second: the next claims read a few pages, in
    claim order; the mark does not move, so those claims still read (and mark dead) the entries
    of the jobs claimed since; a job left below the mark (its row was locked when the first
    claim passed it) is taken once the mark has expired."""
    jobs = 10_000
    with (
        psycopg.connect(unvacuumed_db, autocommit=True) as producer,
        psycopg.connect(unvacuumed_db, autocommit=True) as locker,
        psycopg.connect(unvacuumed_db, autocommit=True) as worker,
    ):
        executor = worker.execute("select api.register_executor('pages', array['held'])").fetchone()
        other = producer.execute("select api.register_executor('batch', array['held'])").fetchone()
        assert executor is not None and other is not None
        for _ in range(jobs // 1000):
            producer.execute(
                "select count(*) from api.enqueue_batch(%s::jsonb)",
                [json.dumps([{"queue": "held", "type": "t"} for _ in range(1000)])],
            )
        expected = [
            int(r[0])
            for r in producer.execute(
                "select id from collab.jobs where queue = 'held' order by priority desc, run_at, id"
            )
        ]
        # 9,000 jobs claimed by batches, and one more: each walk marks the entries of the jobs
        # claimed before it dead (a walk through 1,000 live-looking entries notes its xid and
        # sets no mark, test_entries_nobody_read_since_they_died_set_no_mark).
        for _ in range(9):
            producer.execute(
                "select count(*) from api.claim(%s, array['held'], 1000, 60)", [other[0]]
            )
        producer.execute("select count(*) from api.claim(%s, array['held'], 1, 60)", [other[0]])
        expected = expected[9001:]
        # A job that will be left below the mark: the first due one, held locked while the
        # first claim passes it.
        locker.execute("begin")
        locker.execute("select 1 from collab.jobs where id = %s for update", [expected[0]])
        first, pages = claim_one(worker, executor[0], "blocks_fetched")
        assert first == expected[1]
        assert pages >= 32, f"the first claim reads the dead pages at the head: {pages}"
        mark = mark_of(worker)
        assert mark.split("|")[5:] == ["0", "1"], f"and marks, with xid 0, for a second: {mark!r}"
        got, reads = [], []
        for _ in range(20):
            job, pages = claim_one(worker, executor[0], "blocks_fetched")
            got.append(job)
            reads.append(pages)
        assert got == expected[2:22], "claim order holds from the mark"
        assert max(reads) < 8, f"from the mark, not the head: {reads}"
        assert mark_of(worker) == mark, "a mark over dead pages does not move"
        locker.execute("rollback")
        job, pages = claim_one(worker, executor[0], "blocks_fetched")
        assert job == expected[22], "within the mark's second the job below it waits"

        # The mark kept for its second whatever the horizon did (no snapshot is held at all);
        # then one claim reads from the head, takes the job left behind, and marks again.
        worker.execute("set collab.clock_offset = '2 seconds'")
        job, pages = claim_one(worker, executor[0], "blocks_fetched")
        assert job == expected[0]
        assert pages >= 32
        assert mark_of(worker).split("|")[5:] == ["0", "1"]
        job, pages = claim_one(worker, executor[0], "blocks_fetched")
        assert job == expected[23]
        assert pages < 8
