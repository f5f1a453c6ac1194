"""check_invariants: no job_without_events for a transaction a purge ended inside (issue 18).

collab.check_invariants reported a job without events as a violation when it was created at
or after the oldest job event kept. collab.purge_events removes the stream's oldest prefix in
batches and always keeps the newest event, so a purge can end inside one transaction's events;
that transaction's jobs share the oldest kept event's time, and those whose events went were
reported (bench/retention.py's test: 599 of 600 jobs of one batch). Now only jobs created after
that time are. Code only, no table changes.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0027.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 04:30:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0028"
PREVIOUS_SNAPSHOT = "0027"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
