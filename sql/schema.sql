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
-- (Idempotency keys: collab.idempotency_keys, revision 0009.)
-- (Listing: jobs_list_status_idx below. Revision 0009 dropped jobs_list_created_idx, which
-- api.list_jobs no longer needs, and jobs_dead_idx: dead jobs are in collab.job_history.)

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
-- The stream: readers follow (xid, id) below the snapshot xmin, so nothing is missed. Its
-- index is the primary key (xid, id, workspace_id), set at the end of this file (revision
-- 0012); revision 0012 dropped the separate (xid, id) index and the BRIN on created_at.

alter table collab.workspaces enable row level security;
alter table collab.queues enable row level security;
alter table collab.executors enable row level security;
alter table collab.jobs enable row level security;
alter table collab.job_events enable row level security;

grant select, insert, update, delete on all tables in schema collab to service_role;

-- On Supabase, job_events also streams through Supabase Realtime's Postgres Changes (RLS
-- decides who receives what), until revision 0029 partitions it (below). Plain Postgres has
-- no such publication and is left alone.
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
-- rows). The status index serves every listing (one range per status, merged); the executor
-- index an executor. It skips queued jobs (no executor), so enqueue pays nothing for it.
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
------------------------------------------------------------------------------------------
-- STACK (revision 0007, issue 13): PostgREST's login role, created only where missing.
------------------------------------------------------------------------------------------
do $stack$
begin
  -- The login role PostgREST connects as (`collab stack`; Supabase's own): created only where
  -- missing, and then granted the three API roles it switches to, as Supabase does. A
  -- password is set by `collab stack up` on its own cluster, never here.
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
    grant anon, authenticated, service_role to authenticator;
  end if;
end
$stack$;
------------------------------------------------------------------------------------------
-- Operator limits (revision 0007): bounds set by the operator (the service role,
-- api.configure_limits) that a workspace's own admins cannot raise; stored jobs counted by
-- the reaper; the max_queued_jobs quota made hard; statement timeouts of the API roles.
------------------------------------------------------------------------------------------
create table collab.platform_limits (
  singleton boolean primary key default true constraint platform_limits_one_row check (singleton),
  workspaces_per_user integer not null default 10
    constraint platform_limits_workspaces_per_user_range check (workspaces_per_user between 1 and 1000000),
  queues_per_workspace integer not null default 10000
    constraint platform_limits_queues_range check (queues_per_workspace between 1 and 10000000),
  executors_per_workspace integer not null default 1000
    constraint platform_limits_executors_range check (executors_per_workspace between 1 and 1000000),
  stored_jobs_per_workspace bigint not null default 10000000
    constraint platform_limits_stored_jobs_range check (stored_jobs_per_workspace between 1 and 1000000000000),
  payload_ceiling_bytes integer not null default 104857600
    constraint platform_limits_payload_ceiling_range check (payload_ceiling_bytes between 2 and 104857600)
);
comment on table collab.platform_limits is 'The operator''s limits on every workspace (one row; api.configure_limits, service role only): owned workspaces per user, queues, executors and stored jobs (all statuses) per workspace, and the ceiling of max_payload_bytes. A workspace''s limit_* columns override them.';
insert into collab.platform_limits default values;
alter table collab.platform_limits enable row level security;
grant select, insert, update, delete on collab.platform_limits to service_role;

alter table collab.workspaces add column limit_queues integer
  constraint workspaces_limit_queues_range check (limit_queues between 1 and 10000000);
alter table collab.workspaces add column limit_executors integer
  constraint workspaces_limit_executors_range check (limit_executors between 1 and 1000000);
alter table collab.workspaces add column limit_stored_jobs bigint
  constraint workspaces_limit_stored_jobs_range check (limit_stored_jobs between 1 and 1000000000000);
alter table collab.workspaces add column limit_payload_bytes integer
  constraint workspaces_limit_payload_bytes_range check (limit_payload_bytes between 2 and 104857600);
comment on column collab.workspaces.limit_queues is 'Operator override of platform_limits.queues_per_workspace for this workspace; null: the platform''s.';
comment on column collab.workspaces.limit_executors is 'Operator override of platform_limits.executors_per_workspace for this workspace; null: the platform''s.';
comment on column collab.workspaces.limit_stored_jobs is 'Operator override of platform_limits.stored_jobs_per_workspace for this workspace; null: the platform''s.';
comment on column collab.workspaces.limit_payload_bytes is 'Operator override of platform_limits.payload_ceiling_bytes (the most max_payload_bytes may be) for this workspace; null: the platform''s.';
comment on column collab.workspaces.max_queued_jobs is 'Most jobs the workspace may have queued at once; null: no quota. Checked by enqueue and requeue, serialized per workspace while a quota is set (a hard limit).';

-- The stored_jobs limit is enforced off the hot path (no trigger on collab.jobs): the reaper
-- (collab.reap, every minute with pg_cron) counts the jobs of the workspaces whose count could
-- matter (collab.count_stored_jobs, a bounded index-only count) and sets stored_jobs_full,
-- which enqueue reads with the workspace row it already reads. A workspace can go over its
-- limit by what it enqueues between two reaps. Existing workspaces are counted by the first
-- reap (adding these columns rewrites nothing).
alter table collab.workspaces add column stored_jobs bigint not null default 0,
  add column stored_jobs_counted_at timestamptz,
  add column stored_jobs_counted_id bigint not null default 0,
  add column stored_jobs_full boolean not null default false;
comment on column collab.workspaces.stored_jobs is 'Jobs (any status) the workspace stored at stored_jobs_counted_at, counted up to its stored_jobs limit + 1 (collab.count_stored_jobs); shown by api.get_limits.';
comment on column collab.workspaces.stored_jobs_counted_at is 'When stored_jobs was counted (collab.reap, api.configure_limits); null: not yet.';
comment on column collab.workspaces.stored_jobs_counted_id is 'The highest job id when stored_jobs was counted: the workspace cannot have added more jobs since than ids handed out since, so the reaper skips it while that cannot reach its limit.';
comment on column collab.workspaces.stored_jobs_full is 'Set by the last count when stored_jobs reached the stored_jobs limit: enqueue refuses (PT429 quota_exceeded stored_jobs) until a count finds it under.';

-- The API roles get a statement_timeout as on Supabase (authenticated 8 s, anon 3 s), which
-- PostgREST 12 applies to each request it runs as them. Only where a role has none: Supabase
-- sets its own, left alone. Roles are cluster-wide: a downgrade leaves the setting.
do $timeouts$
declare
  r record;
begin
  for r in select * from (values ('authenticated', '8s'), ('anon', '3s')) v(role_name, timeout) loop
    if not exists (select 1 from pg_catalog.pg_db_role_setting s
                     join pg_catalog.pg_roles o on o.oid = s.setrole
                    where o.rolname = r.role_name and s.setdatabase = 0
                      and exists (select 1 from unnest(s.setconfig) c where c like 'statement_timeout=%')) then
      begin
        execute format('alter role %I set statement_timeout = %L', r.role_name, r.timeout);
      exception when insufficient_privilege then
        raise notice 'collab: cannot set statement_timeout of role %: set it as its owner', r.role_name;
      end;
    end if;
  end loop;
end
$timeouts$;
------------------------------------------------------------------------------------------
-- Invitations (revision 0007, finding 3): admins invite, only the invitee joins; members
-- leave (api.leave_workspace) or are removed (api.remove_member); a workspace keeps an owner.
------------------------------------------------------------------------------------------
create table collab.invitations (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  user_id uuid not null,
  role text not null,
  invited_by uuid,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (workspace_id, user_id),
  constraint invitations_role_valid check (role in (
    'owner',   -- the invitee becomes an owner (only an owner invites one)
    'admin',   -- the invitee becomes an admin
    'member',  -- the invitee becomes a member
    'viewer'   -- the invitee becomes a viewer
  )),
  constraint invitations_expiry_after_creation check (expires_at > created_at)
);
comment on table collab.invitations is 'Pending invitations (finding 3): api.add_member by an admin naming a user who is not a member writes one; only the invitee turns it into a membership (api.accept_invitation) or drops it (api.decline_invitation). Refreshed by a new add_member, cancelled by api.remove_member (and when its inviter leaves, is removed, or is demoted below the role it offers), refused after expires_at.';
comment on column collab.invitations.user_id is 'The invited user (auth.uid() of the invitee); not a member of the workspace while invited.';
comment on column collab.invitations.role is 'The role the invitee gets on accepting.';
comment on column collab.invitations.invited_by is 'The admin or owner who invited (their auth.uid()); null when a service caller did.';
comment on column collab.invitations.expires_at is 'After this time (collab.clock()) the invitation can no longer be accepted (PT410 invitation_expired).';
create index invitations_user_idx on collab.invitations (user_id);
alter table collab.invitations enable row level security;
grant select, insert, update, delete on collab.invitations to service_role;
------------------------------------------------------------------------------------------
-- Artifacts (revision 0008, issue 14).
------------------------------------------------------------------------------------------
alter type collab.job_event_type add value if not exists 'artifact_created';  -- a job left an artifact (api.put_artifact with job_id)
comment on type collab.job_event_type is 'What happened to a job (one job_events row per change, or an artifact it left) or to an executor''s presence.';

create table collab.artifact_blobs (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  sha256 bytea not null,
  size bigint not null,
  content bytea not null,
  created_at timestamptz not null,
  primary key (workspace_id, sha256),
  constraint artifact_blobs_sha256_length check (octet_length(sha256) = 32),
  constraint artifact_blobs_size_matches check (size = octet_length(content))
);
-- Stored out of line, uncompressed: a Range request reads only the chunks it needs.
alter table collab.artifact_blobs alter column content set storage external;
comment on table collab.artifact_blobs is 'Artifact bytes, content-addressed: one row per workspace and sha256, however many artifacts point at it; removed with the last artifact that points at it.';

create table collab.artifacts (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  id bigint generated always as identity,
  job_id bigint,
  name text not null,
  media_type text not null,
  size bigint not null,
  sha256 bytea not null,
  metadata jsonb not null default '{}',
  created_by uuid,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  constraint artifacts_blob_fk foreign key (workspace_id, sha256)
    references collab.artifact_blobs (workspace_id, sha256),
  constraint artifacts_name_valid check (
    length(name) between 1 and 1024 and name !~ '[[:cntrl:]?#%\\]' and name !~ '^/|/$|//'
    and name !~ '(^|/)\.\.?(/|$)'),
  constraint artifacts_media_type_valid check (
    length(media_type) <= 255 and media_type ~* '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*( *;.*)?$'
    and media_type ~ '^[\x20-\x7e]+$'),
  constraint artifacts_size_positive check (size >= 0),
  constraint artifacts_metadata_object check (jsonb_typeof(metadata) = 'object')
);
comment on table collab.artifacts is 'Artifacts (documents, code, logs, JSON): metadata of a named blob, attached to a job or to none. No foreign key to collab.jobs: api.put_artifact checks that the job exists.';
comment on column collab.artifacts.job_id is 'The job that left it (in the same workspace), or null.';
comment on column collab.artifacts.name is 'A path-like name (a/b/report.md): 1-1024 characters, no control characters, none of ? # % \, no empty, "." or ".." segment. Not unique: the signed URL path is <workspace_id>/<id>/<name>.';
comment on column collab.artifacts.sha256 is 'sha256 of the bytes: the key of collab.artifact_blobs, the ETag of a download.';
comment on column collab.artifacts.created_by is 'auth.uid() of the caller that put it; null for a service caller.';
create index artifacts_created_idx on collab.artifacts (workspace_id, created_at, id);
create index artifacts_job_idx on collab.artifacts (workspace_id, job_id, created_at, id) where job_id is not null;
create index artifacts_name_idx on collab.artifacts (workspace_id, name collate "C", created_at, id);
create index artifacts_blob_idx on collab.artifacts (workspace_id, sha256);

create table collab.artifact_usage (
  workspace_id uuid primary key references collab.workspaces (id) on delete cascade,
  stored_bytes bigint not null default 0,
  max_artifact_bytes bigint not null default 33554432,
  max_stored_bytes bigint not null default 10737418240,
  constraint artifact_usage_stored_bytes_positive check (stored_bytes >= 0),
  constraint artifact_usage_max_artifact_bytes_range check (max_artifact_bytes between 1 and 67108864),
  constraint artifact_usage_max_stored_bytes_range check (max_stored_bytes between 1 and 1099511627776)
);
comment on table collab.artifact_usage is 'Artifact quotas and usage per workspace (no row: the defaults, nothing stored): bytes of the workspace''s blobs, counted once per sha256.';
comment on column collab.artifact_usage.stored_bytes is 'Sum of the sizes of the workspace''s collab.artifact_blobs (kept by api.put_artifact and api.delete_artifact).';
comment on column collab.artifact_usage.max_artifact_bytes is 'Largest artifact api.put_artifact accepts (default 32 MiB; at most 64 MiB, the transport''s ceiling): PT413 artifact_too_large.';
comment on column collab.artifact_usage.max_stored_bytes is 'Most bytes of blobs the workspace may store (default 10 GiB): PT413 storage_quota_exceeded.';

alter table collab.artifact_blobs enable row level security;
alter table collab.artifacts enable row level security;
alter table collab.artifact_usage enable row level security;
grant select, insert, update, delete on collab.artifact_blobs, collab.artifacts, collab.artifact_usage to service_role;

create type api.artifact as (
  id bigint,
  job_id bigint,
  name text,
  media_type text,
  size bigint,
  sha256 text,
  metadata jsonb,
  created_by uuid,
  created_at timestamptz
);
comment on type api.artifact is 'An artifact as the api returns it (sha256 in hex).';
-- PostgREST (12+) answers a function returning this domain with the raw bytes when the
-- request accepts application/octet-stream (its media type handlers): api.download_artifact.
create domain api."application/octet-stream" as bytea;
comment on domain api."application/octet-stream" is 'Raw bytes: PostgREST serves a function returning it as application/octet-stream.';

-- The Edge Functions' per-caller quota (api.function_quota): rate limits of action
-- `functions`, per workspace or per signed-in user (scope `user`: one bucket per caller).
alter table collab.rate_limits drop constraint rate_limits_action_valid;
alter table collab.rate_limits add constraint rate_limits_action_valid check (action in (
  'enqueue',    -- jobs enqueued (a batch costs one token per job)
  'claim',      -- claim calls
  'functions'   -- Edge Function calls (api.function_quota, one token per call)
));
alter table collab.rate_limits drop constraint rate_limits_scope_valid;
alter table collab.rate_limits add constraint rate_limits_scope_valid check (scope in (
  'workspace',  -- one budget for the whole workspace
  'executor',   -- one budget per executor (claim only)
  'user'        -- one budget per signed-in caller (functions only)
));
alter table collab.rate_limits add constraint rate_limits_user_functions_only check (scope <> 'user' or action = 'functions');
------------------------------------------------------------------------------------------
-- LLM routing (revision 0008, issue 15).
------------------------------------------------------------------------------------------
-- Routes: one provider/model per service (e.g. "chat") and workspace, ranked by
-- api.rank_routes. Outcomes are append-only (no row is ever updated, so concurrent callers of
-- one route never wait on each other); estimates and cooldowns are computed from recent ones.
create table collab.routes (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  service text not null,
  name text not null,
  provider text not null,
  model text not null,
  base_url text,
  input_price double precision not null default 0,
  output_price double precision not null default 0,
  context_window integer not null default 8192,
  capabilities text[] not null default '{}',
  tags text[] not null default '{}',
  region text,
  data_collection text not null default 'deny',
  weight double precision not null default 1,
  rpm integer,
  tpm integer,
  secret_name text,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, service, name),
  constraint routes_prices_valid check (input_price >= 0 and output_price >= 0),
  constraint routes_context_window_range check (context_window between 1 and 100000000),
  constraint routes_data_collection_valid check (data_collection in (
    'deny',   -- the provider does not store or train on prompts
    'allow'   -- the provider may store prompts (excluded by a request with data_collection=deny)
  )),
  constraint routes_weight_range check (weight >= 0 and weight <= 1000000),
  constraint routes_limits_positive check (coalesce(rpm, 1) > 0 and coalesce(tpm, 1) > 0)
);
comment on table collab.routes is 'LLM routes per workspace and service: provider, model, OpenAI-compatible base_url, prices in USD per million input/output tokens, context window, capabilities (tools, json, vision), tags, region, data-collection policy, weight, rpm/tpm limits and the vault secret holding its key (api.put_route, api.rank_routes).';

