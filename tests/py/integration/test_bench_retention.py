"""bench/retention.py measures what docs/scaling.md says it measures: every event but the
stream's head removed by collab.purge_events in batches, the WAL of those deletes and of the
vacuum after them, and the table's autovacuum setting left as it was; and the database it
leaves is a healthy one (check_invariants, which before revision 0028 reported the jobs of a
transaction a purge ended inside)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from helpers import load_module

ROOT = Path(__file__).resolve().parents[3]


def retention() -> Any:
    return load_module("collab_bench_retention", ROOT / "bench" / "retention.py")


def test_retention_removes_every_event_but_the_head_and_counts_its_wal(own_db: str) -> None:
    figures = retention().measure(own_db, 600, 100)

    # 600 enqueued events; the newest stays (the stream's head): 6 calls remove 100, 100, 100,
    # 100, 100 and 99, a seventh finds nothing
    assert (figures["events"], figures["removed"], figures["left"], figures["calls"]) == (
        600,
        599,
        1,
        7,
    )
    assert figures["removed_per_second"] > 0
    assert figures["wal_bytes_per_event_removed"] > 0
    assert figures["vacuum_wal_bytes_per_event"] > 0
    with psycopg.connect(own_db, autocommit=True) as c:
        assert c.execute(
            "select reloptions from pg_class where oid = 'collab.job_events'::regclass"
        ).fetchone() == (None,), "autovacuum set back on the table"
        assert c.execute("select count(*) from collab.jobs").fetchone() == (600,)
        # the stream's head, the newest enqueued event, is the one left
        assert c.execute(
            "select e.job_id = (select max(id) from collab.jobs) from collab.job_events e"
        ).fetchone() == (True,)
        # the 599 jobs whose events went share the head's transaction: not violations (0028)
        assert c.execute("select * from api.check_invariants()").fetchall() == []
