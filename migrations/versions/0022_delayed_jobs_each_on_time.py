"""Each of a statement's delayed jobs starts when due, not only its earliest (issue 18).

Since 0020 a statement whose jobs were due later (a delay, a run_at ahead, a retry's backoff)
sent one notice naming when the earliest of them was due: a batch that scheduled jobs at many
times got its first on time and the rest at the workers' poll. The notice now names the
distinct due times of the statement's later jobs (`@<ms>[,<ms>...] <queues>`, ascending, the
earliest 64), and counts them from the statement's time instead of the transaction's, so a
long transaction that enqueues early and commits late no longer wakes the workers late by the
rest of the transaction. collab.due_in_ms is new; collab.notify_jobs_later takes the
milliseconds; the job triggers build them in the same pass.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0021.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 15:40:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0022"
PREVIOUS_SNAPSHOT = "0021"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
