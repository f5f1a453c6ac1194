"""Claims behind a transaction held open by another session.

A session sits idle in a transaction that has an xid (`begin; select txid_current()`), as a
stuck client does. Postgres can then neither remove nor mark dead the claim-index entries of
the jobs claimed since, and a claim that reads its queue from the head walks all of them.
With the mark (`collab.claim_mark`, docs/architecture.md "Claims"), a session whose walk was
long starts its next claims of that queue at the last job it took: the test counts the
claim-index entries each claim reads, and checks that the jobs still come in claim order,
higher priorities first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from conftest import new_database
from helpers import drop_database

JOBS = 1500
FIRST = 1100


@pytest.fixture
def own_db(server_url: str, template_db: str) -> Iterator[str]:
    name, url = new_database(server_url, template_db)
    yield url
    drop_database(server_url, name)


def claim_one(c: psycopg.Connection[tuple[Any, ...]], executor: object) -> tuple[int, int]:
    """Claim one job and complete it, in one transaction: (its id, claim-index entries read)."""
    with c.transaction():
        before = c.execute(
            "select pg_stat_get_xact_tuples_returned('collab.jobs_queued_claim_idx'::regclass)"
        ).fetchone()
        row = c.execute(
            "select id, lease_token from api.claim(%s, array['held'], 1, 60)", [executor]
        ).fetchone()
        after = c.execute(
            "select pg_stat_get_xact_tuples_returned('collab.jobs_queued_claim_idx'::regclass)"
        ).fetchone()
        assert row is not None and before is not None and after is not None
        c.execute("select api.complete(%s, %s)", [row[0], row[1]])
    return int(row[0]), int(after[0]) - int(before[0])


def test_claims_behind_a_held_transaction_start_at_the_mark(own_db: str) -> None:
    with (
        psycopg.connect(own_db, autocommit=True) as holder,
        psycopg.connect(own_db, autocommit=True) as producer,
        psycopg.connect(own_db, autocommit=True) as worker,
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

        reads = []
        got = [first]
        for _ in range(50):
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
        holder.execute("rollback")


def test_without_a_held_transaction_no_mark_is_set(own_db: str) -> None:
    """Dead entries are marked as claims read them, walks stay short, no mark is set."""
    with psycopg.connect(own_db, autocommit=True) as c:
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
