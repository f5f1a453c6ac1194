"""A subscriber in another process (``collab events tail --follow --json``) survives a fast
restart of the database (``pg_ctl restart -m fast``) and delivers every committed event
exactly once, in cursor order: it reconnects and resumes from its last cursor.

The restart runs on a throwaway cluster of its own (under .collab/tmp), so that no other
test sharing the session's server is cut off."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from helpers import ALL_JOBS, SCRATCH, VENV_BIN, cli_env

from collab import embedded, migrate


@pytest.fixture
def cluster() -> Iterator[embedded.EmbeddedPostgres]:
    SCRATCH.mkdir(parents=True, exist_ok=True)
    base: Path = SCRATCH / f"pg-rt-{uuid.uuid4().hex[:8]}"
    pg = embedded.EmbeddedPostgres(base=base, port="auto")
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


def enqueue(url: str, n: int) -> list[int]:
    """n jobs, one transaction each; retried while the server is down (each id once)."""
    ids: list[int] = []
    deadline = time.monotonic() + 60
    while len(ids) < n:
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
                while len(ids) < n:
                    row = conn.execute("select (api.enqueue('restart', 't')).id").fetchone()
                    assert row is not None
                    ids.append(int(row[0]))
        except psycopg.OperationalError:
            # A commit cut off by the restart may or may not have happened: the stream says.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return ids


def committed_ids(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [
            int(r[0])
            for r in conn.execute(f"select id from {ALL_JOBS} where queue = 'restart' order by id")
        ]


def test_a_subscriber_process_survives_a_fast_restart_and_delivers_each_event_once(
    cluster: embedded.EmbeddedPostgres,
) -> None:
    server = cluster.url()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("create database rt_restart")
    url = cluster.url("rt_restart")
    migrate.up(url)

    enqueue(url, 30)
    tail = subprocess.Popen(
        [str(VENV_BIN / "collab"), "events", "tail", "--follow", "--json", "--queue", "restart"],
        env=cli_env(COLLAB_DATABASE_URL=url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert tail.stdout is not None
        for line in tail.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while len(lines) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(lines) == 30, "the subscriber caught up before the restart"

        writer = threading.Thread(target=enqueue, args=(url, 40))
        writer.start()
        time.sleep(0.2)
        before = cluster.status().pid
        cluster.restart("fast")  # pg_ctl restart -m fast, while events are being written
        assert cluster.status().pid != before, "the server really restarted"
        writer.join(timeout=90)
        enqueue(url, 30)

        expected = committed_ids(url)
        deadline = time.monotonic() + 60
        while len(lines) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # anything extra (a duplicate) would show up now
    finally:
        tail.send_signal(signal.SIGINT)
        try:
            tail.wait(timeout=10)
        except subprocess.TimeoutExpired:
            tail.kill()
    events = [json.loads(line) for line in lines]
    ids = [e["job_id"] for e in events]
    assert len(ids) == len(set(ids)), "no event delivered twice"
    assert sorted(ids) == expected, "every committed job's event delivered"
    assert len(expected) >= 70
    keys = [tuple(int(p) for p in e["cursor"].split(":")) for e in events]
    assert keys == sorted(keys), "in cursor order"
