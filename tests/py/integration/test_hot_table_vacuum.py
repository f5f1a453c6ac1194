"""The embedded cluster vacuums collab.jobs every few seconds, not once a minute.

Rows of the hot table live for seconds, so the table and its claim index hold the dead
versions of every job claimed and finished since autovacuum last came to the database. The
launcher comes once per autovacuum_naptime: at the default minute a 2,400 jobs/s load kept
86 to 92 MB of them, at 10 s about 20 MB (docs/bench.md).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from helpers import TEST_PG_DIR, wait_for

from collab import Client


def test_the_embedded_cluster_visits_each_database_every_ten_seconds(server_url: str) -> None:
    with psycopg.connect(server_url) as c:
        data = c.execute("show data_directory").fetchone()
        if data is None or Path(str(data[0])).resolve() != (TEST_PG_DIR / "data").resolve():
            pytest.skip("the test server is not the embedded cluster (its settings are its own)")
        row = c.execute(
            "select setting::int, unit from pg_settings where name = 'autovacuum_naptime'"
        ).fetchone()
    assert row == (10, "s")


def test_autovacuum_comes_to_the_hot_table_within_seconds_of_a_churn(db_url: str) -> None:
    """2,000 jobs enqueued, claimed and finished leave their dead versions in collab.jobs;
    autovacuum comes for them without waiting for a minute's naptime."""

    def vacuums(c: psycopg.Connection[tuple[int]]) -> int:
        row = c.execute(
            "select autovacuum_count from pg_stat_user_tables where relid = 'collab.jobs'::regclass"
        ).fetchone()
        assert row is not None
        return row[0]

    with (
        psycopg.Connection[tuple[int]].connect(db_url, autocommit=True) as c,
        Client(db_url, max_size=2) as client,
    ):
        before = vacuums(c)
        ex = client.register_executor("churn", ["churn"])
        for _ in range(2):
            client.enqueue_batch([{"queue": "churn", "type": "noop"} for _ in range(1000)])
            jobs = client.claim(ex, ["churn"], 1000)
            assert len(jobs) == 1000
            done = client.complete_batch([(j.id, j.lease_token, None) for j in jobs])
            assert all(x.ok for x in done)
        # The launcher's next visit to this database (a new database joins its list at the
        # next round, 10 to 20 s here), a worker's start and its pass over the table.
        wait_for(lambda: vacuums(c) > before, timeout=45, what="an autovacuum of collab.jobs")
