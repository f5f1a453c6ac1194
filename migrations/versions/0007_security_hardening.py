"""Security hardening (issue 19): bounded claims without advisory locks, a safe search_path in
every SECURITY DEFINER function, invitations, operator limits, per-workspace wake-ups.

Each block of DDL below stands, with the same text, in sql/schema.sql.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:40:13.030150
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, reset_code

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0007"
PREVIOUS_SNAPSHOT = "0006"

# Temporary objects are how a caller shadows a type inside a SECURITY DEFINER function
# (docs/security.md). Where the migrating role owns the database, nobody but it may create
# them; on a database it does not own (Supabase's `postgres`) the operator decides.
REVOKE_TEMP = r"""
do $temp$
begin
  if pg_catalog.pg_has_role(current_user,
       (select d.datdba from pg_catalog.pg_database d where d.datname = current_database()), 'MEMBER') then
    execute format('revoke temporary on database %I from public', current_database());
  end if;
end
$temp$;
"""

GRANT_TEMP_BACK = r"""
do $temp$
begin
  if pg_catalog.pg_has_role(current_user,
       (select d.datdba from pg_catalog.pg_database d where d.datname = current_database()), 'MEMBER') then
    execute format('grant temporary on database %I to public', current_database());
  end if;
end
$temp$;
"""

# -- tables: finding 9 (rate limits) --------------------------------------------------------
RATES_UP = r"""
update collab.rate_limits set rate_per_second = 0.001 where rate_per_second < 0.001;
alter table collab.rate_limits add constraint rate_limits_rate_range
  check (rate_per_second between 0.001 and 1000000);
"""
RATES_DOWN = r"""
alter table collab.rate_limits drop constraint if exists rate_limits_rate_range;
"""

# -- tables: finding 3 (invitations) ---------------------------------------------------------
INVITATIONS_UP = r"""
"""
INVITATIONS_DOWN = r"""
"""

# -- tables: findings 4, 5, 11 (operator limits, quotas) -------------------------------------
LIMITS_UP = r"""
"""
LIMITS_DOWN = r"""
"""


def _run(*scripts: str) -> None:
    for script in scripts:
        if script.strip():
            execute_script(script)


def upgrade() -> None:
    reset_code()
    _run(RATES_UP, INVITATIONS_UP, LIMITS_UP, REVOKE_TEMP)
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    reset_code()
    _run(GRANT_TEMP_BACK, LIMITS_DOWN, INVITATIONS_DOWN, RATES_DOWN)
    apply_snapshot(PREVIOUS_SNAPSHOT)