create table collab.routing_policies (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  service text not null,
  strategy text not null default 'latency',
  settings jsonb not null default '{}',
  updated_at timestamptz not null default now(),
  primary key (workspace_id, service),
  constraint routing_policies_strategy_valid check (strategy in (
    'latency',         -- lowest mean latency of the recent window; ties within buffer chosen uniformly
    'cost',            -- lowest estimated cost of the request
    'usage',           -- least used in the current minute (calls, relative to rpm/tpm when set)
    'weighted',        -- weighted shuffle by route weight
    'price_weighted'   -- weighted shuffle by the inverse square of price (OpenRouter's default)
  )),
  constraint routing_policies_settings_object check (jsonb_typeof(settings) = 'object')
);
comment on table collab.routing_policies is 'The ranking strategy of a service and its settings (latency window, tie buffer, cooldown rules); no row: strategy latency with the defaults of docs/routing.md.';

create table collab.routing_snapshots (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  id bigint generated always as identity,
  service text not null,
  strategy text not null,
  mode text not null,
  request jsonb not null,
  candidates jsonb not null,
  chosen text,
  created_at timestamptz not null,
  primary key (workspace_id, id)
);
comment on table collab.routing_snapshots is 'One row per api.rank_routes call: every candidate with rank, score, cost and latency estimates, error rate, cooldown_until and the reason an excluded one was excluded.';
create index routing_snapshots_service_idx on collab.routing_snapshots (workspace_id, service, id desc);
-- Retention (collab.purge_routing) deletes the oldest rows first, through this index.
create index routing_snapshots_created_idx on collab.routing_snapshots (created_at);

create table collab.route_outcomes (
  workspace_id uuid not null,
  id bigint generated always as identity,
  service text not null,
  route text not null,
  snapshot_id bigint not null,
  status integer not null,
  ok boolean not null,
  latency_ms double precision,
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  cost double precision,
  error text,
  cooldown_until timestamptz,
  created_at timestamptz not null,
  primary key (workspace_id, id)
);
comment on table collab.route_outcomes is 'Append-only: one row per call of a route (api.record_route_outcome), never updated; latency and error estimates and cooldowns (cooldown_until) are read from the recent rows of a route.';
create index route_outcomes_route_idx on collab.route_outcomes (workspace_id, service, route, created_at desc);
create index route_outcomes_cooldown_idx on collab.route_outcomes (workspace_id, service, route, cooldown_until)
  where cooldown_until is not null;
-- Retention (collab.purge_routing) deletes the oldest rows first, through this index.
create index route_outcomes_created_idx on collab.route_outcomes (created_at);

-- Per-route call counters in 10-second buckets, one row per bucket, route and writing backend
-- (pg_backend_pid): api.record_route_outcome adds to its own backend's row, so no two callers
-- ever wait on one row (no hot row), and api.rank_routes reads a few rows per route for its
-- last-minute and error-window figures instead of every outcome. collab.reap deletes buckets
-- older than two hours.
create table collab.route_counters (
  workspace_id uuid not null,
  service text not null,
  bucket timestamptz not null,
  route text not null,
  writer integer not null,
  calls integer not null default 0,
  failures integer not null default 0,
  tokens bigint not null default 0,
  primary key (workspace_id, service, bucket, route, writer)
);
comment on table collab.route_counters is 'Calls, failures (not ok, except 400/413/422) and tokens per route in 10-second buckets, one row per writing backend (no hot row); api.rank_routes sums the buckets of its windows, the oldest one pro rata.';
create index route_counters_bucket_idx on collab.route_counters (bucket);

alter table collab.routes enable row level security;
alter table collab.routing_policies enable row level security;
alter table collab.routing_snapshots enable row level security;
alter table collab.route_outcomes enable row level security;
alter table collab.route_counters enable row level security;
grant select, insert, update, delete on collab.routes, collab.routing_policies,
  collab.routing_snapshots, collab.route_outcomes, collab.route_counters to service_role;
------------------------------------------------------------------------------------------
-- The key vault (revision 0008, issue 15).
------------------------------------------------------------------------------------------
-- pgcrypto (aes256 PGP symmetric encryption, HMAC-SHA256) in schema extensions, where
-- Supabase keeps it. The master key is in no table: see docs/vault.md.
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;

create table collab.vault_settings (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  mode text not null default 'production',
  max_versions integer not null default 10,
  recovery_days integer not null default 30,
  updated_at timestamptz not null default now(),
  primary key (workspace_id),
  constraint vault_settings_mode_valid check (mode in (
    'production',   -- expired, missing or tampered keys are refused and never ranked
    'development'   -- an expired key is read with a warning; routes without a valid key still rank
  )),
  constraint vault_settings_max_versions_range check (max_versions between 1 and 100),
  constraint vault_settings_recovery_days_range check (recovery_days between 7 and 30)
);
comment on table collab.vault_settings is 'Vault settings of a workspace (api.configure_vault): mode, versions kept per secret, recovery window of a soft delete in days; no row: production, 10, 30.';

create table collab.secrets (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  name text not null,
  description text,
  version integer not null default 0,
  deleted_at timestamptz,
  recoverable_until timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, name),
  constraint secrets_deleted_consistent check ((deleted_at is null) = (recoverable_until is null))
);
comment on table collab.secrets is 'A named secret of a workspace: its latest version number (check-and-set), and deleted_at/recoverable_until while soft-deleted (api.delete_secret, api.restore_secret).';
-- collab.reap destroys the soft-deleted secrets whose recovery window has passed
create index secrets_recoverable_idx on collab.secrets (recoverable_until) where recoverable_until is not null;

