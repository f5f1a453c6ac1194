"""The chaos run, short: ~600 jobs, 4 worker processes killed at random, 2 Postgres crashes.

It runs on a cluster of its own (a scratch embedded cluster), so its immediate restarts never
cut the sessions of tests running on the shared test cluster. The long run is `make chaos`.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from chaos_run import restart_cluster, run
from helpers import SCRATCH

from collab import embedded, migrate
from collab.errors import SetupError


@pytest.fixture(scope="module")
def chaos_cluster() -> Iterator[embedded.EmbeddedPostgres]:
    try:
        embedded.find_bin_dir()
    except SetupError as exc:
        pytest.skip(f"no PostgreSQL server binaries, so no cluster of our own to crash: {exc}")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    base = SCRATCH / f"chaos-{uuid.uuid4().hex[:8]}"
    cluster = embedded.EmbeddedPostgres(base=base, port="auto")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_chaos_short(chaos_cluster: embedded.EmbeddedPostgres, tmp_path: Path) -> None:
    with psycopg.connect(chaos_cluster.url(), autocommit=True) as conn:
        conn.execute("create database collab_chaos")
    dsn = chaos_cluster.url("collab_chaos")
    migrate.up(dsn)

    counts = run(
        dsn,
        600,
        logdir=tmp_path,
        restart=lambda: restart_cluster(chaos_cluster),
        workers=4,
        concurrency=2,
        lease_seconds=2,
        max_sleep=0.3,
        kill_every=(0.8, 1.6),
        restart_at=(0.25, 0.6),
        timeout=180,
        seed=8,
    )
    print(counts.line())
    assert not counts.problems, "\n".join(counts.problems)
    assert counts.lost == 0
    assert counts.succeeded + counts.dead == 600
    assert counts.restarts >= 2
    assert counts.kills >= 3
    assert 1 <= counts.asyncio_workers < counts.workers_started  # both workers under the faults
    assert counts.unexpected_exits == 0
    assert counts.duplicates == (
        counts.duplicates_after_kill
        + counts.duplicates_after_lease_loss
        + counts.duplicates_after_failed_report
    )
