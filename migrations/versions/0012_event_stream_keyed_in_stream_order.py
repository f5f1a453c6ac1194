"""One ordering index for the event stream: job_events' primary key is (xid, id, workspace_id) (issue 18).

Each event wrote three btree entries and a BRIN entry: the primary key (id, workspace_id), the
stream's (xid, id), the job's timeline (job_id, id), and the BRIN on created_at. Nothing reads
an event by id alone or by created_at: the stream, its cursor check and retention read
(xid, id), the metrics rollup reads xid ranges, get_job and the metrics' per-job lookups read
(job_id, id). The primary key becomes the stream's order, (xid, id, workspace_id) (workspace_id
stays in it for Citus, tests/sql/565), and the separate (xid, id) index and the BRIN go: two
btree entries per event. The code changes with it: api.events_since finds a cursor's event by
(xid, id), collab.purge_events deletes by (xid, id).

Online, in this order (tests/py/migration/test_online_0012.py runs it on 2 * 10^6 events under
a claimer whose lock_timeout is 1 s):

1. The code, under the locks every code revision takes (collab.migration_ops.lock_code_tables,
   tries of 150 ms), held for the reset only. The new code reads by (xid, id), which the old
   (xid, id) index serves until the new key exists.
   COMMIT (alembic's transaction ends here: an autocommit block follows).
2. The new key's index is built with CREATE UNIQUE INDEX CONCURRENTLY (writers go on; an
   invalid index left by an interrupted build is dropped and built again:
   collab.migration_ops.create_index_concurrently).
3. The key is swapped under a short ACCESS EXCLUSIVE lock of collab.job_events, taken in tries
   of 150 ms (collab.migration_ops.swap_primary_key): ALTER TABLE ... ADD PRIMARY KEY USING INDEX only records the index as the key,
   and the old key's index goes with its constraint.
4. The (xid, id) index and the BRIN go with DROP INDEX CONCURRENTLY.

Down: the same steps backwards (the (xid, id) index, the BRIN and the old key built
concurrently, the key swapped back under a short lock), then the code of 0011.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:00:00.000000
"""

from __future__ import annotations

from alembic import op

from collab.migration_ops import (
    apply_snapshot,
    create_index_concurrently,
    execute_script,
    lock_code_tables,
    reset_code,
    swap_primary_key,
)

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0012"
PREVIOUS_SNAPSHOT = "0011"


NEW_KEY = "create unique index concurrently if not exists {name} on collab.job_events (xid, id, workspace_id)"
OLD_KEY = (
    "create unique index concurrently if not exists {name} on collab.job_events (id, workspace_id)"
)
STREAM = "create index concurrently if not exists {name} on collab.job_events (xid, id)"
BRIN = "create index concurrently if not exists {name} on collab.job_events using brin (created_at)"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)
    with op.get_context().autocommit_block():
        create_index_concurrently("job_events_stream_key", NEW_KEY)
        swap_primary_key(revision, "job_events", "job_events_stream_key", "its key was not changed")
        execute_script("drop index concurrently if exists collab.job_events_stream_idx")
        execute_script("drop index concurrently if exists collab.job_events_created_brin")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        create_index_concurrently("job_events_stream_idx", STREAM)
        create_index_concurrently("job_events_created_brin", BRIN)
        create_index_concurrently("job_events_id_workspace_key", OLD_KEY)
        swap_primary_key(
            revision, "job_events", "job_events_id_workspace_key", "its key was not changed back"
        )
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
