"""Single ``api.enqueue`` with and without the stored_jobs check (finding 4: it must cost nothing).

Usage: ``python bench/stored_jobs_overhead.py [--seconds 10] [--rounds 4] [--clients 1]``

On the embedded cluster (or ``COLLAB_DATABASE_URL``'s server) it makes a scratch database,
migrates it, and runs pgbench calling ``api.enqueue('b', 'noop')`` in the default workspace,
rounds with ``api.enqueue`` as shipped ("on": the direct path reads ``stored_jobs_full`` with
``max_payload_bytes``) and as it was without any stored-jobs check ("off": only
``max_payload_bytes`` read), swapped by ``create or replace`` on the same database between
rounds, in alternating order after a discarded warm-up (bench/rate_limit_overhead.py).
Prints each round's calls per second and the on/off ratios. Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "thin_client"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from collab import embedded
from rate_limit_overhead import paired_rounds, scratch_database

CALL = "select api.enqueue('b', 'noop');\n"
WITH_FLAG = (
    "or (select w.stored_jobs_full or octet_length(enqueue.payload::text) > w.max_payload_bytes"
)
WITHOUT_FLAG = "or (select octet_length(enqueue.payload::text) > w.max_payload_bytes"
CLAIMS = '{"workspace_id":"00000000-0000-0000-0000-000000000001"}'


def prepare(name: str) -> tuple[str, str]:
    """A migrated scratch database; returns its URL and api.enqueue's definition."""
    db = scratch_database(name)
    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute(
            "select pg_get_functiondef('api.enqueue(text, text, jsonb, integer, timestamptz,"
            " integer, text, interval)'::regprocedure)"
        ).fetchone()
    assert row is not None and WITH_FLAG in row[0], "api.enqueue does not read stored_jobs_full"
    return db, row[0]


def run_pgbench(db: str, seconds: int, clients: int, call: str = CALL) -> float:
    """Transactions per second of pgbench running ``call`` on db in the default workspace."""
    parts = urlsplit(db)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(call)
        script = f.name
    try:
        cmd = [
            str(embedded.find_bin_dir() / "pgbench"),
            "-n",
            "-c",
            str(clients),
            "-j",
            str(clients),
        ]
        cmd += ["-T", str(seconds), "-f", script, "-h", parts.hostname or "127.0.0.1"]
        cmd += ["-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
        proc = subprocess.run(
            [*cmd, parts.path.lstrip("/")],
            capture_output=True,
            text=True,
            env=dict(
                os.environ,
                PGPASSWORD=parts.password or "",
                PGOPTIONS=f"-c request.jwt.claims={CLAIMS}",
            ),
            check=True,
        )
    finally:
        os.unlink(script)
    found = re.search(r"tps = ([\d.]+) \(without initial", proc.stdout)
    return float(found.group(1)) if found else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()
    db, shipped = prepare("collab_stored_jobs_bench")
    definitions = {"on": shipped, "off": shipped.replace(WITH_FLAG, WITHOUT_FLAG)}

    def run(mode: str) -> float:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(definitions[mode])
        return run_pgbench(db, args.seconds, args.clients)

    print("rounds: api.enqueue calls per second; 'on' reads stored_jobs_full, 'off' has no check")
    paired_rounds("enqueue", args.rounds, lambda: run("on"), run, unit="enqueue/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
