"""The statement's time on Collab's clock is one function, collab.statement_clock (issue 18).

Both job triggers count the delays they announce (collab.notify_jobs_later) from the
statement's time, collab.clock() plus the time since the transaction began (revision 0022),
and each wrote that expression itself. collab.statement_clock() holds it beside
collab.clock(); a SQL function without a SET clause, inlined where it is called. Same times,
same notifications.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0024.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 19:05:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0025"
PREVIOUS_SNAPSHOT = "0024"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
