"""Security hardening (issue 19): bounded claims without advisory locks, a safe search_path in
every SECURITY DEFINER function, invitations, operator limits, per-workspace wake-ups.

Each block of DDL below stands, with the same text, in sql/schema.sql.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:40:13.030150
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, reset_code

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0007"
PREVIOUS_SNAPSHOT = "0006"

# Temporary objects are how a caller shadows a type inside a SECURITY DEFINER function
# (docs/security.md). Where the migrating role owns the database, nobody but it may create
# them; on a database it does not own (Supabase's `postgres`) the operator decides.
REVOKE_TEMP = r"""
do $temp$
begin
  if pg_catalog.pg_has_role(current_user,
       (select d.datdba from pg_catalog.pg_database d where d.datname = current_database()), 'MEMBER') then
    execute format('revoke temporary on database %I from public', current_database());
  end if;
end
$temp$;
"""

GRANT_TEMP_BACK = r"""
do $temp$
begin
  if pg_catalog.pg_has_role(current_user,
       (select d.datdba from pg_catalog.pg_database d where d.datname = current_database()), 'MEMBER') then
    execute format('grant temporary on database %I to public', current_database());
  end if;
end
$temp$;
"""

# -- tables: finding 9 (rate limits) --------------------------------------------------------
RATES_UP = r"""
update collab.rate_limits set rate_per_second = 0.001 where rate_per_second < 0.001;
alter table collab.rate_limits add constraint rate_limits_rate_range
  check (rate_per_second between 0.001 and 1000000);
"""
RATES_DOWN = r"""
alter table collab.rate_limits drop constraint if exists rate_limits_rate_range;
"""

# -- tables: finding 3 (invitations) ---------------------------------------------------------
INVITATIONS_UP = r"""
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
"""
INVITATIONS_DOWN = r"""
drop table if exists collab.invitations;
"""

# -- tables: findings 4, 5, 11 (operator limits, quotas) -------------------------------------
LIMITS_UP = r"""
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
"""
LIMITS_DOWN = r"""
comment on column collab.workspaces.max_queued_jobs is 'Most jobs the workspace may have queued at once; null: no quota. Checked by enqueue (a soft limit under concurrent enqueues).';
alter table collab.workspaces drop column if exists limit_queues, drop column if exists limit_executors,
  drop column if exists limit_stored_jobs, drop column if exists limit_payload_bytes,
  drop column if exists stored_jobs, drop column if exists stored_jobs_counted_at,
  drop column if exists stored_jobs_counted_id, drop column if exists stored_jobs_full;
drop table if exists collab.platform_limits;
"""


# -- roles: issue 13 (collab stack: PostgREST's login role) ---------------------------------
STACK_UP = r"""
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
"""
# Roles are cluster-wide and may serve other databases (as in 0001): authenticator stays.
STACK_DOWN = r"""
"""


def _run(*scripts: str) -> None:
    for script in scripts:
        if script.strip():
            execute_script(script)


def upgrade() -> None:
    reset_code()
    _run(RATES_UP, INVITATIONS_UP, LIMITS_UP, STACK_UP, REVOKE_TEMP)
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    reset_code()
    _run(GRANT_TEMP_BACK, STACK_DOWN, LIMITS_DOWN, INVITATIONS_DOWN, RATES_DOWN)
    apply_snapshot(PREVIOUS_SNAPSHOT)
