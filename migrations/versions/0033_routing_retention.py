"""Routing retention: collab.purge_routing, and the created_at indexes it deletes through.

collab.routing_snapshots (one row for every api.rank_routes call) and collab.route_outcomes
(one for every api.record_route_outcome call) are append-only and nothing deleted from them:
they grew with every routed call. collab.purge_routing(older_than, batch_size) deletes the
oldest rows of both, older than older_than (at least 2 hours), in batches, through an index on
created_at of each table (docs/runbook.md, "Routing retention"; tests/sql/623).

Online: each index is built concurrently (rank_routes and record_route_outcome write on
meanwhile), outside the revision's transaction; an interrupted build is dropped and built
again. Then the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0032, and the two indexes dropped concurrently.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 19:55:00.000000
"""

from __future__ import annotations

from alembic import op

from collab.migration_ops import (
    apply_snapshot,
    create_index_concurrently,
    execute_script,
    lock_code_tables,
    reset_code,
)

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0033"
PREVIOUS_SNAPSHOT = "0032"

INDEXES = {
    "routing_snapshots_created_idx": "create index concurrently if not exists {name}"
    " on collab.routing_snapshots (created_at)",
    "route_outcomes_created_idx": "create index concurrently if not exists {name}"
    " on collab.route_outcomes (created_at)",
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, definition in INDEXES.items():
            create_index_concurrently(name, definition)
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
    with op.get_context().autocommit_block():
        for name in INDEXES:
            execute_script(f"drop index concurrently if exists collab.{name}")
