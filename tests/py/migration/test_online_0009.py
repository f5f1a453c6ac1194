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

from typing import Any

import psycopg
import pytest
from online_load import WS, run_under_claimer

from collab import migrate

JOBS = 1_000_000

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

    claimer, cycles_before = run_under_claimer(fresh_db, lambda: migrate.up(fresh_db))

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
