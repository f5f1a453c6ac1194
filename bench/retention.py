"""What event retention by row deletes costs: docs/scaling.md, "What breaks first".

    .venv/bin/python bench/retention.py DATABASE_URL [--events 1000000] [--batch 10000]

Against a migrated scratch database (it enqueues jobs there and removes their events):
``--events`` jobs are enqueued (bench/run.py's ``fill_collab``), each with its ``enqueued``
event; the metrics are rolled up (``collab.purge_events`` removes only events the rollup has
read); then ``collab.purge_events(interval '0', --batch)`` is called until it returns 0 (it
keeps the newest event, the stream's head), timed, with the WAL written meanwhile
(``pg_current_wal_lsn``, after a CHECKPOINT so full-page images count the same way each run);
then one ``VACUUM`` of ``collab.job_events``, with its time and WAL. Autovacuum is off on that
table while it runs, so the vacuum measured is the one the deletes need, and is set back after.
Prints events removed a second, WAL bytes an event removed and vacuumed, as JSON. A deleted
event costs about the same whatever its type (a heap row and two index entries), so the
``enqueued`` events stand for all. Not part of the test run;
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
    row = conn.execute("select pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [lsn]).fetchone()
    assert row
    return float(row[0])


def lsn(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("select pg_current_wal_lsn()::text").fetchone()
    assert row
    return str(row[0])


def measure(url: str, events: int, batch: int) -> dict[str, Any]:
    R.fill_collab(url, events, "retention")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select collab.metrics_rollup()")
        conn.execute("vacuum analyze collab.job_events")
        conn.execute("alter table collab.job_events set (autovacuum_enabled = false)")
        try:
            conn.execute("checkpoint")
            stored = conn.execute("select count(*) from collab.job_events").fetchone()
            assert stored
            before = lsn(conn)
            removed, calls, started = 0, 0, time.perf_counter()
            while True:
                row = conn.execute(
                    "select collab.purge_events(interval '0', %s)", [batch]
                ).fetchone()
                assert row
                calls += 1
                removed += row[0]
                if row[0] == 0:
                    break
            seconds = time.perf_counter() - started
            delete_wal = wal_since(conn, before)
            before = lsn(conn)
            started = time.perf_counter()
            conn.execute("vacuum collab.job_events")
            vacuum_seconds = time.perf_counter() - started
            vacuum_wal = wal_since(conn, before)
            left = conn.execute("select count(*) from collab.job_events").fetchone()
            assert left
        finally:
            conn.execute("alter table collab.job_events reset (autovacuum_enabled)")
    return {
        "events": stored[0],
        "removed": removed,
        "left": left[0],
        "calls": calls,
        "seconds": round(seconds, 3),
        "removed_per_second": round(removed / seconds) if seconds > 0 else None,
        "wal_bytes_per_event_removed": round(delete_wal / max(removed, 1)),
        "vacuum_seconds": round(vacuum_seconds, 3),
        "vacuum_wal_bytes_per_event": round(vacuum_wal / max(removed, 1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10000)
    args = parser.parse_args()
    print(json.dumps(measure(args.url, args.events, args.batch), indent=2))


if __name__ == "__main__":
    main()
