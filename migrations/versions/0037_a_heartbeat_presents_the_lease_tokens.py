"""A heartbeat presents the lease tokens of the jobs it names: api.heartbeat.

PRODUCT.md's fencing rule has heartbeat, progress, complete and fail present the job's current
lease token; the heartbeat took the executor and the job ids only. api.heartbeat takes
lease_tokens, one per job_id in the same order: a job named with a token that is not its current
one (its lease expired and the job moved on, perhaps to a new claim by the same executor) is
lost, and that pair changes nothing (no lease extended, no pending cancel applied). Before, a
stale attempt's heartbeat extended the new attempt's lease when the same executor had claimed
the job again, and the stale attempt was not told it had lost the job until it tried to finish
it. Counts that differ, or a null token, are PT400 invalid_input naming lease_tokens. Without
lease_tokens, as 0036. Code only, no table changes.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0036.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-08 03:00:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0037"
PREVIOUS_SNAPSHOT = "0036"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
