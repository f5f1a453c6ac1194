"""The `enqueued` events of a statement's jobs share one data value when the jobs do (issue 18).

An `enqueued` event's data is its job's priority and run_at, built per row by the events
trigger of collab.jobs with jsonb_build_object, which looks up how to convert each argument's
type at every call: 8 % of a batch of 1,000 jobs. The jobs of a batch usually share both (the
defaults), and the trigger now builds the value once for such a statement, in the one pass
over the new jobs that also checks their state; jobs that differ still get their own. Same
events, same data, same errors (tests/sql/198, 190, 191).

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0016.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 23:20:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0017"
PREVIOUS_SNAPSHOT = "0016"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
