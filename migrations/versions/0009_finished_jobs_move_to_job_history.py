"""Finished jobs move to collab.job_history, idempotency keys to collab.idempotency_keys (issue 18).

Online: claims, heartbeats and completions go on while it runs; nothing stops them for more
than the switch (tests/py/migration/test_online_0009.py runs it on 10^6 jobs under a claimer
whose lock_timeout is 1 s).

1. The new tables (TABLES: the same text as sql/schema.sql) beside the old ones; nothing on
   collab.jobs is locked.
2. The keys of the jobs enqueued so far are copied into collab.idempotency_keys, still without
   a lock: first a watermark (the last job id drawn), then a wait for the transactions that
   were writing collab.jobs at that moment (an INSERT holds its table lock before it draws an
   id), so every job up to the watermark is settled when it is read.
3. The switch, under a short ACCESS EXCLUSIVE lock of collab.jobs and of every table whose
   triggers or policies the code reset makes again, all taken at once in tries of 150 ms (so a
   queue of waiting claims never forms behind a long wait, and the switch never waits for a
   claim that waits for it): the keys of jobs enqueued since the watermark and the code of
   this revision. The partition for the finished jobs of the past (on a database that holds
   jobs: job_history_until_YYYYMMDD, unbounded below) is made just before, the day partitions
   just after, one per transaction (moves in between land in the default partition, which
   hands their rows over).
   COMMIT (alembic's transaction ends here: an autocommit block follows).
   Calls that were waiting for the switch's locks finish with the code they started with (a
   function's body is fixed when it is called). So the switch changes nothing they rely on:
   the unique index the old enqueue's ON CONFLICT names stays, and no CHECK refuses the
   finished rows the old complete and fail still write into collab.jobs.
4. Those calls are waited for (as in 2), and the keys of the jobs they enqueued copied (until
   then, a new enqueue of a key one of them just used fails on the old unique index, 23505,
   and makes no second job: a window of milliseconds, for a key sent twice at once). Then
   the indexes of collab.jobs no reader needs any more go (DROP INDEX CONCURRENTLY): the old
   unique index, the listing by (workspace_id, created_at, id) and the dead-letter queue's.
5. The backlog: finished jobs move from collab.jobs into the partition of the past 10,000 per
   transaction, in id order, written straight into the partition so that they get no second
   event. Until a job has moved, the DLQ functions and an api.list_jobs without a status do
   not see it (api.get_job and api.list_jobs with its status do). On 10^6 jobs this step took
   about two minutes here.
6. The CHECK jobs_not_finished, added NOT VALID (a moment's lock, taken as in 3) and then
   validated (SHARE UPDATE EXCLUSIVE: claims go on), as sql/schema.sql has it.

7. workspace_id joins the primary key of the four tables that keyed on id alone (jobs,
   job_events, executors, metrics_signals), as (id, workspace_id): lookups by id keep their
   index, and Citus can distribute every table by workspace (the distribution column must be
   in every unique key, at any position). Each new key's index is built CONCURRENTLY, then
   swapped in under a moment's lock taken as in 3.

The downgrade is not online: it moves the history back into collab.jobs in one transaction.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 21:30:17.899567
"""

from __future__ import annotations

from alembic import op

from collab.migration_ops import (
    apply_snapshot,
    create_index_concurrently,
    execute_script,
    lock_code_tables_sql,
    query_row,
    reset_code,
    swap_primary_key,
    under_short_lock,
)

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0009"
PREVIOUS_SNAPSHOT = "0008"

# Finished jobs moved per transaction by step 4.
BATCH = 10000