create table collab.secret_versions (
  workspace_id uuid not null,
  name text not null,
  version integer not null,
  label text,
  ciphertext bytea not null,
  ciphertext_mac bytea not null,
  checksum bytea not null,
  key_fingerprint bytea not null,
  expires_at timestamptz,
  created_at timestamptz not null,
  created_by text not null,
  primary key (workspace_id, name, version),
  foreign key (workspace_id, name) references collab.secrets (workspace_id, name) on delete cascade,
  constraint secret_versions_label_valid check (label in (
    'current',   -- what a reader gets by default
    'previous'   -- the version current before the last rotation (readable during a roll-over)
  ))
);
comment on table collab.secret_versions is 'Versions of a secret: pgp_sym_encrypt(aes256) ciphertext, an HMAC over it (checked before decrypting), a keyed checksum binding workspace, name, version and plaintext (checked after), the fingerprint of the master key that encrypted it, expiry; labels current/previous.';
create unique index secret_versions_label_idx on collab.secret_versions (workspace_id, name, label) where label is not null;

create table collab.secret_audit (
  workspace_id uuid not null,
  id bigint generated always as identity,
  name text not null,
  version integer,
  action text not null,
  outcome text not null,
  reason text,
  actor text not null,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  constraint secret_audit_action_valid check (action in (
    'read',      -- api.read_secret
    'write',     -- api.put_secret creating a secret
    'rotate',    -- api.put_secret adding a version to an existing secret
    'delete',    -- api.delete_secret (soft)
    'restore',   -- api.restore_secret
    'destroy',   -- api.delete_secret(destroy => true)
    'rewrap'     -- api.rewrap_secrets (master key rotation)
  )),
  constraint secret_audit_outcome_valid check (outcome in (
    'ok',        -- done
    'warned',    -- done with a warning (development mode: expired)
    'denied'     -- refused; the refusal is returned, not raised, so this row commits
  ))
);
comment on table collab.secret_audit is 'Append-only audit of the vault: one row per read, write, rotation, delete, restore, destroy and denied read. Only the owner of collab can update or delete rows (no role is granted either).';
create index secret_audit_name_idx on collab.secret_audit (workspace_id, name, id desc);

