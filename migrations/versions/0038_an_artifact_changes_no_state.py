"""An artifact a job left changes no state: collab.check_invariants.

The invariant state_disagrees_with_last_event took a job's last event, progress aside, as the
one its status must follow from. api.put_artifact with a job_id writes an artifact_created event
to the job's stream, on a running job or a finished one, and that event changes no state: a job
whose last event was one was reported as a violation (by collab doctor, and by make fuzz with a
random seed). The invariant now skips artifact_created as it skips progress. Code only, no table
changes.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0037.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-08 04:50:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0038"
PREVIOUS_SNAPSHOT = "0037"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
