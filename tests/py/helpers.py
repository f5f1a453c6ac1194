"""Helpers shared by the pytest suites (importable as ``helpers``: conftest puts tests/py on
sys.path). Databases are created and dropped on the test server the session fixture chose."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from collab import AsyncWorker, Client, Worker, embedded
from collab.client import Event

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
TEST_PG_DIR = REPO / ".collab" / "test-pg"
SCRATCH = REPO / ".collab" / "tmp"  # throwaway clusters (reachable by the postgres OS user)

# Every job wherever it lives, as a FROM item aliased j: collab.jobs (queued, running) and
# collab.job_history (finished), with the same columns. Tests read jobs through it; tests that
# lock or poke a live row still name collab.jobs.
W = TypeVar("W")

ALL_JOBS = "(select * from collab.jobs union all select * from collab.job_history) j"


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at database ``name``."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """(Re)create database ``name`` (optionally cloned from ``template``); return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )
        if template is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        else:
            conn.execute(
                sql.SQL("create database {} template {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


def table_reads(url: str, table: str) -> tuple[int, int]:
    """(sequential scans of `table`, entries read from its indexes) so far, as the statistics
    collector has them: the session that did the work flushes its counters first
    (pg_stat_force_next_flush())."""
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute(
            "select seq_scan, (select coalesce(sum(idx_tup_read), 0)::bigint"
            " from pg_stat_user_indexes i where i.relid = t.relid)"
            " from pg_stat_user_tables t where t.relid = %s::regclass",
            [table],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def statement_evictions(conn: psycopg.Connection[Any]) -> int:
    """How many times pg_stat_statements has evicted entries (pg_stat_statements_info)."""
    row = conn.execute("select dealloc from pg_stat_statements_info").fetchone()
    assert row is not None
    return int(row[0])


def without_evictions(conn: psycopg.Connection[Any], reading: Callable[[], W]) -> W:
    """``reading()`` (work and the pg_stat_statements entries it left), taken again, up to 20
    times, while pg_stat_statements evicted entries during it. Its 5,000 entries serve the whole
    test cluster, which every test's database fills, and an evicted entry hides what it held.
    ``conn`` counts the evictions."""
    for _ in range(20):
        evicted = statement_evictions(conn)
        result = reading()
        if statement_evictions(conn) == evicted:
            return result
    raise AssertionError("pg_stat_statements evicted entries during each of 20 readings")


def load_module(name: str, path: Path) -> Any:
    """The Python file at path, executed as a module named name (a bench tool, a revision
    rendered by a test): files that are not on sys.path."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pg_bin(name: str) -> str:
    """A PostgreSQL client program (pg_dump, psql) of the server binaries in use."""
    return str(embedded.find_bin_dir() / name)


def cli_env(**overrides: str) -> dict[str, str]:
    """The environment for running the ``collab`` CLI in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
    env.update(overrides)
    return env


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``.venv/bin/collab ARGS`` and capture its output."""
    return subprocess.run(
        [str(VENV_BIN / "collab"), *args],
        env=env if env is not None else cli_env(),
        cwd=cwd if cwd is not None else REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {row[0] for row in conn.execute("select nspname::text from pg_namespace")}


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str | None = None) -> Any:
    """Poll predicate until it returns something truthy (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


@contextlib.contextmanager
def listener(db_url: str, *channels: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection that LISTENs on channels (names quoted: they hold ``:`` and ``-``)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        for channel in channels:
            conn.execute(sql.SQL("listen {}").format(sql.Identifier(channel)))
        yield conn


def heard(conn: psycopg.Connection[Any], timeout: float = 0.5) -> list[tuple[str, str]]:
    """The (channel, payload) of each notification conn gets within timeout seconds."""
    return [(n.channel, n.payload) for n in conn.notifies(timeout=timeout)]


def wait_listening(db_url: str, *worker_names: str, timeout: float = 30.0) -> None:
    """Wait until each named worker's listen connection (``collab-listen <name>``) has run its
    LISTEN (its first statement: the turn calls that may follow it say so too)."""
    names = [f"collab-listen {n}" for n in worker_names]
    with psycopg.connect(db_url, autocommit=True) as conn:  # a statement sees fresh activity

        def all_listening() -> bool:
            row = conn.execute(
                "select count(*) from pg_stat_activity"
                " where application_name = any(%s)"
                " and (query like 'listen %%' or query like '%%api.%%_turn(%%')",
                [names],
            ).fetchone()
            return row is not None and row[0] == len(names)

        wait_for(all_listening, timeout, f"{', '.join(worker_names)} LISTENing")


def service_workspaces(
    db_url: str, prefix: str, names: tuple[str, ...] = ("a", "b")
) -> dict[str, str]:
    """Workspaces ``<prefix>-<name>`` created by the service role: name -> workspace id."""
    with Client(db_url, max_size=1) as service:
        return {
            name: str(service.create_workspace(f"{prefix}-{name}")["workspace_id"])
            for name in names
        }


@contextlib.contextmanager
def acting_in(db_url: str, workspace_id: str, max_size: int = 2) -> Iterator[Client]:
    """A client of the service role acting in one workspace (a worker with a service key)."""
    claims = {"role": "service_role", "workspace_id": workspace_id}
    with Client(db_url, max_size=max_size, claims=claims) as c:
        yield c


def follow(client: Client, cursor: str | None, **filters: Any) -> tuple[list[Event], str | None]:
    """Every event after cursor that events_since hands out now (all pages), and the last
    cursor."""
    out: list[Event] = []
    while True:
        page = client.events_since(cursor, 100, **filters)
        if not page:
            return out, cursor
        out += page
        cursor = page[-1].cursor


FINISHED = {"succeeded", "dead", "cancelled"}


def finished(client: Client, job_id: int, timeout: float = 30.0) -> dict[str, Any]:
    """The job as api.get_job has it, once it has finished (waits up to timeout)."""

    def done() -> dict[str, Any] | None:
        job = client.get_job(job_id)
        return job if job["status"] in FINISHED else None

    result: dict[str, Any] = wait_for(done, timeout)
    return result


def event_types(job: dict[str, Any]) -> list[str]:
    """The types of a job's events (api.get_job), in order."""
    return [e["type"] for e in job["events"]]


def waiting_on_a_lock(conn: psycopg.Connection[Any], pid: int) -> bool:
    """Whether the backend ``pid`` waits on a lock (read on ``conn``, another connection)."""
    row = conn.execute(
        "select wait_event_type = 'Lock' from pg_stat_activity where pid = %s", [pid]
    ).fetchone()
    return bool(row and row[0])


def fast_retries(client: Client, queue: str) -> None:
    """The queue's retries 50 ms apart, with no jitter."""
    client.configure_queue(
        queue, backoff_base_seconds=0.05, backoff_max_seconds=0.05, backoff_jitter=0
    )


def make_worker(worker_class: Callable[..., W], client: Client, queue: str, **options: Any) -> W:
    """A worker of one queue for the worker tests (collab.Worker or collab.AsyncWorker): 4 slots,
    a 3-second lease (a heartbeat a second), polls every 0.2 s, and the queue's retries 50 ms
    apart (:func:`fast_retries`), unless options say otherwise."""
    fast_retries(client, queue)
    options.setdefault("lease_seconds", 3)
    options.setdefault("poll_seconds", 0.2)
    concurrency = options.pop("concurrency", 4)
    return worker_class(client, [queue], concurrency, name=f"test-{queue}", **options)


WorkerT = TypeVar("WorkerT", Worker, AsyncWorker)

# What the run_worker fixture (tests/py/conftest.py) gives: the times of the worker's
# claim calls, as it makes them, and the start time of each job it runs, by id.
Started = tuple[list[float], dict[int, float]]


@contextlib.contextmanager
def running(worker: WorkerT) -> Iterator[WorkerT]:
    """Run the worker in a thread (an AsyncWorker on its own event loop there); stop it and
    wait for it on the way out. An error that ended its run fails the test."""
    errors: list[BaseException] = []

    def main() -> None:
        try:
            if isinstance(worker, AsyncWorker):
                asyncio.run(worker.run())
            else:
                worker.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=main, name="test-worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the worker did not stop"
    assert not errors, errors


def run_past_a_limit(
    client: Client, queue: str, worker_running: contextlib.AbstractContextManager[Any]
) -> None:
    """Enqueue 8 jobs of type "t" on `queue` (give it concurrency_limit=1 first) and run them
    inside worker_running (a worker of the queue with a handler for "t", its poll 30 s away):
    they all succeed, and sooner than that poll, so the reports claimed the next jobs (the
    tests of both workers)."""
    jobs = client.enqueue_batch([{"queue": queue, "type": "t"} for _ in range(8)])
    started = time.monotonic()
    with worker_running:
        results = [finished(client, j.id, timeout=20) for j in jobs]
    assert all(r["status"] == "succeeded" for r in results)
    assert time.monotonic() - started < 15, "the limited queue waited for the poll"
