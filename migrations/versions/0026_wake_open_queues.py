"""A wake-up names only the queues its workers can claim from (issue 18).

The job triggers woke the workers of every queue that got a job due now, paused or at its
concurrency limit too, and each idle worker then made a claim that found nothing: with four
workers on a paused queue, 3.2 to 3.4 such claims an enqueue. collab.wake_workers, which both
triggers now call, leaves those queues out of the wake-up (and sends none when none is left);
a resume or a raised limit wakes the workers as before (revision 0023), and the worker whose
report frees a place claims again.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0025.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 20:40:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0026"
PREVIOUS_SNAPSHOT = "0025"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
