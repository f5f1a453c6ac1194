"""The claim mark ends when the cleanup horizon passes it; the event stream is analyzed from a small sample (issue 18).

The soak (10 minutes at 2,300 to 3,700 jobs/s) grew the claim index from 1.32 to 11.65 MB.
Two causes, both a cleanup horizon held back while claims went on, so that the entries of the
jobs claimed meanwhile could not be marked dead, and full pages at the tail of the index split
instead of having them deleted:
- api.claim kept its claim mark (0012) for a second whatever the horizon did. A long walk now
  and then, with nothing held open, set one, and the entries behind it were read by nobody.
  The mark now records the xid of the claim that set it and ends as soon as the horizon
  (collab.cleanup_horizon(), new) passes that xid; and it is set only by a second long walk
  while the horizon has not passed the first one's xid (collab.claim_walk), since a walk
  over entries nobody had read since they died is long too, and marks them dead as it goes.
  Both ask collab.horizon_held_since(xid) (new), which reads the session's own snapshot
  first (0.2 us) and the other sessions' only when that does not settle it (65 us).
- autovacuum's ANALYZE of collab.job_events (2.5 million rows in the soak) read a sample of
  30,000 rows and held its snapshot 1 to 1.5 s, once a minute. Its columns are analyzed from
  3,000 rows (statistics target 10): the same ANALYZE took 35 to 49 ms instead of 450 to
  525 ms. Every reader of job_events finds its rows by index ((xid, id), (job_id, id)).

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only; the statistics
targets are catalog updates under the lock collab.job_events is already held in.
Down: the code of 0012 and the default statistics target.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

from alembic import op

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0013"
PREVIOUS_SNAPSHOT = "0012"

EVENT_COLUMNS = (
    "id", "workspace_id", "job_id", "type", "queue", "job_type", "attempt", "executor_id",
    "data", "xid", "created_at",
)  # fmt: skip


def statistics(target: int) -> str:
    return "alter table collab.job_events " + ", ".join(
        f"alter column {c} set statistics {target}" for c in EVENT_COLUMNS
    )


def upgrade() -> None:
    lock_code_tables(revision, also=("collab.job_events",))
    reset_code()
    apply_snapshot(SNAPSHOT)
    op.execute(statistics(10))


def downgrade() -> None:
    lock_code_tables(revision, also=("collab.job_events",))
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
    op.execute(statistics(-1))
