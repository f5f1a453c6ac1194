"""What one job writes: WAL bytes and index entries per job, counted, not timed (issue 18).

    .venv/bin/python bench/write_cost.py DATABASE_URL [--jobs 2000] [--batch 100]

Against a migrated database on a cluster whose WAL this process can read (the embedded
clusters, run as their owner or root): ``--jobs`` jobs are enqueued ``--batch`` per
``api.enqueue_batch``, then claimed and completed one per transaction (``api.claim`` of one,
``api.complete``), the Python worker's cycle without its batching. Between two WAL positions
(after a CHECKPOINT, so full-page images count the same way each run) it reports per job:
the WAL bytes (``pg_wal_lsn_diff``), and from ``pg_waldump --stats=record`` the heap records
(inserts, updates, HOT updates, deletes) and the btree leaf insertions (``INSERT_LEAF`` plus
``INSERT_POST``, a new entry into a posting list): the index entries written. Nothing here
depends on timing, so it is a fair comparison on a shared machine: run it on a database at
each revision to compare layouts.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

import psycopg

from collab import embedded


def waldump_stats(data_dir: str, start: str, end: str) -> dict[str, int]:
    binary = embedded.find_bin_dir() / "pg_waldump"
    proc = subprocess.run(
        [
            str(binary),
            "--stats=record",
            "-p",
            str(Path(data_dir) / "pg_wal"),
            "-s",
            start,
            "-e",
            end,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    counts: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"^(\w+/\w+)\s+(\d+)\s", line.strip())
        if match:
            counts[match.group(1)] = int(match.group(2))
    return counts


def measure(url: str, jobs: int, batch: int) -> dict[str, float]:
    with psycopg.connect(url, autocommit=True) as conn:
        revision = conn.execute("select version_num from public.alembic_version").fetchone()
        data_dir = conn.execute("show data_directory").fetchone()
        executor = conn.execute(
            "select api.register_executor('write-cost', array['write-cost'])"
        ).fetchone()
        assert revision and data_dir and executor
        conn.execute("checkpoint")
        start = conn.execute("select pg_current_wal_lsn()::text").fetchone()
        assert start
        items = json.dumps(
            [{"queue": "write-cost", "type": "t", "payload": {"n": i}} for i in range(batch)]
        )
        for _ in range(jobs // batch):
            conn.execute("select count(*) from api.enqueue_batch(%s::jsonb)", [items])
        for _ in range(jobs // batch * batch):
            claimed = conn.execute(
                "select id, lease_token from api.claim(%s, array['write-cost'], 1, 60)",
                [executor[0]],
            ).fetchone()
            assert claimed
            conn.execute("select api.complete(%s, %s)", list(claimed))
        end = conn.execute("select pg_current_wal_lsn()::text").fetchone()
        assert end
        wal = conn.execute(
            "select pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", [end[0], start[0]]
        ).fetchone()
        assert wal
    done = jobs // batch * batch
    stats = waldump_stats(data_dir[0], start[0], end[0])
    per_job = {name: round(count / done, 2) for name, count in sorted(stats.items()) if count}
    return {
        "revision": revision[0],
        "jobs": done,
        "wal_bytes_per_job": round(float(wal[0]) / done),
        "index_entries_per_job": round(
            (stats.get("Btree/INSERT_LEAF", 0) + stats.get("Btree/INSERT_POST", 0)) / done, 2
        ),
        "records_per_job": per_job,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(measure(args.url, args.jobs, args.batch), indent=2))


if __name__ == "__main__":
    main()
