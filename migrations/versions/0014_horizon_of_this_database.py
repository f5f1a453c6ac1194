"""The cleanup horizon of this database's tables leaves out the snapshots of other databases (issue 18).

collab.cleanup_horizon() took the oldest snapshot held by any session of the cluster. Postgres's
horizon for the tables of one database leaves out the sessions of the other databases (their
snapshots cannot see these tables): a long query or a repeatable read transaction in another
database kept a claim mark to the end of its second that Postgres itself did not need, and
made the horizon's test depend on what the rest of the cluster was doing. The horizon now
reads the snapshots of this database's sessions and of sessions of no database (a walsender
with a standby's feedback), as Postgres does; the running transactions are still read from
the session's own snapshot's xmin, which counts those of every database (the cheap answer of
collab.horizon_held_since).

Online: the code switch takes its locks as 0011's does (all at once, in tries of 150 ms;
collab.migration_ops.lock_code_tables) and holds them for the code reset only.
Down: the code of 0013.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 22:30:00.000000
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, lock_code_tables, reset_code

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0014"
PREVIOUS_SNAPSHOT = "0013"


def upgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
