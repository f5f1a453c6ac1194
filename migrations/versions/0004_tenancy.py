"""Tenancy: workspace members with roles (owner, admin, member, viewer).

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
"""
    )
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    reset_code()
    execute_script("drop table if exists collab.members")
    apply_snapshot(PREVIOUS_SNAPSHOT)
