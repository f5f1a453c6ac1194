"""One writer of a claim session's note: collab.session_note (review).

api.claim wrote its two session notes (collab.leases_checked, collab.claim_contended) with
two copies of the note's form, '<epoch>|<key>|<seconds>', that collab.session_note_fresh
reads. Both now write it through collab.session_note, inlined as the reader is: the same
notes, no call on the claim path (tests/sql/563). Code only, no table changes.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0033.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 20:30:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0034"
PREVIOUS_SNAPSHOT = "0033"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
