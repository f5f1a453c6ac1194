"""Workers wake when a delayed job or a retry is due, not at their next poll (issue 18).

Since 0019 a job whose run_at is ahead (a delay, a run_at, a retry's backoff) woke no worker:
it started at the first poll after its run_at, up to poll_seconds late (1 s by default). The
job triggers now also send, per statement and workspace, `@<ms> <queues>` on
`collab_jobs:<workspace_id>` (collab.notify_jobs_later): the earliest of those jobs is due ms
milliseconds from the transaction's time, at most once per 50 ms per session and workspace
(a notifying commit is serialised with every other one). The Python workers wake themselves
then and claim.
collab.jobs_after_update finds the jobs that became runnable in one pass over the changed rows
(two before), and only in a statement that wrote events (a heartbeat's does not).

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0019.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 13:20:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0020"
PREVIOUS_SNAPSHOT = "0019"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