# -- tables: issue 18 (the hot table and the history) ---------------------------------------
TABLES = r"""
------------------------------------------------------------------------------------------
-- Finished jobs leave the hot table (revision 0009, issue 18). collab.jobs holds the queued
-- and running jobs only, so its size, its indexes and its vacuum follow the backlog, not
-- the history. A job that succeeds, is cancelled or dies moves to collab.job_history in the
-- transaction that finishes it, in one statement (DELETE ... RETURNING into INSERT); a
-- requeue moves a dead job back. History is partitioned by day of finished_at (UTC), so
-- retention drops whole partitions (collab.purge_job_history); collab.reap keeps a week of
-- partitions ahead (collab.ensure_job_history_partitions) and the default partition takes
-- any row no day partition covers, so a move never fails for want of one.
------------------------------------------------------------------------------------------
create table collab.job_history (
  id bigint not null,
  workspace_id uuid not null,
  queue text not null,
  type text not null,
  payload jsonb not null,
  priority integer not null,
  status collab.job_status not null,
  last_event collab.job_event_type not null,
  run_at timestamptz not null,
  attempt integer not null,
  max_attempts integer not null,
  idempotency_key text,
  executor_id uuid,
  lease_token uuid,
  lease_seconds integer,
  lease_expires_at timestamptz,
  cancel_requested boolean not null,
  progress numeric,
  progress_message text,
  result jsonb,
  last_error jsonb,
  created_at timestamptz not null,
  claimed_at timestamptz,
  finished_at timestamptz not null,
  primary key (workspace_id, id, finished_at),
  constraint job_history_terminal check (
    (status = 'succeeded' and last_event = 'succeeded')
    or (status = 'cancelled' and last_event = 'cancelled')
    or (status = 'dead' and last_event = 'dead')),
  constraint job_history_no_lease check (lease_expires_at is null),
  constraint job_history_attempts_range check (attempt >= 0 and attempt <= max_attempts)
) partition by range (finished_at);
comment on table collab.job_history is 'Finished jobs (succeeded, cancelled, dead), moved out of collab.jobs by the call that finished them, with the same columns in the same order; partitioned by day of finished_at. Append-only but for requeue and purge_dead, which take dead jobs out.';
create table collab.job_history_default partition of collab.job_history default;
comment on table collab.job_history_default is 'Rows of collab.job_history that no day partition covers (normally none: collab.ensure_job_history_partitions moves them into the partition it creates for their day).';
-- What the readers need, and nothing more: by job (the primary key), listing (api.list_jobs:
-- newest first, one range of the status index per status, or by executor) and the
-- dead-letter queue.
create index job_history_list_status_idx on collab.job_history (workspace_id, status, created_at, id);
create index job_history_list_executor_idx on collab.job_history (executor_id, created_at, id)
  where executor_id is not null;
create index job_history_dead_idx on collab.job_history (workspace_id, queue, finished_at, id)
  where status = 'dead';

-- Idempotency keys outlive the hot row: a unique index on collab.jobs stops protecting a key
-- once its job moves, and one on the partitioned history cannot be global (it must hold
-- finished_at). Written only by enqueue (INSERT ... ON CONFLICT DO NOTHING: a concurrent
-- enqueue of the same key waits for the first and then finds it); deleted only with their
-- job (api.purge_dead, collab.purge_job_history). Claim, heartbeat and complete never touch it.
create table collab.idempotency_keys (
  workspace_id uuid not null,
  key text not null,
  job_id bigint not null,
  created_at timestamptz not null,
  primary key (workspace_id, key)
);
comment on table collab.idempotency_keys is 'Idempotency keys, unique per workspace, each naming its job (in collab.jobs or collab.job_history) for as long as the job is stored.';

alter table collab.job_history enable row level security;
alter table collab.job_history_default enable row level security;
alter table collab.idempotency_keys enable row level security;
grant select, insert, update, delete on collab.job_history, collab.job_history_default,
  collab.idempotency_keys to service_role;
"""


# Wait for the transactions that were writing collab.jobs when this one looked (an INSERT
# holds its table lock before it draws an id): steps 2 and 4.
WAIT_FOR_WRITERS = r"""
do $wait$
declare
  writers text[] := array(
    select l.virtualtransaction from pg_catalog.pg_locks l
     where l.locktype = 'relation' and l.relation = 'collab.jobs'::regclass
       and l.mode = 'RowExclusiveLock' and l.granted and l.pid <> pg_catalog.pg_backend_pid());
  deadline timestamptz := pg_catalog.clock_timestamp() + interval '5 minutes';
begin
  while exists (select 1 from pg_catalog.pg_locks l
                 where l.locktype = 'virtualxid' and l.virtualxid = any(writers)) loop
    if pg_catalog.clock_timestamp() > deadline then
      raise exception 'revision 0009: transactions writing collab.jobs did not end within 5 minutes';
    end if;
    perform pg_catalog.pg_sleep(0.02);
  end loop;
end
$wait$;
"""

