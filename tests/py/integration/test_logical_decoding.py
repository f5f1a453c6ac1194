"""job_events rows stream through logical decoding (the path Supabase Realtime takes) in
commit order: a transaction that took lower ids but committed later comes later, and a
rolled-back transaction never appears. Uses test_decoding on the module's database (the
cluster runs wal_level=logical). test_decoding names the partition each row went to
(collab.job_events is partitioned by xid since revision 0029; a publication with
publish_via_partition_root, as Supabase's is set, names the table itself)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import psycopg
import pytest

Row = tuple[object, ...]
SLOT = f"collab_rt_test_{os.getpid()}"


@pytest.fixture
def slot(db_url: str) -> Iterator[str]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        level = conn.execute("show wal_level").fetchone()
        if level is None or level[0] != "logical":
            pytest.skip("the test server does not run wal_level=logical")
        conn.execute("set statement_timeout = '60s'")
        conn.execute("select pg_create_logical_replication_slot(%s, 'test_decoding')", [SLOT])
    try:
        yield SLOT
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("select pg_drop_replication_slot(%s)", [SLOT])


def enqueue(conn: psycopg.Connection[Row], queue: str, n: int) -> list[int]:
    rows = conn.execute(
        "select (api.enqueue(%s, 't')).id from generate_series(1, %s)", [queue, n]
    ).fetchall()
    return [int(str(r[0])) for r in rows]


def test_job_events_decode_in_commit_order(db_url: str, slot: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as setup:
        enqueue(setup, "decode", 1)  # the queue row exists before the race
    with (
        psycopg.connect(db_url) as t1,
        psycopg.connect(db_url) as t2,
        psycopg.connect(db_url) as t3,
    ):
        late = enqueue(t1, "decode", 2)  # lower ids, commits last
        early = enqueue(t2, "decode", 2)
        doomed = enqueue(t3, "decode", 1)
        t2.commit()
        t3.rollback()
        t1.commit()

    with psycopg.connect(db_url, autocommit=True) as conn:
        changes = [
            str(r[0])
            for r in conn.execute(
                "select data from pg_logical_slot_get_changes(%s, null, null,"
                " 'include-xids', '1', 'skip-empty-xacts', '1')",
                [slot],
            ).fetchall()
        ]

    # Job ids of the decoded job_events inserts, grouped by transaction in commit order.
    transactions: list[list[int]] = []
    for line in changes:
        if line.startswith("BEGIN"):
            transactions.append([])
        match = re.match(r"table collab\.job_events_\w+: INSERT: .*job_id\[bigint\]:(\d+)", line)
        if match:
            transactions[-1].append(int(match.group(1)))
    decoded = [t for t in transactions if t]
    assert decoded[-2:] == [early, late], "commit order: T2 (higher ids) before T1"
    flat = [job for t in decoded for job in t]
    assert not set(flat) & set(doomed), "nothing of a rolled-back transaction is decoded"
    assert any(re.match(r"table collab\.job_events_\w+: INSERT:", line) for line in changes)
