"""The surface: artifacts (issue 14), LLM routing and the key vault (issue 15), search (issue 16).

Each block of DDL below stands, with the same text, in sql/schema.sql.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 21:08:38.545271
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, reset_code

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0008"
PREVIOUS_SNAPSHOT = "0007"

# -- tables: issue 14 (artifacts) -----------------------------------------------------------
ARTIFACTS_UP = r"""
"""
ARTIFACTS_DOWN = r"""
"""

# -- tables: issue 15 (routing) -------------------------------------------------------------
ROUTING_UP = r"""
"""
ROUTING_DOWN = r"""
"""

# -- tables: issue 15 (key vault) -----------------------------------------------------------
VAULT_UP = r"""
"""
VAULT_DOWN = r"""
"""

# -- tables: issue 16 (search) --------------------------------------------------------------
SEARCH_UP = r"""
"""
SEARCH_DOWN = r"""
"""


def _run(*scripts: str) -> None:
    for script in scripts:
        if script.strip():
            execute_script(script)


def upgrade() -> None:
    reset_code()
    _run(ARTIFACTS_UP, ROUTING_UP, VAULT_UP, SEARCH_UP)
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    reset_code()
    _run(SEARCH_DOWN, VAULT_DOWN, ROUTING_DOWN, ARTIFACTS_DOWN)
    apply_snapshot(PREVIOUS_SNAPSHOT)