# Step 2: the watermark, the wait, the copy. Leaves the watermark in a temporary table.
KEYS_BEFORE_SWITCH = (
    r"""
create temporary table collab_0009 on commit drop as
select coalesce(pg_catalog.pg_sequence_last_value('collab.jobs_id_seq'::regclass), 0) as watermark,
       exists (select 1 from collab.jobs) as holds_jobs,
       (select max(j.finished_at) from collab.jobs j) as last_finished_at;
"""
    + WAIT_FOR_WRITERS
    + r"""
insert into collab.idempotency_keys (workspace_id, key, job_id, created_at)
select j.workspace_id, j.idempotency_key, j.id, j.created_at
  from collab.jobs j
 where j.idempotency_key is not null and j.id <= (select watermark from collab_0009)
on conflict do nothing;
"""
)

# Step 2, last: the partition of the finished jobs of the past (only where jobs exist), made
# before the switch so that no move can reach the default partition with a row of its range.
PAST_PARTITION = r"""
do $past$
declare
  bound timestamptz := (pg_catalog.date_trunc('day',
      greatest(now(), (select last_finished_at from collab_0009)) at time zone 'UTC') + interval '1 day')
    at time zone 'UTC';
begin
  if (select holds_jobs from collab_0009) then
    execute pg_catalog.format(
      'create table collab.%I partition of collab.job_history for values from (minvalue) to (%L)',
      'job_history_until_' || pg_catalog.to_char(bound at time zone 'UTC', 'YYYYMMDD'), bound);
    execute pg_catalog.format('alter table collab.%I enable row level security',
      'job_history_until_' || pg_catalog.to_char(bound at time zone 'UTC', 'YYYYMMDD'));
    execute pg_catalog.format('grant select, insert, update, delete on collab.%I to service_role',
      'job_history_until_' || pg_catalog.to_char(bound at time zone 'UTC', 'YYYYMMDD'));
  end if;
end
$past$;
"""

# Step 3, before the code: the locks, the late keys, and the watermark at the switch (no
# writer of collab.jobs is running: every job up to it is settled).
SWITCH = (
    lock_code_tables_sql(revision, busy="collab.jobs stayed busy")
    + r"""
insert into collab.idempotency_keys (workspace_id, key, job_id, created_at)
select j.workspace_id, j.idempotency_key, j.id, j.created_at
  from collab.jobs j
 where j.idempotency_key is not null and j.id > (select watermark from collab_0009)
on conflict do nothing;
update collab_0009 set watermark = coalesce(pg_catalog.pg_sequence_last_value('collab.jobs_id_seq'::regclass), 0);
"""
)

# Step 3, after the code: the day partitions from today (moves that come before them land in
# the default partition, which hands their rows over), one per transaction: the locks of each
# (ACCESS EXCLUSIVE on collab.job_history and its default partition, which every completion
# writes) are held until the end of the transaction that took them, so one call making all
# eight would stop completions for eight partitions' time.
ENSURE_PARTITIONS = [f"select collab.ensure_job_history_partitions({ahead});" for ahead in range(8)]

# Step 4: copy the keys of the jobs enqueued by the calls that started before the switch
# (after WAIT_FOR_WRITERS).
KEYS_AFTER_SWITCH = r"""
insert into collab.idempotency_keys (workspace_id, key, job_id, created_at)
select j.workspace_id, j.idempotency_key, j.id, j.created_at
  from collab.jobs j
 where j.idempotency_key is not null and j.id > {watermark}
on conflict do nothing;
"""
# The indexes of collab.jobs no reader needs any more: the unique index collab.idempotency_keys
# replaces, the listing by (workspace_id, created_at, id) (api.list_jobs reads one range of
# jobs_list_status_idx per status) and the dead-letter queue's (dead jobs are in the history).
DROP_OLD_INDEXES = r"""
drop index concurrently if exists collab.jobs_idempotency_key_idx;
drop index concurrently if exists collab.jobs_list_created_idx;
drop index concurrently if exists collab.jobs_dead_idx;
"""

