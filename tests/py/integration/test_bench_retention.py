"""bench/retention.py measures what docs/scaling.md says it measures: by rows, every event but
the stream's head removed by collab.purge_events in batches, the WAL of those deletes and of the
vacuum after them, and the default partition's autovacuum setting left as it was; by partitions,
the second round and the head dropped with their range in one call, for a WAL that does not
grow with the events; and the database it leaves is a healthy one (check_invariants, which
before revision 0028 reported the jobs of a transaction a purge ended inside)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from helpers import load_module

ROOT = Path(__file__).resolve().parents[3]


def retention() -> Any:
    return load_module("collab_bench_retention", ROOT / "bench" / "retention.py")


def test_retention_removes_every_event_but_the_head_and_counts_its_wal(own_db: str) -> None:
    figures = retention().measure(own_db, 2000, 500)
    rows, parts = figures["rows"], figures["partitions"]

    # By rows: 2,000 enqueued events; the newest stays (the stream's head): 4 calls remove 500,
    # 500, 500 and 499, a fifth finds nothing
    assert (rows["events"], rows["removed"], rows["left"], rows["calls"]) == (2000, 1999, 1, 5)
    assert rows["removed_per_second"] > 0
    assert rows["wal_bytes_per_event_removed"] > 0
    assert rows["vacuum_wal_bytes_per_event"] > 0
    # By partitions: the head in the default partition below the first range, 2,000 more in
    # that range, one newer event in the next; one call drops the range and deletes the head
    # (2,001 events), a second finds nothing
    assert (parts["events"], parts["removed"], parts["left"], parts["calls"]) == (2002, 2001, 1, 2)
    assert parts["wal_bytes"] < rows["wal_bytes_per_event_removed"] * rows["removed"] / 4, (
        "a drop writes a fraction of the deletes' WAL, whatever the number of events"
    )
    with psycopg.connect(own_db, autocommit=True) as c:
        assert c.execute(
            "select reloptions from pg_class where oid = 'collab.job_events_default'::regclass"
        ).fetchone() == (None,), "autovacuum set back on the default partition"
        assert c.execute("select count(*) from collab.jobs").fetchone() == (4001,)
        # the stream's head, the newest enqueued event, is the one left
        assert c.execute(
            "select e.job_id = (select max(id) from collab.jobs) from collab.job_events e"
        ).fetchone() == (True,)
        # the jobs whose events went were created before the head's: not violations
        assert c.execute("select * from api.check_invariants()").fetchall() == []


def test_the_vacuum_measured_comes_after_older_snapshots_end(
    own_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot taken before the deletes and held until a second after them (as an
    autoanalyze of another table holds one) leaves a vacuum run at once nothing to remove: it
    writes no WAL, the figure a CI run once measured. The tool waits for it to end first."""
    module = retention()
    holder = psycopg.connect(own_db)
    holder.execute("set transaction isolation level repeatable read")
    holder.execute("select count(*) from collab.jobs")  # the snapshot, held
    released = threading.Event()
    purge = module.purge_until_done

    def release() -> None:
        holder.rollback()
        released.set()

    def purge_then_release_later(*args: Any) -> Any:
        result = purge(*args)
        threading.Timer(1.0, release).start()
        return result

    monkeypatch.setattr(module, "purge_until_done", purge_then_release_later)
    try:
        rows = module.by_rows(own_db, 2000, 500)
    finally:
        released.wait(10)
        holder.close()
    assert rows["removed"] == 1999
    assert rows["vacuum_wal_bytes_per_event"] > 0, "the vacuum ran while the snapshot was held"
