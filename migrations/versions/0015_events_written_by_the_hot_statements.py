"""The claim and the moves of api.complete and api.complete_batch write their own events (issue 18).

The events of the hot path were written by the AFTER triggers of collab.jobs and
collab.job_history, whose transition tables and statements cost more than the events they
wrote. api.claim's UPDATE and the moves of api.complete and api.complete_batch now insert
their events in the same statement (a data-modifying WITH), as the contract's bare writes
do, and wake the stream's subscribers themselves. Just before such a statement the function
sets collab.statement_events to the table it writes (transaction-local; it ends with the
function's call); the trigger of that table, fired at the end of the statement, clears it and
leaves the statement's rows alone; a writer that does not hold the table's privileges with
grant option, as its owner does (every api function; no caller), is refused (42501).
Every other writer and every other statement still gets its events from the triggers
(tests/sql/193).

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0014.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 10:40:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0015"
PREVIOUS_SNAPSHOT = "0014"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