alter table collab.vault_settings enable row level security;
alter table collab.secrets enable row level security;
alter table collab.secret_versions enable row level security;
alter table collab.secret_audit enable row level security;
grant select, insert, update, delete on collab.vault_settings, collab.secrets,
  collab.secret_versions to service_role;
grant select on collab.secret_audit to service_role;
------------------------------------------------------------------------------------------
-- Search (revision 0008, issue 16).
------------------------------------------------------------------------------------------
create table collab.search_collections (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  name text not null,
  document_count bigint not null default 0,
  total_length double precision not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, name),
  constraint search_collections_name_valid check (name ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$' and length(name) <= 100),
  constraint search_collections_counts_valid check (document_count >= 0 and total_length >= 0)
);
comment on table collab.search_collections is 'Search collections of a workspace (issue 16) with the collection statistics BM25 needs: document_count (N) and total_length (N x the mean weighted length), kept by collab.search_index in the transaction that indexes.';
comment on column collab.search_collections.total_length is 'Sum of the weighted lengths (collab.search_documents.length) of the collection''s documents.';

create table collab.search_documents (
  workspace_id uuid not null,
  collection text not null,
  id bigint generated always as identity,
  key text not null,
  title text not null default '',
  path text not null default '',
  body text not null default '',
  metadata jsonb not null default '{}',
  length real not null,
  terms text[] not null default '{}',
  indexed_at timestamptz not null default now(),
  primary key (workspace_id, id),
  constraint search_documents_key_unique unique (workspace_id, collection, key),
  foreign key (workspace_id, collection) references collab.search_collections (workspace_id, name) on delete cascade,
  constraint search_documents_key_valid check (length(key) between 1 and 500)
);
comment on table collab.search_documents is 'Indexed documents (issue 16): one row per key and collection, with its fields as given; written only through collab.search_index (api.index_documents, text artifacts).';
comment on column collab.search_documents.key is 'The caller''s identifier of the document (a corpus id, an artifact''s path): indexing the same key again replaces the document.';
comment on column collab.search_documents.terms is 'The terms it has postings for (collab.search_terms at indexing time): replacing or dropping the document deletes exactly those postings, by primary key.';
comment on column collab.search_documents.length is 'Weighted length: the sum of the field-weighted term frequencies of its postings (BM25''s document length).';
-- The body and the term list are compressed with lz4 (revision 0010): a third of the time
-- pglz took to store a large page while indexing, for about 12 % more bytes. A server built
-- without lz4 keeps pglz.
do $$
begin
  alter table collab.search_documents alter column body set compression lz4,
                                      alter column terms set compression lz4;
