"""One idle worker of a lane claims on a wake-up: api.wait_turn and api.end_turn (issue 18).

A job's wake-up reaches every connection listening on its workspace's channel, and each idle
worker of its queues claimed: with k idle workers, k claims a job, k - 1 of which found
nothing (docs/scaling.md, "Many idle workers"). api.wait_turn lets one session at a time hold
the turn of a workspace and a set of queues (a session-level advisory lock); the workers wait
for it on their listen connections, whose notifications Postgres holds back meanwhile, and
only the one holding it claims on a wake-up. api.end_turn gives it up. No table changes.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0026.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 00:30:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0027"
PREVIOUS_SNAPSHOT = "0026"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
