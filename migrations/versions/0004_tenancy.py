"""Tenancy: workspace members with roles (owner, admin, member, viewer); rate limits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 17:20:37.793211
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, reset_code

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0004"
PREVIOUS_SNAPSHOT = "0003"


def upgrade() -> None:
    reset_code()
    execute_script(
        r"""
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
"""
    )
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    reset_code()
    execute_script(
        "alter table collab.workspaces drop column if exists max_payload_bytes,"
        " drop column if exists max_queued_jobs;"
        " drop index if exists collab.jobs_list_status_idx, collab.jobs_list_executor_idx;"
        " drop table if exists collab.rate_buckets, collab.rate_limits, collab.members"
    )
    apply_snapshot(PREVIOUS_SNAPSHOT)
