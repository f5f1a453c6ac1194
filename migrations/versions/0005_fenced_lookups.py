"""Fenced lookups by primary key: complete, complete_batch, fail, progress and the lease release
find their job by id whatever the planner thinks of the running jobs (code only).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 19:18:33.595256
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, reset_code

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0005"
PREVIOUS_SNAPSHOT = "0004"


def upgrade() -> None:
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