# Step 5, one batch: finished jobs after the last id moved, into the partition of the past.
MOVE_BATCH = r"""
with batch as (
  select j.id from collab.jobs j
   where j.id > {after} and j.status in ('succeeded', 'cancelled', 'dead')
     and j.finished_at < {bound}
   order by j.id
   limit {batch}
     for update
),
moved as (
  delete from collab.jobs j using batch where j.id = batch.id returning j.*
),
written as (
  insert into {partition} select * from moved returning id
)
select count(*), max(id) from written
"""

# Step 5, last: a finished job the partition of the past cannot take (a finished_at after its
# bound: only a clock set ahead makes one) moves through the parent (and gets its event again).
MOVE_REST = r"""
with moved as (
  delete from collab.jobs j where j.status in ('succeeded', 'cancelled', 'dead') returning j.*
)
insert into collab.job_history select * from moved
"""

# Step 6.
CHECK_NOT_FINISHED = (
    under_short_lock(
        revision,
        "alter table collab.jobs add constraint jobs_not_finished check (status in ('queued', 'running')) not valid;",
        "collab.jobs stayed busy; the CHECK jobs_not_finished was not added",
    )
    + r"""
comment on constraint jobs_not_finished on collab.jobs is 'Finished jobs live in collab.job_history (revision 0009).';
"""
)
VALIDATE = r"""
alter table collab.jobs validate constraint jobs_not_finished;
"""

DOWN = r"""
lock table collab.jobs in access exclusive mode;
alter table collab.jobs drop constraint if exists jobs_not_finished;
insert into collab.jobs overriding system value select * from collab.job_history;
create unique index jobs_idempotency_key_idx on collab.jobs (workspace_id, idempotency_key)
  where idempotency_key is not null;
create index jobs_list_created_idx on collab.jobs (workspace_id, created_at, id);
create index jobs_dead_idx on collab.jobs (workspace_id, queue, finished_at, id) where status = 'dead';
drop table collab.job_history;
drop table collab.idempotency_keys;
"""


# Step 7: the tables whose primary key gains workspace_id.
KEYED_BY_WORKSPACE = ("jobs", "job_events", "executors", "metrics_signals")
NEW_KEY_INDEX = (
    "create unique index concurrently if not exists {name} on collab.%s (id, workspace_id)"
)
KEYS_DOWN = "".join(
    f"alter table collab.{t} drop constraint {t}_pkey, add constraint {t}_pkey primary key (id);\n"
    for t in KEYED_BY_WORKSPACE
)


def upgrade() -> None:
    execute_script(TABLES)
    execute_script(KEYS_BEFORE_SWITCH)
    execute_script(PAST_PARTITION)
    execute_script(SWITCH)
    reset_code()
    apply_snapshot(SNAPSHOT)
    (watermark,) = query_row("select watermark from collab_0009")
    past = query_row(
        "select max(p.partition::text), max(p.to_at)::text from collab.job_history_partitions() p"
        " where p.from_at is null and p.to_at is not null"
    )
    with op.get_context().autocommit_block():
        for statement in ENSURE_PARTITIONS:
            execute_script(statement)
        execute_script(WAIT_FOR_WRITERS)
        execute_script(KEYS_AFTER_SWITCH.format(watermark=int(str(watermark))))
        for statement in DROP_OLD_INDEXES.split(";"):
            if statement.strip():
                execute_script(statement)
        if past[0] is not None:
            after = 0
            while True:
                moved, last = query_row(
                    MOVE_BATCH.format(
                        after=after,
                        bound=f"'{past[1]}'::timestamptz",
                        batch=BATCH,
                        partition=past[0],
                    )
                )
                if not moved:
                    break
                after = int(str(last))
        execute_script(MOVE_REST)
        execute_script(CHECK_NOT_FINISHED)
        execute_script(VALIDATE)
        for table in KEYED_BY_WORKSPACE:
            create_index_concurrently(f"{table}_id_workspace_key", NEW_KEY_INDEX % table)
            swap_primary_key(
                revision, table, f"{table}_id_workspace_key", "its key did not gain workspace_id"
            )


def downgrade() -> None:
    reset_code()
    execute_script(KEYS_DOWN)
    execute_script(DOWN)
    apply_snapshot(PREVIOUS_SNAPSHOT)