exception when feature_not_supported then
  raise notice 'lz4 is not available on this server: collab.search_documents keeps pglz';
end
$$;

create table collab.search_postings (
  workspace_id uuid not null,
  collection text not null,
  term text not null,
  document_id bigint not null,
  frequency real not null,
  length real not null,
  primary key (workspace_id, collection, term, document_id) include (frequency, length)
);
comment on table collab.search_postings is 'The inverted index (issue 16): one row per term and document, with the field-weighted term frequency and the document''s weighted length, so a query reads no document row before its top k; the document frequencies of words are in collab.search_vocabulary, a word pair''s is the number of its postings.';

create table collab.search_vocabulary (
  workspace_id uuid not null,
  collection text not null,
  term text not null,
  document_frequency bigint not null,
  primary key (workspace_id, collection, term),
  constraint search_vocabulary_frequency_valid check (document_frequency >= 0)
);
comment on table collab.search_vocabulary is 'Document frequency of every word of a collection (issue 16): the number of its documents with a posting for the word, kept by collab.search_index (under the collection row''s lock) so that BM25''s idf is one primary-key read per query word. Word pairs (terms with a space) are not kept here: collab.search_rank counts their postings (revision 0010).';

alter table collab.search_collections enable row level security;
alter table collab.search_documents enable row level security;
alter table collab.search_postings enable row level security;
alter table collab.search_vocabulary enable row level security;
grant select, insert, update, delete on collab.search_collections, collab.search_documents,
  collab.search_postings, collab.search_vocabulary to service_role;

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

