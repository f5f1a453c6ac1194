"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, lock_code_tables, reset_code

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = ${repr(up_revision)}
PREVIOUS_SNAPSHOT = ${repr(down_revision)}


def upgrade() -> None:
    # The code switch waits for no call that holds one table while waiting for another, and
    # holds its locks to the end of the revision's transaction: keep that transaction short.
    lock_code_tables(revision)
    reset_code()
    # Table changes go here: execute_script("alter table collab.x ...")
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    # Undo the table changes here.
    apply_snapshot(PREVIOUS_SNAPSHOT)
