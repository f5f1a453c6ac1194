-- Collab: the whole schema in one readable file (tables, types, indexes, roles, schemas).
-- The numbered alembic revisions under migrations/ build exactly this, step by step; the
-- drift test (tests/py/migration) fails when the two differ. Code objects (functions,
-- views, triggers, policies) live one per file under sql/functions, sql/views,
-- sql/triggers and sql/policies.

------------------------------------------------------------------------------------------
-- Supabase compatibility: roles and the auth schema, created only where missing.
------------------------------------------------------------------------------------------
do $roles$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$roles$;

do $auth$
begin
  if not exists (select 1 from pg_namespace where nspname = 'auth') then
    create schema auth;
    comment on schema auth is 'Supabase auth shim created by collab (plain Postgres only)';
    grant usage on schema auth to anon, authenticated, service_role;
  end if;
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $f$;
    comment on function auth.uid() is 'The caller''s user id: the sub claim of the request JWT.';
    grant execute on function auth.uid() to anon, authenticated, service_role;
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $f$;
    comment on function auth.role() is 'The caller''s role: the role claim of the request JWT.';
    grant execute on function auth.role() to anon, authenticated, service_role;
  end if;
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $f$;
    comment on function auth.jwt() is 'All claims of the request JWT, as PostgREST sets them.';
    grant execute on function auth.jwt() to anon, authenticated, service_role;
  end if;
end
$auth$;

------------------------------------------------------------------------------------------
-- Schemas: collab is private, api is the public RPC surface (the only one PostgREST exposes).
------------------------------------------------------------------------------------------
create schema collab;
comment on schema collab is 'Collab private tables and internal functions. Never exposed.';
revoke all on schema collab from public;
grant usage on schema collab to service_role;

create schema api;
comment on schema api is 'Collab public RPC surface: small, documented, validated functions.';
revoke all on schema api from public;
grant usage on schema api to anon, authenticated, service_role;
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
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
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

------------------------------------------------------------------------------------------
-- Metrics (revision 0003): per-minute rollups of job_events, so a 24-hour window reads
-- 1,440 rows per queue and type instead of every event. Nothing here is written on the
-- claim or complete path: rollups are made from job_events after the fact.
------------------------------------------------------------------------------------------
create table collab.metrics_minutely (
  workspace_id uuid not null,
  queue text not null,
  job_type text not null,
  minute timestamptz not null,
  enqueued bigint not null default 0,
  claims bigint not null default 0,
  claim_conflicts bigint not null default 0,
  lease_expirations bigint not null default 0,
  lease_releases bigint not null default 0,
  retries bigint not null default 0,
  failed bigint not null default 0,
  dead bigint not null default 0,
  completed bigint not null default 0,
  cancelled bigint not null default 0,
  requeued bigint not null default 0,
  idempotent_duplicates bigint not null default 0,
  fencing_rejections bigint not null default 0,
  queue_wait_ms jsonb not null default '{}',
  run_time_ms jsonb not null default '{}',
  end_to_end_ms jsonb not null default '{}',
  primary key (workspace_id, queue, job_type, minute),
  constraint metrics_minutely_minute_whole check (minute = date_trunc('minute', minute))
);
comment on table collab.metrics_minutely is 'Per-minute counters and latency histograms per workspace, queue and job type, rolled up from job_events by collab.metrics_rollup().';
comment on column collab.metrics_minutely.minute is 'Start of the minute (of the event''s created_at) the row counts.';
comment on column collab.metrics_minutely.queue_wait_ms is 'Sparse histogram {"<milliseconds>": count} of queue waits (run_at -> claim), values rounded to 3 significant digits.';
comment on column collab.metrics_minutely.run_time_ms is 'Sparse histogram {"<milliseconds>": count} of run times (claim -> end of the attempt).';
comment on column collab.metrics_minutely.end_to_end_ms is 'Sparse histogram {"<milliseconds>": count} of end-to-end times (enqueue -> succeeded or dead).';
create index metrics_minutely_minute_idx on collab.metrics_minutely (workspace_id, minute);

create table collab.metrics_rollup_state (
  id boolean primary key default true,
  horizon xid8 not null default '0',
  rolled_up_at timestamptz,
  constraint metrics_rollup_state_one_row check (id)
);
comment on table collab.metrics_rollup_state is 'One row: every job_events row written by a transaction below horizon is in metrics_minutely; later ones are read live.';
insert into collab.metrics_rollup_state (id, horizon) values (true, '0');

create table collab.metrics_signals (
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  kind text not null,
  queue text not null,
  job_type text not null,
  count bigint not null default 1,
  xid xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null,
  constraint metrics_signals_kind check (kind in ('claim_conflict', 'idempotent_duplicate', 'fencing_rejection'))
);
comment on table collab.metrics_signals is 'Append-only: outcomes that change no job and so write no job_event (claim conflicts, idempotent duplicates, fencing rejections), one row per occurrence; never updated, so no shared counter row.';
create index metrics_signals_stream_idx on collab.metrics_signals (xid, id);

