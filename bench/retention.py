"""What event retention costs, by row deletes and by dropping partitions: docs/scaling.md.

    .venv/bin/python bench/retention.py DATABASE_URL [--events 1000000] [--batch 10000]

Against a migrated scratch database that no reap has touched (it enqueues jobs there and
removes their events), two rounds of ``--events`` jobs (bench/run.py's ``fill_collab``), each
with its ``enqueued`` event:

1. **Rows.** With no range partition yet, the events land in the default partition of
   ``collab.job_events`` and ``collab.purge_events`` deletes rows (as every database did
   before revision 0029). The metrics are rolled up (only events the rollup has read go);
   then ``collab.purge_events(interval '0', --batch)`` is called until it returns 0 (it keeps
   the newest event, the stream's head), timed, with the WAL written meanwhile
   (``pg_current_wal_insert_lsn``, after a CHECKPOINT so full-page images count the same way each
   run); then, once no snapshot older than the deletes is left in the database (an
   autoanalyze of another table holds one), one ``VACUUM`` of the default partition, with its
   time and WAL. Autovacuum is off on that partition while it runs, so the vacuum measured is
   the one the deletes need, and is set back after.
2. **Partitions.** ``collab.ensure_event_partitions`` makes the first range (a margin above
   the next xid: the head stays in the default partition, below it), transactions that do
   nothing else move the next xid to its start, the second round is enqueued into it, more
   move the next xid past its end, the next call marks it full and makes the next range, one
   job puts the newest event there, and after the rollup ``collab.purge_events(interval
   '0')`` is called until it returns 0: it drops the first range whole and deletes the head
   below it. Timed, with its WAL; no vacuum follows a drop.

Prints, for each, events removed a second and WAL bytes an event removed (and vacuumed), as
JSON. A deleted event costs about the same whatever its type (a heap row and two index
entries), so the ``enqueued`` events stand for all. Not part of the test run;
tests/py/integration/test_bench_retention.py checks its counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "thin_client"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R


def wal_since(conn: psycopg.Connection[Any], lsn: str) -> float:
    # The insert position: a VACUUM commits without flushing, so the write position
    # (pg_current_wal_lsn) may not have reached its records yet when it returns.
    row = conn.execute(
        "select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)", [lsn]
    ).fetchone()
    assert row
    return float(row[0])


def lsn(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("select pg_current_wal_insert_lsn()::text").fetchone()
    assert row
    return str(row[0])


def purge_until_done(conn: psycopg.Connection[Any], batch: int) -> tuple[int, int, float, float]:
    """collab.purge_events(interval '0', batch) until it returns 0: (removed, calls, seconds,
    WAL bytes)."""
    conn.execute("checkpoint")
    before = lsn(conn)
    removed, calls, started = 0, 0, time.perf_counter()
    while True:
        row = conn.execute("select collab.purge_events(interval '0', %s)", [batch]).fetchone()
        assert row
        calls += 1
        removed += row[0]
        if row[0] == 0:
            break
    return removed, calls, time.perf_counter() - started, wal_since(conn, before)


def wait_for_horizon(conn: psycopg.Connection[Any], seconds: float = 60.0) -> None:
    """Wait (up to ``seconds``) until Postgres can remove the rows this session deleted: until
    every transaction and snapshot older than a transaction taken now has ended
    (``collab.horizon_held_since``). A snapshot held meanwhile in the database, such as an
    autoanalyze of another table, leaves the vacuum after the deletes nothing to remove and
    nothing to write (a CI run on a slow machine measured 0 bytes)."""
    xid = count(conn, "select xid(pg_current_xact_id())::text::bigint")
    held = f"select collab.horizon_held_since('{xid}'::xid)::int"
    R.wait_until(lambda: count(conn, held) == 0, seconds)


def count(conn: psycopg.Connection[Any], sql: str) -> int:
    row = conn.execute(sql).fetchone()
    assert row
    return int(row[0])


def counts(stored: int, removed: int, left: int, calls: int, seconds: float) -> dict[str, Any]:
    return {
        "events": stored,
        "removed": removed,
        "left": left,
        "calls": calls,
        "seconds": round(seconds, 3),
        "removed_per_second": round(removed / seconds) if seconds > 0 else None,
    }


def by_rows(url: str, events: int, batch: int) -> dict[str, Any]:
    R.fill_collab(url, events, "retention")
    with psycopg.connect(url, autocommit=True) as conn:
        assert (
            count(conn, "select count(*) from collab.event_partitions() where to_xid is not null")
            == 0
        ), "a database with no range partition yet (no reap has run)"
        conn.execute("select collab.metrics_rollup()")
        conn.execute("vacuum analyze collab.job_events_default")
        conn.execute("alter table collab.job_events_default set (autovacuum_enabled = false)")
        try:
            stored = count(conn, "select count(*) from collab.job_events")
            removed, calls, seconds, delete_wal = purge_until_done(conn, batch)
            wait_for_horizon(conn)
            before = lsn(conn)
            started = time.perf_counter()
            conn.execute("vacuum collab.job_events_default")
            vacuum_seconds = time.perf_counter() - started
            vacuum_wal = wal_since(conn, before)
            left = count(conn, "select count(*) from collab.job_events")
        finally:
            conn.execute("alter table collab.job_events_default reset (autovacuum_enabled)")
    return counts(stored, removed, left, calls, seconds) | {
        "wal_bytes_per_event_removed": round(delete_wal / max(removed, 1)),
        "vacuum_seconds": round(vacuum_seconds, 3),
        "vacuum_wal_bytes_per_event": round(vacuum_wal / max(removed, 1)),
    }


def by_partitions(url: str, events: int) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        # A range wide enough for the fill's transactions (one per 10,000 jobs) and a few more.
        width = events // 10000 + 100
        assert count(conn, f"select collab.ensure_event_partitions(width => {width})") == 1
        first = "select {}::text::bigint from collab.event_partitions() where to_xid is not null"
        R.advance_next_xid(conn, count(conn, first.format("from_xid")))
        R.fill_collab(url, events, "retention")
        R.advance_next_xid(conn, count(conn, first.format("to_xid")))
        assert count(conn, f"select collab.ensure_event_partitions(width => {width})") == 1
        R.fill_collab(url, 1, "retention")  # the newest event, in the next range
        conn.execute("select collab.metrics_rollup()")
        stored = count(conn, "select count(*) from collab.job_events")
        removed, calls, seconds, wal = purge_until_done(conn, 10000)
        left = count(conn, "select count(*) from collab.job_events")
    return counts(stored, removed, left, calls, seconds) | {
        "wal_bytes": round(wal),
        "wal_bytes_per_event_removed": round(wal / max(removed, 1), 2),
    }


def measure(url: str, events: int, batch: int) -> dict[str, Any]:
    return {"rows": by_rows(url, events, batch), "partitions": by_partitions(url, events)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10000)
    args = parser.parse_args()
    print(json.dumps(measure(args.url, args.events, args.batch), indent=2))


if __name__ == "__main__":
    main()
