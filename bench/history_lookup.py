"""``api.get_job`` of finished jobs with a long history: one partition read, or each in turn.

Usage: ``python bench/history_lookup.py [--days 30] [--jobs-per-day 200] [--seconds 5] [--rounds 4]``

On the embedded cluster (or ``COLLAB_DATABASE_URL``'s server) it makes a scratch database,
migrates it, gives ``collab.job_history`` a day partition for each of the last ``--days`` days
and the week ahead, and finishes ``--jobs-per-day`` jobs on each of those days through the api
(enqueue, claim, complete, with ``collab.clock_offset`` set to the day). Then pgbench (one
client) calls ``api.get_job`` of a finished job drawn at random, in rounds with
``api.get_job`` as shipped ("on": ``collab.finished_job`` reads the partition the job's
terminal event names) and as it was ("off": the history by workspace and id, whose primary key
holds finished_at, so the partitions are probed in order until one holds the job), swapped by
``create or replace`` between rounds, in alternating order after a discarded warm-up
(bench/rate_limit_overhead.py). Prints each round's calls per second and the on/off ratios.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "thin_client"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from rate_limit_overhead import paired_rounds, scratch_database
from stored_jobs_overhead import run_pgbench

SHIPPED = "    j := collab.history_job(collab.finished_job(ws, get_job.job_id));\n"
PROBING = (
    "    select * into j from collab.job_history h"
    " where h.workspace_id = ws and h.id = get_job.job_id;\n"
)


def prepare(name: str, days: int, per_day: int) -> tuple[str, str, int, int]:
    """A migrated scratch database with per_day jobs finished on each of the last `days` days;
    returns its URL, api.get_job's definition and the range of the finished jobs' ids."""
    db = scratch_database(name)
    with psycopg.connect(db, autocommit=True) as conn:
        ex = conn.execute("select api.register_executor('history', array['h'])").fetchone()
        assert ex is not None
        conn.execute("select set_config('collab.clock_offset', %s, false)", [f"-{days} days"])
        conn.execute("select collab.ensure_job_history_partitions(%s)", [days + 7])
        first = last = 0
        for back in range(days, -1, -1):
            conn.execute("select set_config('collab.clock_offset', %s, false)", [f"-{back} days"])
            conn.execute(
                "select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object("
                "'queue', 'h', 'type', 'noop', 'payload', jsonb_build_object('i', i)))"
                " from generate_series(1, %s) i))",
                [per_day],
            )
            row = conn.execute(
                "with c as (select * from api.claim(%s, array['h'], %s, 300)),"
                " d as (select * from api.complete_batch((select jsonb_agg(jsonb_build_object("
                "'job_id', c.id, 'lease_token', c.lease_token)) from c)))"
                " select min(d.job_id), max(d.job_id), count(*) filter (where d.ok) from d",
                [ex[0], per_day],
            ).fetchone()
            assert row is not None and row[2] == per_day, row
            first = first or row[0]
            last = row[1]
        conn.execute("select set_config('collab.clock_offset', '0', false)")
        conn.execute("vacuum analyze")
        parts = conn.execute(
            "select count(*) from pg_inherits where inhparent = 'collab.job_history'::regclass"
        ).fetchone()
        print(
            f"{(last - first + 1):,} finished jobs over {days + 1} days, {parts[0] if parts else 0}"
            " history partitions"
        )
        row = conn.execute(
            "select pg_get_functiondef('api.get_job(bigint)'::regprocedure)"
        ).fetchone()
    assert row is not None and SHIPPED in row[0], "api.get_job does not read collab.finished_job"
    return db, row[0], first, last


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--jobs-per-day", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    db, shipped, first, last = prepare("collab_history_lookup_bench", args.days, args.jobs_per_day)
    definitions = {"on": shipped, "off": shipped.replace(SHIPPED, PROBING)}
    call = f"\\set id random({first}, {last})\nselect api.get_job(:id);\n"

    def run(mode: str) -> float:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(definitions[mode])
        return run_pgbench(db, args.seconds, 1, call)

    print("rounds: api.get_job calls per second; 'on' reads one partition, 'off' probes in turn")
    paired_rounds("get_job", args.rounds, lambda: run("on"), run, unit="get_job/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
