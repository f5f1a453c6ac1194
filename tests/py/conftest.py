"""Fixtures: one test server per session, one migrated template, one database per module.

The server is Supabase's own Postgres image through testcontainers when a Docker engine
answers (or ``COLLAB_TEST_BACKEND=docker``), otherwise the embedded test cluster under
``.collab/test-pg`` on a free port (``COLLAB_TEST_BACKEND=embedded`` forces it), so a busy
54322 never breaks the tests. The template database is migrated up once per session; each
test module gets ``CREATE DATABASE … TEMPLATE`` of it, dropped after the module. And
``run_worker``: a worker of each kind, started and listening, for the wake-up tests.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from collab import AsyncWorker, Worker, embedded, migrate
from collab.client import ClaimedJob, Client
from collab.worker import HandlerContext

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import (
    TEST_PG_DIR,
    Started,
    create_database,
    drop_database,
    running,
    wait_for,
    wait_listening,
)

SUPABASE_IMAGE = os.environ.get("COLLAB_TEST_SUPABASE_IMAGE", "supabase/postgres:15.8.1.060")
PREFIX = "collab_t"
_counter = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than a minute")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The browser tests (tests/py/dashboard) run last: Playwright's sync API keeps an event
    loop running in the main thread for the rest of the session once its session fixtures
    start, and a test after them that calls ``asyncio.run`` would fail for that alone."""
    browser = [i for i in items if "dashboard" in Path(str(i.path)).parts]
    if browser:
        items[:] = [i for i in items if i not in browser] + browser


def _docker_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        proc = subprocess.run(
            [docker, "info"], capture_output=True, timeout=5, check=False, text=True
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def _wait_for(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("select 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@contextlib.contextmanager
def _docker_server() -> Iterator[str]:
    from testcontainers.postgres import PostgresContainer

    container = PostgresContainer(
        SUPABASE_IMAGE, username="postgres", password="postgres", dbname="postgres", driver=None
    )
    container.start()
    try:
        url = str(container.get_connection_url())
        _wait_for(url)
        yield url
    finally:
        container.stop()


def _drop_leftovers(server_url: str) -> None:
    """Drop databases of earlier sessions that died before their teardown."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "select datname::text from pg_database where datname like %s", [PREFIX + "%"]
            )
        ]
    for name in names:
        pid = name.split("_")[2] if name.count("_") >= 2 else ""
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            drop_database(server_url, name)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A superuser URL of the test server (database ``postgres``)."""
    backend = os.environ.get("COLLAB_TEST_BACKEND", "")
    if backend == "docker" or (backend != "embedded" and _docker_answers()):
        with _docker_server() as url:
            yield url
        return
    cluster = embedded.EmbeddedPostgres(base=TEST_PG_DIR, port="auto")
    cluster.start()
    url = cluster.url()
    _drop_leftovers(url)
    yield url


@pytest.fixture(scope="session")
def template_db(server_url: str) -> Iterator[str]:
    """Name of a database migrated up to head once per session (clone it, never use it)."""
    name = f"{PREFIX}_{os.getpid()}_tpl"
    url = create_database(server_url, name)
    migrate.up(url)
    yield name
    drop_database(server_url, name)


def new_database(server_url: str, template: str | None = None) -> tuple[str, str]:
    """A fresh database for this session: (name, url). Drop it with helpers.drop_database."""
    name = f"{PREFIX}_{os.getpid()}_{next(_counter)}"
    return name, create_database(server_url, name, template)


def private_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A fixture's body: the URL of a new database (a copy of template), dropped after."""
    name, url = new_database(server_url, template)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="module")
def db_url(server_url: str, template_db: str) -> Iterator[str]:
    """A superuser URL of a migrated database private to this test module."""
    yield from private_database(server_url, template_db)


@pytest.fixture
def own_db(server_url: str, template_db: str) -> Iterator[str]:
    """A superuser URL of a migrated database private to this test."""
    yield from private_database(server_url, template_db)


@pytest.fixture
def fresh_db(server_url: str) -> Iterator[str]:
    """An empty (unmigrated) database private to this test."""
    yield from private_database(server_url)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit connection to the module's database."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def unvacuumed_db(own_db: str) -> str:
    """A migrated database private to this test in which autovacuum works on no table: nothing
    is vacuumed or analyzed behind the test's back, so the statistics stay those of a fresh
    database (none), and no autoanalyze holds a snapshot while the test counts what it reads
    (such a snapshot keeps the entries of the jobs the test finishes from being marked dead)."""
    with psycopg.connect(own_db, autocommit=True) as c:
        tables = c.execute(
            "select n.nspname, c.relname from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'm') and n.nspname <> 'information_schema'"
            " and n.nspname !~ '^pg_'"
        ).fetchall()
        for schema, table in tables:
            c.execute(
                sql.SQL("alter table {} set (autovacuum_enabled = off)").format(
                    sql.Identifier(schema, table)
                )
            )
    return own_db


@pytest.fixture(params=["thread", "asyncio"])
def run_worker(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> Iterator[Callable[[Client, str], Started]]:
    """Start a worker of the kind (the thread worker or the AsyncWorker, a 3 s poll) on a
    thread (helpers.running), and return right after its first poll's claim once it listens:
    the next poll is about 3 s away, so until then only a notification makes it claim. Gives
    the times of its claim calls, as it makes them, and the start time of each job it runs,
    by id. It stops at the end."""
    with contextlib.ExitStack() as stack:

        def start(client: Client, queue: str) -> Started:
            name = f"{queue}-worker-{time.monotonic_ns()}"
            claims: list[float] = []
            started: dict[int, float] = {}

            def on_job(ctx: HandlerContext) -> None:
                started.setdefault(ctx.job.id, time.monotonic())

            if request.param == "thread":
                worker = Worker(client, [queue], 2, name=name, poll_seconds=3)
                real = worker._claim

                def counted(n: int) -> tuple[list[ClaimedJob], BaseException | None]:
                    claims.append(time.monotonic())
                    return real(n)

                monkeypatch.setattr(worker, "_claim", counted)
                worker.task("t")(on_job)
                stack.enter_context(running(worker))
            else:
                aworker = AsyncWorker(client, [queue], 2, name=name, poll_seconds=3)
                areal = aworker._claim

                async def acounted(n: int) -> list[ClaimedJob]:
                    claims.append(time.monotonic())
                    return await areal(n)

                async def handle(ctx: HandlerContext) -> None:
                    on_job(ctx)

                monkeypatch.setattr(aworker, "_claim", acounted)
                aworker.task("t")(handle)
                stack.enter_context(running(aworker))
            wait_listening(db_url, name)
            first = len(claims)
            wait_for(lambda: len(claims) > first, 10, "a poll's claim")
            return claims, started

        yield start
