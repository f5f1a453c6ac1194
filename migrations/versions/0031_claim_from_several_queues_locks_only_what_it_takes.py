"""A claim from several queues locks only the jobs it takes (issue 18).

api.claim over several queues read each queue's first max_jobs due jobs with FOR UPDATE SKIP
LOCKED, then kept the best max_jobs of them: the rest stayed locked until the claim's commit,
skipped by every other claimer meanwhile, and each lock wrote a WAL record (a claim of 32 from
10 queues held 288 jobs it did not take; 1.45x the WAL of a claim of 32 from one queue).
Now the candidates are read without a lock and only the first max_jobs of them, in the claim
order, that no other transaction holds are locked. When others held a candidate ahead of the
last one locked (or the claim came up short of its candidates) while a queue may have more due
jobs than its first max_jobs, the pick is made again as before and the best max_jobs of both
are taken, so the claim order holds. The one-queue claim is unchanged. Code only, no table
changes (tests/sql/199, tests/py/integration/test_claim_several_queues.py).

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0030.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 16:36:13.232394
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0031"
PREVIOUS_SNAPSHOT = "0030"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
