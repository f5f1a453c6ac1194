"""The job lifecycle: workspaces, queues, executors, jobs, job_events and the api types.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, reset_code

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0002"
PREVIOUS_SNAPSHOT = None


def upgrade() -> None:
    reset_code()
    execute_script(
        r"""
------------------------------------------------------------------------------------------
-- The job lifecycle (revision 0002).
------------------------------------------------------------------------------------------
create type collab.job_status as enum (
  'queued',     -- waiting for run_at and a free executor
  'running',    -- claimed: an executor holds the lease (lease_token, lease_expires_at)
  'succeeded',  -- completed by the executor holding the lease (terminal)
  'cancelled',  -- cancelled before it finished (terminal)
  'dead'        -- failed for good: in the dead-letter queue until requeued or purged
);
comment on type collab.job_status is 'States of a job: queued -> running -> succeeded | cancelled | dead; a failed attempt returns to queued while attempts remain.';

create type collab.job_event_type as enum (
  'enqueued',          -- a new job (never for an idempotent duplicate)
  'claimed',           -- queued -> running: an executor took the lease
  'progress',          -- running: the executor reported progress
  'succeeded',         -- running -> succeeded
  'retry_scheduled',   -- running -> queued: a failed attempt, retried after a backoff
  'lease_expired',     -- running -> queued: the lease ran out; counts as a failed attempt
  'lease_released',    -- running -> queued: the executor went offline; its lease was released early
  'dead',              -- running -> dead: non-retryable failure or attempts exhausted
  'cancel_requested',  -- running: a cancel was asked; the executor learns it at its heartbeat
  'cancelled',         -- queued | running -> cancelled
  'requeued',          -- dead -> queued: replayed from the dead-letter queue
  'executor_online',   -- an executor registered or heartbeat after being offline (no job)
  'executor_offline'   -- an executor went silent for 3 heartbeat intervals (no job)
);
comment on type collab.job_event_type is 'What happened to a job (one job_events row per change) or to an executor''s presence.';

create table collab.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_at timestamptz not null default now(),
  constraint workspaces_name_unique unique (name)
);
comment on table collab.workspaces is 'Tenants. Every row of every other table belongs to one.';
insert into collab.workspaces (id, name)
values ('00000000-0000-0000-0000-000000000001', 'default');

create table collab.queues (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  name text not null,
  paused boolean not null default false,
  concurrency_limit integer,
  lease_seconds integer not null default 30,
  max_attempts integer not null default 5,
  backoff_base_seconds double precision not null default 1,
  backoff_max_seconds double precision not null default 300,
  backoff_jitter double precision not null default 0.2,
  created_at timestamptz not null default now(),
  primary key (workspace_id, name),
  constraint queues_concurrency_limit_positive check (concurrency_limit is null or concurrency_limit > 0),
  constraint queues_lease_seconds_range check (lease_seconds between 1 and 86400),
  constraint queues_max_attempts_range check (max_attempts between 1 and 1000),
  constraint queues_backoff_range check (
    backoff_base_seconds > 0 and backoff_max_seconds >= backoff_base_seconds
    and backoff_max_seconds <= 604800),
  constraint queues_backoff_jitter_range check (backoff_jitter between 0 and 1)
);
comment on table collab.queues is 'Queues and their settings; created on first use with the defaults.';

create table collab.executors (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  name text not null,
  queues text[] not null default '{}',
  user_id uuid,
  heartbeat_seconds integer not null default 5,
  online boolean not null default true,
  last_seen_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  constraint executors_name_unique unique (workspace_id, name),
  constraint executors_heartbeat_range check (heartbeat_seconds between 5 and 10)
);
comment on table collab.executors is 'Agents that claim jobs; present while they heartbeat.';

create table collab.jobs (
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  queue text not null,
  type text not null,
  payload jsonb not null default '{}',
  priority integer not null default 0,
  status collab.job_status not null default 'queued',
  last_event collab.job_event_type not null default 'enqueued',
  run_at timestamptz not null,
  attempt integer not null default 0,
  max_attempts integer not null,
  idempotency_key text,
  executor_id uuid,
  lease_token uuid,
  lease_seconds integer,
  lease_expires_at timestamptz,
  cancel_requested boolean not null default false,
  progress numeric,
  progress_message text,
  result jsonb,
  last_error jsonb,
  created_at timestamptz not null,
  claimed_at timestamptz,
  finished_at timestamptz,
  constraint jobs_attempts_range check (attempt >= 0 and attempt <= max_attempts),
  constraint jobs_lease_iff_running check (
    (status = 'running') = (lease_expires_at is not null)
    and (status <> 'running' or (executor_id is not null and lease_token is not null))),
  constraint jobs_finished_iff_terminal check (
    (status in ('succeeded', 'cancelled', 'dead')) = (finished_at is not null))
) with (fillfactor = 90);
comment on table collab.jobs is 'Jobs. State rules are the named CHECK constraints and the transition check of the events trigger.';
comment on column collab.jobs.priority is 'Higher runs first.';
comment on column collab.jobs.attempt is 'Attempts started so far (a claim starts one).';
comment on column collab.jobs.lease_token is 'Fencing token of the current (or last) attempt; every executor call must present it.';
comment on column collab.jobs.last_event is 'The event of the last change; the events trigger writes it to job_events.';

-- Claim path: queued jobs only, in claim order.
create index jobs_queued_claim_idx on collab.jobs (workspace_id, queue, priority desc, run_at, id)
  where status = 'queued';
