"""Load for the online-migration tests: a claimer that enqueues, claims and completes one job
per transaction through the api with ``lock_timeout = 1s`` (any lock wait of a second fails its
call), and a monitor of its lock waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from helpers import acting_in, follow

from collab.client import Event

WS = "00000000-0000-0000-0000-000000000001"


# The events of `jobs` finished jobs (enqueued and succeeded), `batch` jobs per transaction (so
# the xids vary as in a real stream), created over the last 20 days; any revision since 0003.
EVENT_FILL = """
insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, data, created_at)
select %(ws)s, j, t::collab.job_event_type, 'old', 't', case t when 'enqueued' then 0 else 1 end,
       '{}', now() - interval '20 days' * (1 - j / %(n)s::numeric)
  from generate_series(%(first)s, %(last)s) j
  cross join (values ('enqueued'), ('succeeded')) v(t)
"""


def fill_events(url: str, jobs: int, batch: int) -> None:
    """Two events for each of `jobs` finished jobs (EVENT_FILL), then ANALYZE."""
    with psycopg.connect(url, autocommit=True) as conn:
        for first in range(1, jobs + 1, batch):
            conn.execute(
                EVENT_FILL, {"ws": WS, "n": jobs, "first": first, "last": first + batch - 1}
            )
        conn.execute("analyze collab.job_events")


def stream(url: str, cursor: str) -> list[Event]:
    """Every event after ``cursor`` in the stream, as the workspace's service reads it."""
    with acting_in(url, WS) as client:
        return follow(client, cursor)[0]


def claimer_stream(url: str, cursor: str, cycles: int) -> list[Event]:
    """The stream after ``cursor``, a cursor taken before a migration the claimer ran under,
    checked to hold every event of the claimer's ``cycles`` jobs (those before, during and
    after the migration), each once, in stream order, every job enqueued, claimed and
    succeeded in that order. Returns it."""
    after = stream(url, cursor)
    assert len([e for e in after if e.job_id is not None]) == 3 * cycles
    assert len({e.id for e in after}) == len(after)
    timeline: dict[int, list[str]] = {}
    for e in after:
        if e.job_id is not None:
            timeline.setdefault(e.job_id, []).append(e.type)
    assert all(t == ["enqueued", "claimed", "succeeded"] for t in timeline.values())
    return after


class LockWaits(threading.Thread):
    """Samples pg_stat_activity for one backend: the longest run of samples waiting on a lock."""

    def __init__(self, url: str, pid: int) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.pid = pid
        self.stop = threading.Event()
        self.longest = 0.0
        self.blockers: list[str] = []  # what the claimer waited for, in its longest wait

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            since: float | None = None
            seen: list[str] = []
            while not self.stop.is_set():
                row = conn.execute(
                    "select wait_event_type = 'Lock',"
                    " array(select left(regexp_replace(b.query, '\\s+', ' ', 'g'), 160)"
                    "         from pg_stat_activity b where b.pid = any(pg_blocking_pids(%s)))"
                    "  from pg_stat_activity where pid = %s",
                    [self.pid, self.pid],
                ).fetchone()
                now = time.monotonic()
                if row and row[0]:
                    since = now if since is None else since
                    seen += [q for q in row[1] if q not in seen]
                    if now - since >= self.longest:
                        self.longest = now - since
                        self.blockers = list(seen)
                else:
                    since = None
                    seen = []
                time.sleep(0.005)


class Claimer(threading.Thread):
    """Enqueue (every third with a key), claim and complete, one job per transaction."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.longest = 0.0
        self.cycles = 0
        self.errors: list[str] = []
        self.keys: list[str] = []
        self.pid = 0
        self.ready = threading.Event()

    def timed(self, conn: psycopg.Connection[Any], statement: str, params: list[Any]) -> Any:
        started = time.monotonic()
        row = conn.execute(statement, params).fetchone()
        self.longest = max(self.longest, time.monotonic() - started)
        return row

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("set lock_timeout = '1s'")
            self.pid = conn.info.backend_pid
            self.ready.set()
            conn.execute(
                "select set_config('request.jwt.claims', %s, false)",
                [f'{{"workspace_id": "{WS}"}}'],
            )
            executor = conn.execute(
                "select api.register_executor('claimer', array['live'])"
            ).fetchone()
            assert executor is not None
            while not self.stop.is_set():
                try:
                    key = f"live-{self.cycles}" if self.cycles % 3 == 0 else None
                    self.timed(
                        conn, "select api.enqueue('live', 't', '{}', idempotency_key => %s)", [key]
                    )
                    if key:
                        self.keys.append(key)
                    claimed = self.timed(
                        conn,
                        "select id, lease_token from api.claim(%s, array['live'], 1, 60)",
                        [executor[0]],
                    )
                    if claimed:
                        self.timed(conn, "select api.complete(%s, %s)", list(claimed))
                    self.cycles += 1
                except psycopg.Error as exc:
                    self.errors.append(
                        f"{type(exc).__name__}: {str(exc).splitlines()[0]} ({exc.diag.context})"
                    )
                    if len(self.errors) > 20:
                        return


def run_under_claimer(url: str, migration: Callable[[], None]) -> tuple[Claimer, int]:
    """Run ``migration`` while a claimer works on ``url`` (from 2 s before to 1 s after) and
    assert that no call of the claimer failed, that it never waited a second or more for a lock
    and that it kept working meanwhile. Returns the stopped claimer and its cycles before the
    migration started."""
    claimer = Claimer(url)
    claimer.start()
    assert claimer.ready.wait(30)
    waits = LockWaits(url, claimer.pid)
    waits.start()
    try:
        time.sleep(2)  # the claimer is running before the migration starts
        cycles_before = claimer.cycles
        started = time.monotonic()
        migration()
        took = time.monotonic() - started
        cycles_during = claimer.cycles - cycles_before
        time.sleep(1)
    finally:
        claimer.stop.set()
        claimer.join(timeout=30)
        waits.stop.set()
        waits.join(timeout=30)

    assert claimer.errors == [], (
        f"no call of the claimer failed (no lock wait reached 1 s): {claimer.errors[:3]};"
        f" blocked by {waits.blockers}"
    )
    assert waits.longest < 1.0, (
        f"the claimer waited {waits.longest:.3f} s for a lock, blocked by {waits.blockers}"
    )
    assert cycles_during > 0, "the claimer kept working during the migration"
    print(
        f"\nmigration {took:.1f} s; claimer: {claimer.cycles} cycles, {cycles_during} during it;"
        f" longest lock wait {waits.longest:.3f} s (blocked by {waits.blockers}),"
        f" longest call {claimer.longest:.3f} s"
    )
    return claimer, cycles_before
