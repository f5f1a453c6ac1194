"""Claim+complete throughput with metrics off and on (issue: on stays within 5% of off).

Usage: ``python bench/metrics_overhead.py [--seconds 10] [--rounds 3] [--scrape-seconds 5]``

On the embedded cluster (or ``COLLAB_DATABASE_URL``'s server) it prepares a scratch database
as bench/rate_limit_overhead.py does (4 executors, enough no-op jobs), then runs pgbench with
4 clients, each claiming one job and completing it per transaction, in rounds of either mode
(a discarded warm-up, then off/on in alternating order, as rate_limit_overhead.py does):

- off: ``collab.metrics_signal`` replaced by a no-op (the only metrics work on the claim and
  complete paths) and nothing rolls up or scrapes;
- on: the real ``collab.metrics_signal``, plus, from another connection during the round,
  ``collab.metrics_rollup()`` and a Prometheus scrape (``api.metrics_prometheus()``) every
  ``--scrape-seconds`` — far more often than pg_cron's minute and a usual 15-30 s scrape.

Prints each round's tps and the ratio of the medians. Not part of the test run.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "thin_client"))
from rate_limit_overhead import paired_rounds, prepare, run_pgbench

SIGNAL_SOURCE = (
    Path(__file__).resolve().parents[1] / "sql" / "functions" / "collab.metrics_signal.sql"
)
SIGNAL_OFF = """
create or replace function collab.metrics_signal(
  kind text, workspace_id uuid, queue text, job_type text, count bigint default 1)
returns void language sql volatile set search_path = '' as $$ select $$;
"""


def scrape_until(db: str, stop: threading.Event, every: float) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        while not stop.wait(every):
            conn.execute("select collab.metrics_rollup()")
            conn.execute("select api.metrics_prometheus()")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--scrape-seconds", type=float, default=5.0)
    args = parser.parse_args()
    db = prepare("collab_metrics_bench", "mo", args.seconds * (args.rounds * 2 + 1))

    def run(mode: str) -> float:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(SIGNAL_OFF if mode == "off" else SIGNAL_SOURCE.read_text())
        stop = threading.Event()
        scraper = threading.Thread(target=scrape_until, args=(db, stop, args.scrape_seconds))
        if mode == "on":
            scraper.start()
        try:
            return run_pgbench(db, "mo", args.seconds)
        finally:
            stop.set()
            if mode == "on":
                scraper.join()

    paired_rounds("metrics", args.rounds, lambda: run("on"), run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