alter table collab.metrics_minutely enable row level security;
alter table collab.metrics_rollup_state enable row level security;
alter table collab.metrics_signals enable row level security;
grant select, insert, update, delete on collab.metrics_minutely, collab.metrics_rollup_state,
  collab.metrics_signals to service_role;
------------------------------------------------------------------------------------------
-- Tenancy (revision 0004): who may act in which workspace, and how much.
------------------------------------------------------------------------------------------
create table collab.members (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  user_id uuid not null,
  role text not null,
  created_at timestamptz not null default now(),
  primary key (workspace_id, user_id),
  constraint members_role_valid check (role in (
    'owner',   -- everything an admin may do, and may make other owners
    'admin',   -- pauses, resumes and configures queues, requeues and purges the DLQ, adds members
    'member',  -- enqueues and cancels jobs, registers executors that claim and complete
    'viewer'   -- reads jobs, queues, executors, events and metrics
  ))
);
comment on table collab.members is 'Who (auth.uid()) belongs to which workspace, with which role; read by collab.current_workspace() and collab.require_role().';
create index members_user_idx on collab.members (user_id);
alter table collab.members enable row level security;
grant select, insert, update, delete on collab.members to service_role;

-- Rate limits: token buckets per workspace (and per executor for claim), configured by
-- api.configure_rate_limit. No row, no limit. The state is one row per bucket (and shard), so
-- an executor's claims touch only its own row and a busy workspace spreads over `shards` rows.
create table collab.rate_limits (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  action text not null,
  scope text not null,
  rate_per_second double precision not null,
  burst double precision not null,
  shards integer not null default 1,
  primary key (workspace_id, action, scope),
  constraint rate_limits_action_valid check (action in (
    'enqueue',  -- jobs enqueued (a batch costs one token per job)
    'claim'     -- claim calls
  )),
  constraint rate_limits_scope_valid check (scope in (
    'workspace',  -- one budget for the whole workspace
    'executor'    -- one budget per executor (claim only)
  )),
  constraint rate_limits_executor_claims_only check (scope <> 'executor' or action = 'claim'),
  constraint rate_limits_positive check (rate_per_second > 0 and burst >= 1),
  constraint rate_limits_shards_range check (shards between 1 and 64)
);
comment on table collab.rate_limits is 'Token-bucket limits per workspace, action and scope: rate_per_second refill up to burst tokens; shards split a workspace bucket over several rows (each rate/shards, burst/shards).';
create table collab.rate_buckets (
  workspace_id uuid not null,
  action text not null,
  subject text not null,
  shard integer not null,
  tokens double precision not null,
  refreshed_at timestamptz not null,
  primary key (workspace_id, action, subject, shard)
) with (fillfactor = 50);
comment on table collab.rate_buckets is 'Token-bucket state: tokens left at refreshed_at, per workspace, action, subject (the executor id, or '''' for the workspace) and shard.';
alter table collab.rate_limits enable row level security;
alter table collab.rate_buckets enable row level security;
grant select, insert, update, delete on collab.rate_limits, collab.rate_buckets to service_role;

-- api.list_jobs: every filter combination on an index (tests/sql/520 EXPLAINs them at 10^6
-- rows). The created_at index serves no filter or type/queue filters; these two serve a status
-- and an executor. The executor index skips queued jobs (no executor), so enqueue pays nothing.
create index jobs_list_status_idx on collab.jobs (workspace_id, status, created_at, id);
create index jobs_list_executor_idx on collab.jobs (executor_id, created_at, id) where executor_id is not null;

-- Quotas per workspace (api.configure_workspace).
alter table collab.workspaces add column max_payload_bytes integer not null default 1048576
  constraint workspaces_max_payload_bytes_range check (max_payload_bytes between 2 and 104857600);
comment on column collab.workspaces.max_payload_bytes is 'Largest job payload accepted by enqueue, in bytes of its JSON text (default 1 MiB).';
alter table collab.workspaces add column max_queued_jobs integer
  constraint workspaces_max_queued_jobs_range check (max_queued_jobs between 1 and 10000000);
comment on column collab.workspaces.max_queued_jobs is 'Most jobs the workspace may have queued at once; null: no quota. Checked by enqueue (a soft limit under concurrent enqueues).';
------------------------------------------------------------------------------------------
-- Rate limits (revision 0007): at least one token per 1,000 s (a subnormal rate overflowed
-- retry_after into 22003).
------------------------------------------------------------------------------------------
alter table collab.rate_limits add constraint rate_limits_rate_range
  check (rate_per_second between 0.001 and 1000000);
