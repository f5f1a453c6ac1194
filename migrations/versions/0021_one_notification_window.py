"""One window for the wake-ups that must not notify on every transaction (issue 18, review).

collab.notify_events (the stream) and collab.notify_jobs_later (jobs due later, 0020) each
held a copy of the 50 ms per-session window. It is collab.notify_throttled now, and both are
one SQL expression the planner inlines into their callers, so each call is still the one
PL/pgSQL call. The queue list of the jobs channel's payloads (comma-separated, or empty when
it would not fit) is collab.queue_list, for collab.notify_jobs and collab.notify_jobs_later.
Same notifications, same windows.

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0020.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 14:40:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0021"
PREVIOUS_SNAPSHOT = "0020"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
