"""The hot path's plans keep to their indexes whatever the size of collab.jobs (issue 18).

api.claim and api.complete_batch run with generic plans only, made at a session's first call
and kept until collab.jobs' statistics change. On a fresh database that first call meets a
table of a few pages, and a burst of 800 jobs/s offered to the Python worker fell to 95
completions/s within a minute, before the first autovacuum came: its plans read the whole
table (sequential scans in the claim's UPDATE, the batch's row locks and its lookups), dead
rows and all, or walked the workspace's jobs in jobs_list_status_idx to find a batch of
them. Now:

- api.claim, api.complete_batch and api.heartbeat turn sequential scans off (and bitmap
  scans, heartbeat too: its bitmap scan of jobs_running_executor_idx read every dead entry of
  the executor's finished jobs; an index scan marks them dead as it passes);
- rows found by primary key test their workspace as `(x.workspace_id = ws) is true`, which no
  index can serve, so that the primary key is the only index for the lookup;
- api.complete_batch tells lease_lost from job_not_found with one primary-key read for an item
  not completed, instead of a join over collab.jobs for every batch.

Code only. Online: the switch takes its locks as 0009's and 0010's do (all at once, in tries
of 150 ms; collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0010.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:00:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0011"
PREVIOUS_SNAPSHOT = "0010"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
