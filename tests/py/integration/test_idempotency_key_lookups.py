"""An enqueue with idempotency keys finds each key by one probe of the primary key of
collab.idempotency_keys, however many keys the workspace holds and whatever the statistics say.

Every key a workspace ever used stays in collab.idempotency_keys (revision 0009), so the table
only grows. api.enqueue_batch (and api.enqueue, which hands it every call with a key) looked
the batch's keys up with a join that the planner, with the statistics of a fresh table (none),
ran as a read of every key of the workspace for every element: with 20,000 keys stored, a keyed
api.enqueue took 9.6 ms and a keyed batch of 100 took 236 ms (3.6 and 10.8 ms with the table
analyzed). Each element's key is now looked up once, by a probe with LIMIT, which the planner
cannot turn into a join, under enable_seqscan and enable_bitmapscan off (docs/bench.md). This test fills the keys
with autovacuum off, so nothing analyzes the table, and counts what the calls read.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from helpers import table_reads

STORED = 20000
CALLS = 20


def enqueue(c: psycopg.Connection[Any], key: str) -> tuple[int, bool]:
    """api.enqueue of a job with this key: (its id, duplicate)."""
    row = c.execute(
        "select id, duplicate from api.enqueue('keys', 't', idempotency_key => %s)", [key]
    ).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def keyed(prefix: str, n: int) -> list[dict[str, str]]:
    return [{"queue": "keys", "type": "t", "idempotency_key": f"{prefix}-{i}"} for i in range(n)]


def test_keys_are_found_by_primary_key_among_many_without_statistics(
    unvacuumed_db: str,
) -> None:
    with psycopg.connect(unvacuumed_db, autocommit=True) as c:
        for part in range(STORED // 10000):
            made = c.execute(
                "select count(*) from api.enqueue_batch(%s::jsonb) where not duplicate",
                [json.dumps(keyed(f"stored{part}", 10000))],
            ).fetchone()
            assert made == (10000,)
        assert c.execute(
            "select reltuples <= 0 from pg_class where oid = 'collab.idempotency_keys'::regclass"
        ).fetchone() == (True,), "the keys were never analyzed"

        c.execute("select pg_stat_force_next_flush()")
        seq0, read0 = table_reads(unvacuumed_db, "collab.idempotency_keys")
        first = [enqueue(c, f"one-{i}") for i in range(CALLS)]
        again = [enqueue(c, f"one-{i}") for i in range(CALLS)]
        made = c.execute(
            "select count(*) filter (where not duplicate), count(*) filter (where duplicate)"
            " from api.enqueue_batch(%s::jsonb)",
            [json.dumps(keyed("stored0", 50) + keyed("new", 50))],
        ).fetchone()
        c.execute("select pg_stat_force_next_flush()")
        seq1, read1 = table_reads(unvacuumed_db, "collab.idempotency_keys")

    assert [f[1] for f in first] == [False] * CALLS
    assert again == [(f[0], True) for f in first], "repeats find their job"
    assert made == (50, 50), "50 stored keys found, 50 new ones made"
    assert seq1 - seq0 == 0, f"{seq1 - seq0} sequential scans of collab.idempotency_keys"
    # 140 keyed elements: a few probes each (claiming the key, looking it up). Reading the
    # workspace's keys for every element: about 2 million.
    assert read1 - read0 <= 5 * (2 * CALLS + 100), f"{read1 - read0} key entries read"
