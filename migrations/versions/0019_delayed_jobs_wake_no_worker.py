"""An enqueue of jobs whose run_at is ahead wakes no worker (issue 18).

collab.jobs_after_insert notified `collab_jobs:<workspace_id>` with the queues of every new
job, due or not, so each idle worker on those queues claimed at once and found nothing: k
idle workers, k empty claims for every delayed enqueue (docs/scaling.md, "Many idle
workers"). It now names only the queues of the jobs due now, and sends no worker wake-up when
none is; the stream's wake-up is unchanged. collab.jobs_after_update already notified on that
rule (a retry whose backoff is ahead wakes no worker); the workers' poll finds both when due.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0018.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 11:10:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0019"
PREVIOUS_SNAPSHOT = "0018"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