-- collab.idempotency_keys replaces the unique index jobs_idempotency_key_idx; and now that
-- every terminal state moves, collab.jobs cannot hold a finished job (a stray one would
-- escape the history readers).
alter table collab.jobs add constraint jobs_not_finished check (status in ('queued', 'running'));
comment on constraint jobs_not_finished on collab.jobs is 'Finished jobs live in collab.job_history (revision 0009).';

-- workspace_id in every key (revision 0009, issue 18): the tables that keyed on id alone key
-- on (id, workspace_id), so that Citus can distribute every workspace-scoped table by
-- workspace_id (the distribution column must be part of every primary key and unique
-- constraint, at any position; id first keeps lookups by id on the index). The tables
-- without a workspace_id (workspaces, platform_limits, metrics_rollup_state) are reference
-- tables there. docs/scaling.md; tests/sql/565_keys_hold_workspace.sql checks the catalog.
-- (collab.job_events, which revision 0009 keyed on (id, workspace_id) too, is keyed below.)
alter table collab.jobs drop constraint jobs_pkey, add constraint jobs_pkey primary key (id, workspace_id);
alter table collab.executors drop constraint executors_pkey, add constraint executors_pkey primary key (id, workspace_id);
alter table collab.metrics_signals drop constraint metrics_signals_pkey,
  add constraint metrics_signals_pkey primary key (id, workspace_id);

