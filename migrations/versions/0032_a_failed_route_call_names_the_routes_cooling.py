"""A failed route call names the routes cooling down (issue 15, found while on issue 18).

api.record_route_outcome now returns, on a failure, `cooling`: the routes of the service that
are cooling down now, this call's cooldown and other callers' included. A caller falling back
down its snapshot's ranking (collab.routing.RouterSelectClient.query_routed) skips them, so an
agent of a fleet no longer calls a route that another agent cooled after its snapshot was
ranked. Code only, no table changes (tests/sql/621_routing_cooldowns.sql,
tests/py/routing/test_fleet_cooldowns.py).

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0031.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 18:50:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0032"
PREVIOUS_SNAPSHOT = "0031"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
