"""api.claim starts fewer statements and plan nodes at every call (issue 18).

A claim's fixed cost is the start-up of each statement it runs, not the rows it reads. The
names a call gives are now checked by a loop of simple expressions instead of a query with an
aggregate; the open queues and whether any named queue has a concurrency limit are read in
one statement, without a sorted aggregate; the loop over limited queues runs only when there
is one and the open queues left room; and a claim from one open queue (a worker's usual
claim) reads its jobs straight from the claim index instead of through the lateral join,
memoize node and final sort of the several-queue form. Same results, same locks, same errors
(tests/sql/194, 120-122, 532, 537, 541).

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0015.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 14:00:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0016"
PREVIOUS_SNAPSHOT = "0015"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
