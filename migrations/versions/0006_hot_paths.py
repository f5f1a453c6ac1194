"""Hot paths (code only): api.enqueue inserts the common call directly; the claim's lease expiry
scans jobs_running_lease_idx per queue; api.complete_batch runs on generic plans; api.heartbeat
touches only the jobs it locked first (no deadlock with complete_batch).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 00:13:06.137346
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, reset_code

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0006"
PREVIOUS_SNAPSHOT = "0005"


def upgrade() -> None:
    reset_code()
    # Table changes go here: execute_script("alter table collab.x ...")
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    reset_code()
    # Undo the table changes here.
    apply_snapshot(PREVIOUS_SNAPSHOT)
