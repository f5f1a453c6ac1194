"""A heartbeat extends the leases of the jobs it names: api.heartbeat.

With job_ids (the workers send them, an empty array when they run nothing), a heartbeat
extends the leases of the executor's running jobs among them and no others. A job the executor
holds but does not name is one whose claim committed while the answer never reached the worker
(a connection cut after the commit, a call given up on): every heartbeat of the live worker
extended its lease, and the job stayed running, run by nobody, until the worker stopped. Its
lease now expires and the job is retried as any abandoned lease is. The named jobs are found
by primary key, so a heartbeat no longer reads the entries of every job the executor finished
while a snapshot is held open. Without job_ids (null), every lease, as before. Code only, no
table changes.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0035 (that of 0034).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-08 00:40:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0036"
PREVIOUS_SNAPSHOT = "0035"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
