"""The history is analyzed from a small sample, as the event stream is (issue 18).

ANALYZE holds a snapshot while it reads its sample, and while it does, no claimed job's entry
in the claim index can be marked dead. Revision 0013 took the event stream's ANALYZE off the
soak's horizon (statistics target 10 on every column: 3,000 rows read instead of 30,000); at
4,500 jobs a second the one hold left was autovacuum's ANALYZE of the day's history partition,
every 30 to 40 s, each holding its snapshot up to 1.9 s (docs/bench.md). Every column of
collab.job_history gets statistics target 10: set on the parent, it reaches every partition,
and collab.ensure_job_history_partitions gives a new day partition the parent's targets
(Postgres gives it the default). The history's readers go by index (tests/sql/520 plans every
filter of api.list_jobs over 10^6 jobs with it).

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables: collab.job_history and its partitions are among them)
and holds them for the code reset and the targets, catalog updates only.
Down: the default statistics target, and the code of 0029.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 13:08:41.204758
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, lock_code_tables, reset_code

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0030"
PREVIOUS_SNAPSHOT = "0029"

HISTORY_COLUMNS = (
    "id", "workspace_id", "queue", "type", "payload", "priority", "status", "last_event",
    "run_at", "attempt", "max_attempts", "idempotency_key", "executor_id", "lease_token",
    "lease_seconds", "lease_expires_at", "cancel_requested", "progress", "progress_message",
    "result", "last_error", "created_at", "claimed_at", "finished_at",
)  # fmt: skip


def statistics(target: int) -> str:
    """Every column of collab.job_history and of each of its partitions at ``target``."""
    return "alter table collab.job_history " + ", ".join(
        f"alter column {c} set statistics {target}" for c in HISTORY_COLUMNS
    )


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    execute_script(statistics(10))
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    execute_script(statistics(-1))
    apply_snapshot(PREVIOUS_SNAPSHOT)