-- One ordering index for the event stream (revision 0012, issue 18): the primary key of
-- collab.job_events is the stream's order, (xid, id), with workspace_id last, so each event
-- writes two btree entries (this key and job_events_job_idx for a job's timeline) instead of
-- three and a BRIN entry. Every reader finds events by (xid, id) or by job: the stream
-- (api.events_since, its cursor check included), retention (collab.purge_events), the
-- metrics rollup; get_job and the metrics' per-job lookups by job_events_job_idx.
alter table collab.job_events drop constraint job_events_pkey,
  add constraint job_events_pkey primary key (xid, id, workspace_id);

-- The event stream is analyzed from a sample of 3,000 rows, not 30,000 (revision 0013, issue
-- 18): ANALYZE holds a snapshot while it reads its sample, and while it does no claimed job's
-- entry in the claim index can be marked dead. Over 2.5 million events it held it 1 to 1.5 s
-- once a minute in the soak, and the claim index grew at each; its readers go by index.
alter table collab.job_events
  alter column id set statistics 10, alter column workspace_id set statistics 10,
  alter column job_id set statistics 10, alter column type set statistics 10,
  alter column queue set statistics 10, alter column job_type set statistics 10,
  alter column attempt set statistics 10, alter column executor_id set statistics 10,
  alter column data set statistics 10, alter column xid set statistics 10,
  alter column created_at set statistics 10;

------------------------------------------------------------------------------------------
-- The event stream, partitioned by xid (revision 0029, issue 18), so that retention drops
-- whole partitions instead of deleting rows. The key is the stream's order, (xid, id,
-- workspace_id), and xid its first column: a range of xids is a stretch of the stream, and a
-- partition holds whole transactions, so dropping the oldest partitions removes a prefix of
-- the stream, as the row deletes did (api.events_since still tells an expired cursor from a
-- live one). collab.reap keeps a partition ahead of the next xid, each one sized to hold
-- about a day of transactions at the recent rate (collab.ensure_event_partitions), and the
-- default partition takes any row no range covers until upkeep hands it to a new partition,
-- so an insert never fails for want of one. A partitioned table has no identity column in
-- Postgres 15: id comes from its own sequence. On a new database every event starts in the
-- default partition; the first reap makes the first range (tests/sql/208).
------------------------------------------------------------------------------------------
alter table collab.job_events alter column id drop identity if exists;
alter table collab.job_events rename to job_events_default;
alter index collab.job_events_pkey rename to job_events_default_pkey;
alter index collab.job_events_job_idx rename to job_events_default_job_idx;
create sequence collab.job_events_id_seq;
create table collab.job_events (
  id bigint not null default nextval('collab.job_events_id_seq'),
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
    end),
  constraint job_events_pkey primary key (xid, id, workspace_id)
) partition by range (xid);
alter sequence collab.job_events_id_seq owned by collab.job_events.id;
comment on table collab.job_events is 'One row per job state change (written by trigger in the same transaction) or executor presence change. Append-only. Partitioned by ranges of xid (collab.event_partitions); retention drops the oldest (collab.purge_events).';
comment on column collab.job_events.xid is 'Writing transaction: lets readers hand out only events below the snapshot xmin (gap-free cursors).';
create index job_events_job_idx on collab.job_events (job_id, id);
alter table collab.job_events attach partition collab.job_events_default default;
comment on table collab.job_events_default is 'Rows of collab.job_events that no xid range covers (on a new database, the events before the first reap; later, those written while no reap ran for half a day). collab.ensure_event_partitions starts each range above every xid already taken, so they stay here, and collab.purge_events deletes them with the range above them.';
alter table collab.job_events
  alter column id set statistics 10, alter column workspace_id set statistics 10,
  alter column job_id set statistics 10, alter column type set statistics 10,
  alter column queue set statistics 10, alter column job_type set statistics 10,
  alter column attempt set statistics 10, alter column executor_id set statistics 10,
  alter column data set statistics 10, alter column xid set statistics 10,
  alter column created_at set statistics 10;