-- Lease expiry and concurrency limits: running jobs only.
create index jobs_running_lease_idx on collab.jobs (workspace_id, queue, lease_expires_at)
  where status = 'running';
-- Heartbeat: the running jobs of an executor.
create index jobs_running_executor_idx on collab.jobs (executor_id) where status = 'running';
-- Idempotency keys are unique per workspace. Partial: jobs without a key (most) pay nothing.
create unique index jobs_idempotency_key_idx on collab.jobs (workspace_id, idempotency_key)
  where idempotency_key is not null;
-- Listing, newest first; the dead-letter queue has its own small index.
create index jobs_list_created_idx on collab.jobs (workspace_id, created_at, id);
create index jobs_dead_idx on collab.jobs (workspace_id, queue, finished_at, id) where status = 'dead';

alter table collab.jobs set (
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_analyze_scale_factor = 0.05,
  autovacuum_vacuum_cost_delay = 1
);

create table collab.job_events (
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  job_id bigint,
  type collab.job_event_type not null,
  queue text,
  job_type text,
  attempt integer,
  executor_id uuid,
  data jsonb not null default '{}',
  xid xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null,
  constraint job_events_subject check (
    case when type in ('executor_online', 'executor_offline')
         then job_id is null and executor_id is not null
         else job_id is not null and queue is not null and job_type is not null and attempt is not null
    end)
);
comment on table collab.job_events is 'One row per job state change (written by trigger in the same transaction) or executor presence change. Append-only.';
comment on column collab.job_events.xid is 'Writing transaction: lets readers hand out only events below the snapshot xmin (gap-free cursors).';
create index job_events_job_idx on collab.job_events (job_id, id);
-- The stream: readers follow (xid, id) below the snapshot xmin, so nothing is missed.
create index job_events_stream_idx on collab.job_events (xid, id);
create index job_events_created_brin on collab.job_events using brin (created_at);

alter table collab.workspaces enable row level security;
alter table collab.queues enable row level security;
alter table collab.executors enable row level security;
alter table collab.jobs enable row level security;
alter table collab.job_events enable row level security;

grant select, insert, update, delete on all tables in schema collab to service_role;

-- On Supabase, job_events also streams through Supabase Realtime (RLS decides who receives
-- what). Plain Postgres has no such publication and is left alone.
do $realtime$
begin
  -- (A publication FOR ALL TABLES has the table already, and refuses an ADD.)
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime' and not puballtables) then
    alter publication supabase_realtime add table collab.job_events;
  end if;
end
$realtime$;

-- Public row types returned by the api functions.
create type api.job as (
  id bigint,
  queue text,
  type text,
  status text,
  payload jsonb,
  priority integer,
  attempt integer,
  max_attempts integer,
  run_at timestamptz,
  idempotency_key text,
  executor_id uuid,
  lease_expires_at timestamptz,
  cancel_requested boolean,
  progress numeric,
  progress_message text,
  result jsonb,
  last_error jsonb,
  created_at timestamptz,
  claimed_at timestamptz,
  finished_at timestamptz,
  duplicate boolean
);
comment on type api.job is 'A job as the api returns it (duplicate: an idempotent enqueue found it).';

create type api.claimed_job as (
  id bigint,
  queue text,
  type text,
  payload jsonb,
  priority integer,
  attempt integer,
  max_attempts integer,
  lease_token uuid,
  lease_expires_at timestamptz,
  run_at timestamptz,
  created_at timestamptz
);
comment on type api.claimed_job is 'A job handed to an executor by api.claim, with its fencing lease token.';

create type api.queue as (
  name text,
  paused boolean,
  concurrency_limit integer,
  lease_seconds integer,
  max_attempts integer,
  backoff_base_seconds double precision,
  backoff_max_seconds double precision,
  backoff_jitter double precision,
  created_at timestamptz
);
comment on type api.queue is 'A queue and its settings as the api returns it.';

create type api.heartbeat_result as (
  executor_id uuid,
  cancelled bigint[],
  lost bigint[],
  extended integer,
  heartbeat_seconds integer
);
comment on type api.heartbeat_result is 'api.heartbeat: jobs the executor must stop (cancelled, lost) and how many leases were extended.';

create type api.completion as (
  job_id bigint,
  ok boolean,
  reason text
);
comment on type api.completion is 'Outcome of one item of api.complete_batch / api.fail_batch: ok, or the reason (lease_lost, job_not_found).';
create type api.event as (
  id bigint,
  job_id bigint,
  type text,
  queue text,
  job_type text,
  attempt integer,
  executor_id uuid,
  data jsonb,
  created_at timestamptz,
  cursor text
);
comment on type api.event is 'A job event as api.events_since returns it; cursor: pass it back to continue after this event.';
"""
    )
    apply_snapshot(SNAPSHOT)
    execute_script("select collab.schedule_reaper()")


def downgrade() -> None:
    execute_script("select collab.unschedule_reaper()")
    reset_code()
    execute_script(
        """
        drop type api.event;
        drop type api.completion;
        drop type api.heartbeat_result;
        drop type api.queue;
        drop type api.claimed_job;
        drop type api.job;
        drop table collab.job_events;
        drop table collab.jobs;
        drop table collab.executors;
        drop table collab.queues;
        drop table collab.workspaces;
        drop type collab.job_event_type;
        drop type collab.job_status;
        """
    )
    apply_snapshot(PREVIOUS_SNAPSHOT)
