"""A resumed queue, or one whose concurrency limit is raised, wakes its workers (issue 18).

A queue's jobs that could not be claimed (the queue paused, or at its concurrency limit)
became claimable when an admin resumed the queue or raised or removed its limit, but nothing
woke the workers for them: their enqueue's wake-up was long past, so they started at the
workers' next poll. collab.queues_after_update, a statement trigger on collab.queues (any
writer: api.resume_queue, api.configure_queue, a DBA's UPDATE), sends one wake-up per
workspace naming such queues that hold a job due now.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0022.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 16:00:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0023"
PREVIOUS_SNAPSHOT = "0022"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