alter table collab.job_events enable row level security;
grant select, insert, update, delete on collab.job_events to service_role;
grant usage on sequence collab.job_events_id_seq to service_role;
-- Supabase Realtime's Postgres Changes cannot carry a partitioned table: it decodes with
-- wal2json, which names each row by its partition and keeps only the tables that
-- pg_publication_tables lists, the root alone when publish_via_partition_root is on, the
-- partitions alone when it is off, while subscriptions name the root. So the stream leaves
-- the publication (the old table, now a partition, included) and the publication's options
-- stay the project's own; Broadcast (collab.enable_realtime_broadcast) and api.events_since
-- carry the stream (docs/realtime.md, tests/py/migration/test_realtime_publication.py).
do $realtime$
declare
  member regclass;
begin
  for member in
    select r.prrelid::regclass
      from pg_publication_rel r join pg_publication p on p.oid = r.prpubid
     where p.pubname = 'supabase_realtime'
       and r.prrelid in (select t.relid from pg_partition_tree('collab.job_events') t)
  loop
    execute format('alter publication supabase_realtime drop table %s', member);
  end loop;
end
$realtime$;

-- The history is analyzed from a sample of 3,000 rows, not 30,000 (revision 0030, issue 18),
-- as the event stream is (revision 0013): ANALYZE holds a snapshot while it reads its sample,
-- and while it does no claimed job's entry in the claim index can be marked dead. At 4,500
-- jobs a second autovacuum analyzed the day's partition every 30 to 40 s and held its
-- snapshot up to 1.9 s. Set on the parent, the targets reach its partitions; a new day
-- partition gets them from collab.ensure_job_history_partitions. Its readers go by index.
alter table collab.job_history
  alter column id set statistics 10, alter column workspace_id set statistics 10,
  alter column queue set statistics 10, alter column type set statistics 10,
  alter column payload set statistics 10, alter column priority set statistics 10,
  alter column status set statistics 10, alter column last_event set statistics 10,
  alter column run_at set statistics 10, alter column attempt set statistics 10,
  alter column max_attempts set statistics 10, alter column idempotency_key set statistics 10,
  alter column executor_id set statistics 10, alter column lease_token set statistics 10,
  alter column lease_seconds set statistics 10, alter column lease_expires_at set statistics 10,
  alter column cancel_requested set statistics 10, alter column progress set statistics 10,
  alter column progress_message set statistics 10, alter column result set statistics 10,
  alter column last_error set statistics 10, alter column created_at set statistics 10,
  alter column claimed_at set statistics 10, alter column finished_at set statistics 10;

-- The hot table is analyzed from a sample of 3,000 rows, not 30,000 (revision 0035, issue 18),
-- as the history and the event stream are: ANALYZE holds a snapshot while it reads its
-- sample, and while it does no claimed job's entry in the claim index can be marked dead.
-- collab.jobs holds the backlog; autovacuum analyzes it after 5 % of it changed. The same
-- ANALYZE of 10^6 live jobs took 150 to 157 ms at the default target against 14 to 15 ms at
-- 10, with every page cached (docs/bench.md); a backlog read from disk pays a page read a
-- sampled row. Its readers go by index (tests/sql/520 plans every filter of api.list_jobs).
do $jobs_statistics$
begin
  execute (select 'alter table collab.jobs '
                  || string_agg(format('alter column %I set statistics 10', a.attname), ', ' order by a.attnum)
             from pg_catalog.pg_attribute a
            where a.attrelid = 'collab.jobs'::regclass and a.attnum > 0 and not a.attisdropped);
end
$jobs_statistics$;
