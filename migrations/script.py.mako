"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, reset_code

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = ${repr(up_revision)}
PREVIOUS_SNAPSHOT = ${repr(down_revision)}


def upgrade() -> None:
    reset_code()
    # Table changes go here: execute_script("alter table collab.x ...")
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    reset_code()
    # Undo the table changes here.
    apply_snapshot(PREVIOUS_SNAPSHOT)
