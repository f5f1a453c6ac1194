"""The hot table is analyzed from a small sample, as the history and the event stream are (issue 18).

ANALYZE holds a snapshot while it reads its sample, and while it does, no claimed job's entry
in the claim index can be marked dead. Revisions 0013 and 0030 gave every column of the event
stream and of the history statistics target 10 (3,000 rows read instead of 30,000); collab.jobs,
which holds the backlog, kept the default. Autovacuum analyzes it after 5 % of it changed, and
with 10^6 live jobs that ANALYZE held its snapshot 150 to 157 ms against 14 to 15 ms at target
10, every page cached (docs/bench.md). Every column of collab.jobs gets statistics target 10.
Its readers go by index (tests/sql/520 plans every filter of api.list_jobs with it).

Online: ALTER TABLE ... SET STATISTICS takes SHARE UPDATE EXCLUSIVE on collab.jobs, which no
call's lock conflicts with (a claim, an enqueue, a completion take ROW EXCLUSIVE), only a
VACUUM or ANALYZE of the table. So the revision waits for its lock in one wait of up to 5
minutes, not in short tries: a queued request for it stops no call, and a wait longer than
deadlock_timeout makes Postgres cancel an autovacuum of the table that holds it (short tries
would never wait that long, and a long autovacuum would fail the revision). It holds the lock
for a catalog update. No code changes (the code of 0034).
Down: the default statistics target.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 21:00:00.000000
"""

from __future__ import annotations

from collab.migration_ops import execute_script

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def statistics(target: int) -> str:
    """Every column of collab.jobs at ``target``, in one ALTER TABLE that waits up to 5 minutes
    for its lock (a VACUUM or ANALYZE of the table)."""
    return f"""
set local lock_timeout = '5min';
do $statistics$
begin
  execute (select 'alter table collab.jobs '
                  || string_agg(format('alter column %I set statistics {target}', a.attname), ', '
                                order by a.attnum)
             from pg_catalog.pg_attribute a
            where a.attrelid = 'collab.jobs'::regclass and a.attnum > 0 and not a.attisdropped);
end
$statistics$;
"""


def upgrade() -> None:
    execute_script(statistics(10))


def downgrade() -> None:
    execute_script(statistics(-1))
