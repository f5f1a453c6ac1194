"""Claim throughput with the rate limiter off and on (issue: on stays within 10% of off).

Usage: ``python bench/rate_limit_overhead.py [--seconds 10] [--rounds 3]``

On the embedded cluster (or ``COLLAB_DATABASE_URL``'s server) it makes a scratch database,
migrates it, registers 4 executors and enqueues enough no-op jobs, then runs pgbench with 4
clients, each claiming one job and completing it per transaction as its own executor,
rounds with the limits off and on (a per-executor claim bucket and a workspace claim bucket
with 8 shards, both far above the rate reached, so only their bookkeeping is measured).
Prints each round's tps and the ratio of the medians. Not part of the test run.

Throughput drifts down while a run goes on (finished jobs pile up in the table), so a fixed
"off, then on" order would charge the drift to "on": after one discarded warm-up round, the
order alternates (off on, on off, off on, ...), which cancels a steady drift.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "thin_client"))
from collab import embedded, migrate

CYCLE = """select api.complete(c.id, c.lease_token)
  from api.claim((select id from collab.executors where name = '{queue}-' || (:client_id + 1)),
                 array['{queue}'], 1, 30) c;
"""
LIMITS_OFF = [
    "select api.configure_rate_limit('claim', 'executor', null)",
    "select api.configure_rate_limit('claim', 'workspace', null)",
]
LIMITS_ON = [
    "select api.configure_rate_limit('claim', 'executor', 1000000, 1000000)",
    "select api.configure_rate_limit('claim', 'workspace', 1000000, 1000000, 8)",
]


def server_url() -> str:
    configured = os.environ.get("COLLAB_DATABASE_URL")
    if configured:
        return configured
    cluster = embedded.EmbeddedPostgres()
    cluster.start()
    return cluster.url()


def scratch_database(name: str) -> str:
    """A new, migrated database called name on the benchmark server (dropped first); its URL."""
    server = server_url()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name}")
    db = urlunsplit(urlsplit(server)._replace(path="/" + name))
    migrate.up(db)
    return db


def prepare(name: str, queue: str, seconds_total: int) -> str:
    """A migrated scratch database with 4 executors ({queue}-1..4) and enough no-op jobs."""
    db = scratch_database(name)
    jobs = 4000 * seconds_total
    with psycopg.connect(db, autocommit=True) as conn:
        for i in range(1, 5):
            conn.execute("select api.register_executor(%s, array[%s])", (f"{queue}-{i}", queue))
        for start in range(0, jobs, 5000):
            conn.execute(
                "select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object("
                "'queue', %s::text, 'type', 'noop', 'payload', jsonb_build_object('i', i)))"
                " from generate_series(%s::int, %s::int) i))",
                (queue, start, start + 4999),
            )
        conn.execute("vacuum analyze collab.jobs")
    return db


def run_pgbench(db: str, queue: str, seconds: int) -> float:
    """claim+complete per transaction, 4 clients each its own executor; returns tps."""
    parts = urlsplit(db)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(CYCLE.replace("{queue}", queue))
        script = f.name
    try:
        cmd = [str(embedded.find_bin_dir() / "pgbench"), "-n", "-c", "4", "-j", "4"]
        cmd += ["-T", str(seconds), "-f", script, "-h", parts.hostname or "127.0.0.1"]
        cmd += ["-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
        proc = subprocess.run(
            [*cmd, parts.path.lstrip("/")],
            capture_output=True,
            text=True,
            env=dict(os.environ, PGPASSWORD=parts.password or ""),
            check=True,
        )
    finally:
        os.unlink(script)
    found = re.search(r"tps = ([\d.]+) \(without initial", proc.stdout)
    return float(found.group(1)) if found else 0.0


def paired_rounds(
    label: str,
    rounds: int,
    warm_up: Callable[[], float],
    run: Callable[[str], float],
    unit: str = "claim+complete/s",
) -> float:
    """Runs one discarded warm-up round, then ``rounds`` rounds of "off" and "on" in alternating
    order (off on, on off, ...); prints every round, the ratio of the medians and the median
    of the per-round on/off ratios (neighbouring rounds share the machine's state); returns
    the ratio of the medians."""
    print(f"{label} warm-up: {warm_up():8.0f} {unit} (discarded)")
    results: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(rounds):
        order: Sequence[str] = ("off", "on") if i % 2 == 0 else ("on", "off")
        for mode in order:
            tps = run(mode)
            results[mode].append(tps)
            print(f"{label} {mode:3}: {tps:8.0f} {unit}", flush=True)
    off, on = statistics.median(results["off"]), statistics.median(results["on"])
    paired = statistics.median(a / b for a, b in zip(results["on"], results["off"], strict=True))
    print(f"median off {off:.0f}/s, on {on:.0f}/s: on/off = {on / off:.3f}")
    print(f"median of the {rounds} paired on/off ratios = {paired:.3f}")
    return on / off


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    db = prepare("collab_rate_limit_bench", "rl", args.seconds * (args.rounds * 2 + 1))

    def run(mode: str) -> float:
        with psycopg.connect(db, autocommit=True) as conn:
            for statement in LIMITS_OFF if mode == "off" else LIMITS_ON:
                conn.execute(statement)
        return run_pgbench(db, "rl", args.seconds)

    paired_rounds("limits", args.rounds, lambda: run("off"), run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
