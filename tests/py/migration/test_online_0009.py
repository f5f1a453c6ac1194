"""Revision 0009 moves a database of 10^6 jobs online, and goes down again.

A database at revision 0008 holds a million jobs (most finished, a tenth with idempotency keys).
While ``collab migrate up`` runs, a claimer enqueues, claims and completes jobs one per
transaction through the api, with ``lock_timeout = 1s``: any lock wait of a second or more
fails its call, so the test fails. A monitor samples the claimer's wait state every few
milliseconds and measures its longest lock wait, which must stay under a second too (its
longest call is printed; it also holds CPU time, which a shared machine makes noisy).
Afterwards every job is in exactly one place, every key is recorded, the claimer's own jobs
are where they belong, and the CHECK jobs_not_finished is validated; the downgrade puts every
job back.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from collab import migrate

JOBS = 1_000_000
WS = "00000000-0000-0000-0000-000000000001"

# At revision 0008: jobs straight into collab.jobs (no events needed here), ids in order.
# A script (several statements), so str.format fills it in.
FILL = """
alter table collab.jobs disable trigger user;
insert into collab.queues (workspace_id, name) values ('{ws}', 'old'), ('{ws}', 'live');
insert into collab.jobs (workspace_id, queue, type, payload, status, last_event, run_at, attempt,
                         max_attempts, idempotency_key, executor_id, lease_token, lease_expires_at,
                         created_at, claimed_at, finished_at)
select '{ws}', 'old', 't', jsonb_build_object('n', i), s::collab.job_status,
       case s when 'queued' then 'enqueued' when 'running' then 'claimed' else s end::collab.job_event_type,
       c, case when s = 'queued' then 0 else 1 end, 5,
       case when i % 10 = 0 then 'key-' || i end,
       case when s <> 'queued' then '00000000-0000-0000-0000-0000000000ee'::uuid end,
       case when s <> 'queued' then gen_random_uuid() end,
       case when s = 'running' then now() + interval '1 day' end,
       c, case when s <> 'queued' then c end,
       case when s in ('succeeded', 'dead', 'cancelled') then c + interval '1 second' end
  from generate_series(1, {n}) i
  cross join lateral (select now() - interval '20 days' * (1 - i / {n}::numeric) as c,
                             case when i % 100 = 0 then 'queued' when i % 1000 = 1 then 'running'
                                  when i % 100 = 2 then 'dead' when i % 200 = 3 then 'cancelled'
                                  else 'succeeded' end as s) x;
alter table collab.jobs enable trigger user;
insert into collab.executors (id, workspace_id, name, queues)
values ('00000000-0000-0000-0000-0000000000ee', '{ws}', 'old-executor', '{{old}}');
analyze collab.jobs;
"""


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


def counts(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            """select (select count(*) from collab.jobs),
                      (select count(*) from collab.jobs where status in ('succeeded', 'cancelled', 'dead')),
                      (select count(*) from collab.job_history),
                      (select count(*) from collab.jobs j where exists (select 1 from collab.job_history h where h.id = j.id)),
                      (select count(*) from collab.idempotency_keys),
                      (select count(*) from collab.jobs where idempotency_key is not null)
                      + (select count(*) from collab.job_history where idempotency_key is not null),
                      (select count(*) from collab.idempotency_keys k
                        where not exists (select 1 from collab.jobs j where j.id = k.job_id and j.idempotency_key = k.key)
                          and not exists (select 1 from collab.job_history h where h.id = k.job_id and h.idempotency_key = k.key)),
                      (select convalidated from pg_constraint where conname = 'jobs_not_finished')"""
        ).fetchone()
    assert row is not None
    names = [
        "hot",
        "hot_finished",
        "history",
        "in_both",
        "keys",
        "keyed_jobs",
        "keys_astray",
        "validated",
    ]
    return dict(zip(names, row, strict=True))


@pytest.mark.slow
def test_revision_0009_moves_a_million_jobs_online_and_back(fresh_db: str) -> None:
    migrate.up(fresh_db, "0008")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(FILL.format(ws=WS, n=JOBS))  # a script: no parameters
        finished_before = conn.execute(
            "select count(*) from collab.jobs where status in ('succeeded', 'cancelled', 'dead')"
        ).fetchone()

    claimer = Claimer(fresh_db)
    claimer.start()
    assert claimer.ready.wait(30)
    waits = LockWaits(fresh_db, claimer.pid)
    waits.start()
    try:
        time.sleep(2)  # the claimer is running before the migration starts
        cycles_before = claimer.cycles
        migrate.up(fresh_db)
        cycles_during = claimer.cycles - cycles_before
        time.sleep(1)
    finally:
        claimer.stop.set()
        claimer.join(timeout=30)
        waits.stop.set()
        waits.join(timeout=30)

    assert claimer.errors == [], (
        f"no call of the claimer failed (no lock wait reached 1 s); blocked by {waits.blockers}"
    )
    assert waits.longest < 1.0, (
        f"the claimer waited {waits.longest:.3f} s for a lock, blocked by {waits.blockers}"
    )
    assert cycles_during > 0, "the claimer kept working during the migration"
    print(
        f"\nclaimer: {claimer.cycles} cycles, {cycles_during} during the migration;"
        f" longest lock wait {waits.longest:.3f} s (blocked by {waits.blockers}),"
        f" longest call {claimer.longest:.3f} s"
    )

    after = counts(fresh_db)
    assert after["hot_finished"] == 0 and after["in_both"] == 0 and after["validated"] is True
    assert finished_before is not None
    assert after["history"] >= finished_before[0] + cycles_before
    assert after["hot"] + after["history"] == JOBS + claimer.cycles
    assert after["keys"] == after["keyed_jobs"] == JOBS // 10 + len(claimer.keys)
    assert after["keys_astray"] == 0

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(
            "select set_config('request.jwt.claims', %s, false)", [f'{{"workspace_id": "{WS}"}}']
        )
        again = conn.execute(
            "select id, duplicate, status from api.enqueue('old', 't', '{\"n\": 10}', idempotency_key => 'key-10')"
        ).fetchone()
        assert again == (10, True, "succeeded"), (
            "a key of the backlog still holds after its job moved"
        )

    migrate.down(fresh_db, "0008")
    with psycopg.connect(fresh_db) as conn:
        row = conn.execute(
            "select count(*), to_regclass('collab.job_history') is null,"
            " to_regclass('collab.jobs_idempotency_key_idx') is not null from collab.jobs"
        ).fetchone()
    assert row == (JOBS + claimer.cycles, True, True), "down again: every job back in collab.jobs"
