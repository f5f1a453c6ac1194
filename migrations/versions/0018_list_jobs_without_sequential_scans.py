"""api.list_jobs plans its pages without sequential scans (issue 18).

Every page of api.list_jobs has an index (tests/sql/520), but with the hot table or a day's
partition of the history small against its page count, the sampled statistics decided
between that index and a scan of the whole table: test 520 planned a sequential scan of
collab.jobs (status and type, queued) in one run of four with the same data, and of a history
partition (status and executor, dead) in a CI run. The function now runs with
enable_seqscan off, as api.claim and api.enqueue_batch do, and with JIT off (a plan that
still held a disabled scan would cost more than jit_above_cost). Same results.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0017.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 00:25:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0018"
PREVIOUS_SNAPSHOT = "0017"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
