"""The event stream partitioned by ranges of xid; retention drops partitions (issue 18).

collab.purge_events deleted the stream's oldest rows, 297 bytes of WAL for each event it
removed and 80 more for the vacuum that followed (bench/retention.py). collab.job_events
becomes a table partitioned by range of xid, the first column of its key (the stream's order,
(xid, id, workspace_id)): a partition holds whole transactions and a stretch of the stream,
collab.reap keeps one ahead of the next xid (collab.ensure_event_partitions), and retention
drops the oldest whole (collab.purge_events). A default partition takes what no range covers.
The code changes with it: collab.event_partitions, collab.ensure_event_partitions (called by
collab.reap), collab.purge_events, and api.events_since, whose cursor now also bounds xid
from below so that the partitions before it are skipped.

Postgres 15 has no identity column on a partitioned table, so id comes from a sequence of the
same name, set where the identity stood.

On Supabase the stream leaves the supabase_realtime publication: Realtime's Postgres Changes
decode with wal2json, which names each row of a partitioned table by its partition, so no
subscription to collab.job_events could receive one (tests/py/migration/
test_realtime_publication.py); Broadcast and api.events_since carry it. The publication's
options are left as they are. Down puts the plain table back in it.

Online (tests/py/migration/test_online_0029.py runs it on 2 * 10^6 events under a claimer
whose lock_timeout is 1 s):

1. On a table that holds events: a CHECK (xid < X) with X 2^24 xids past the next xid, added
   NOT VALID under a short lock (tries of 150 ms) and then validated (SHARE UPDATE EXCLUSIVE:
   writers go on, and every event they write meets it). An existing one is kept (a rerun).
   COMMIT.
2. The switch, under the locks every code revision takes (collab.migration_ops
   .lock_code_tables, tries of 150 ms; collab.job_events is among them), held for catalog
   changes only: the identity is dropped, the table renamed, the partitioned table made under
   the old name, and the old table attached to it, as the partition [MINVALUE, X) named
   job_events_0 (the validated CHECK proves its rows fit: no scan) with an empty default
   partition beside it; on a table that holds no event (a new database), as the default
   partition itself, as sql/schema.sql builds it. Then the code of this revision.
   Events keep going into job_events_0 until the next xid reaches X; the first reap after
   the next xid is within half of the partition's width of X makes the next partition.

Down (not online): every partition's rows go into one of them (job_events_0, or the only one),
which becomes collab.job_events again with its identity, then the code of 0028.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 06:00:00.000000
"""

from __future__ import annotations

from alembic import op

from collab.migration_ops import (
    apply_snapshot,
    execute_script,
    lock_code_tables,
    query_row,
    reset_code,
    under_short_lock,
)

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0029"
PREVIOUS_SNAPSHOT = "0028"

# 2^24 xids between the next xid and the end of the first range: the validation in step 1 and
# the switch in step 2 take far fewer (16.7 million: about 90 minutes at 3,000 a second).
FIRST_RANGE_AHEAD = 16_777_216

BOUND = "job_events_before_0029"

# The partitioned table: the same text as sql/schema.sql (revision 0029's section).
PARENT = """
create sequence collab.job_events_id_seq;
create table collab.job_events (
  id bigint not null default nextval('collab.job_events_id_seq'),
  workspace_id uuid not null,
  job_id bigint,
  type collab.job_event_type not null,
  queue text,
  job_type text,
  attempt integer,
  executor_id uuid,
  data jsonb not null default '{}',
  xid xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null,
  constraint job_events_subject check (
    case when type in ('executor_online', 'executor_offline')
         then job_id is null and executor_id is not null
         else job_id is not null and queue is not null and job_type is not null and attempt is not null
    end),
  constraint job_events_pkey primary key (xid, id, workspace_id)
) partition by range (xid);
alter sequence collab.job_events_id_seq owned by collab.job_events.id;
comment on table collab.job_events is 'One row per job state change (written by trigger in the same transaction) or executor presence change. Append-only. Partitioned by ranges of xid (collab.event_partitions); retention drops the oldest (collab.purge_events).';
comment on column collab.job_events.xid is 'Writing transaction: lets readers hand out only events below the snapshot xmin (gap-free cursors).';
create index job_events_job_idx on collab.job_events (job_id, id);
"""

# The default partition's comment, either way the table is switched.
DEFAULT_COMMENT = """
comment on table collab.job_events_default is 'Rows of collab.job_events that no xid range covers (on a new database, the events before the first reap; later, those written while no reap ran for half a day). collab.ensure_event_partitions starts each range above every xid already taken, so they stay here, and collab.purge_events deletes them with the range above them.';
"""

AFTER = """
alter table collab.job_events
  alter column id set statistics 10, alter column workspace_id set statistics 10,
  alter column job_id set statistics 10, alter column type set statistics 10,
  alter column queue set statistics 10, alter column job_type set statistics 10,
  alter column attempt set statistics 10, alter column executor_id set statistics 10,
  alter column data set statistics 10, alter column xid set statistics 10,
  alter column created_at set statistics 10;
alter table collab.job_events enable row level security;
grant select, insert, update, delete on collab.job_events to service_role;
grant usage on sequence collab.job_events_id_seq to service_role;
-- Supabase Realtime's Postgres Changes cannot carry a partitioned table: it decodes with
-- wal2json, which names each row by its partition and keeps only the tables that
-- pg_publication_tables lists, the root alone when publish_via_partition_root is on, the
-- partitions alone when it is off, while subscriptions name the root. So the stream leaves
-- the publication (the old table, now a partition, included) and the publication's options
-- stay the project's own; Broadcast (collab.enable_realtime_broadcast) and api.events_since
-- carry the stream (docs/realtime.md, tests/py/migration/test_realtime_publication.py).
do $realtime$
declare
  member regclass;
begin
  for member in
    select r.prrelid::regclass
      from pg_publication_rel r join pg_publication p on p.oid = r.prpubid
     where p.pubname = 'supabase_realtime'
       and r.prrelid in (select t.relid from pg_partition_tree('collab.job_events') t)
  loop
    execute format('alter publication supabase_realtime drop table %s', member);
  end loop;
end
$realtime$;
"""

# An empty table becomes the default partition, as sql/schema.sql has it.
SWITCH_EMPTY = (
    """
alter table collab.job_events alter column id drop identity if exists;
alter table collab.job_events rename to job_events_default;
alter index collab.job_events_pkey rename to job_events_default_pkey;
alter index collab.job_events_job_idx rename to job_events_default_job_idx;
"""
    + PARENT
    + """
alter table collab.job_events attach partition collab.job_events_default default;
"""
    + DEFAULT_COMMENT
    + AFTER
)

# A table that holds events becomes the first range, [MINVALUE, {bound}); an empty default
# partition goes beside it. The comment is the one collab.ensure_event_partitions writes, so
# the next partition's width follows the rate since the switch.
SWITCH_HOLDING = (
    """
alter table collab.job_events alter column id drop identity if exists;
alter table collab.job_events rename to job_events_0;
alter index collab.job_events_pkey rename to job_events_0_pkey;
alter index collab.job_events_job_idx rename to job_events_0_job_idx;
"""
    + PARENT
    + """
alter table collab.job_events attach partition collab.job_events_0 for values from (minvalue) to ('{bound}');
comment on table collab.job_events_0 is 'Events of the transactions with xid in [the first, {bound}); made at {now} when the next xid was {next_xid}.';
create table collab.job_events_default partition of collab.job_events default;
alter table collab.job_events_default enable row level security;
grant select, insert, update, delete on collab.job_events_default to service_role;
"""
    + DEFAULT_COMMENT
    + AFTER
)


def _bound() -> int | None:
    """The end of the first range: the validated CHECK's, made here if the table holds events
    and has none yet; None when the table holds no event."""
    existing = query_row(
        "select (select pg_catalog.substring(pg_catalog.pg_get_constraintdef(c.oid), '''([0-9]+)''')"
        "          from pg_catalog.pg_constraint c"
        "         where c.conrelid = 'collab.job_events'::regclass and c.conname = %s),"
        "       exists (select 1 from collab.job_events),"
        "       (pg_snapshot_xmax(pg_current_snapshot())::text::numeric + %s)::text",
        (BOUND, FIRST_RANGE_AHEAD),
    )
    if existing[0] is not None:
        bound = int(str(existing[0]))
    elif existing[1]:
        bound = int(str(existing[2]))
    else:
        return None
    with op.get_context().autocommit_block():
        if existing[0] is None:
            execute_script(
                under_short_lock(
                    revision,
                    f"alter table collab.job_events add constraint {BOUND}"
                    f" check (xid < '{bound}') not valid;",
                    "collab.job_events stayed busy; nothing was changed",
                )
            )
        execute_script(f"alter table collab.job_events validate constraint {BOUND}")
    return bound


def upgrade() -> None:
    partitioned = query_row(
        "select relkind = 'p' from pg_catalog.pg_class where oid = 'collab.job_events'::regclass"
    )[0]
    bound = None if partitioned else _bound()
    lock_code_tables(revision)
    reset_code()
    if not partitioned:
        last, called = query_row("select last_value, is_called from collab.job_events_id_seq")
        if bound is None:
            execute_script(SWITCH_EMPTY)
        else:
            now, next_xid = query_row(
                "select now()::text, pg_snapshot_xmax(pg_current_snapshot())::text"
            )
            execute_script(
                SWITCH_HOLDING.replace("{bound}", str(bound))
                .replace("{now}", str(now))
                .replace("{next_xid}", str(next_xid))
            )
        query_row("select setval('collab.job_events_id_seq', %s, %s)", (last, called))
    apply_snapshot(SNAPSHOT)


# Every partition's rows into one (job_events_0 when there is one, else the first), which
# becomes the plain table again with its identity; the partitioned table and its sequence go.
DOWN = """
do $down$
declare
  keep regclass;
  part regclass;
  cols text;
  last bigint;
  called boolean;
  con record;
begin
  select s.last_value, s.is_called into last, called from collab.job_events_id_seq s;
  select coalesce(to_regclass('collab.job_events_0'),
                  (select i.inhrelid::regclass from pg_inherits i
                    where i.inhparent = 'collab.job_events'::regclass order by i.inhrelid limit 1))
    into keep;
  select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
    from pg_attribute a
   where a.attrelid = 'collab.job_events'::regclass and a.attnum > 0 and not a.attisdropped;
  for part in select i.inhrelid::regclass from pg_inherits i
               where i.inhparent = 'collab.job_events'::regclass loop
    execute format('alter table collab.job_events detach partition %s', part);
    if part <> keep then
      execute format('insert into %s (%s) select %s from %s', keep, cols, cols, part);
      execute format('drop table %s', part);
    end if;
  end loop;
  for con in select c.conname from pg_constraint c
              where c.conrelid = keep and c.contype = 'c' and c.conname <> 'job_events_subject' loop
    execute format('alter table %s drop constraint %I', keep, con.conname);
  end loop;
  drop table collab.job_events;
  execute format('alter table %s alter column id drop default', keep);
  execute format('alter index %s rename to job_events_pkey',
                 (select i.indexrelid::regclass from pg_index i where i.indrelid = keep and i.indisprimary));
  execute format('alter index %s rename to job_events_job_idx',
                 (select i.indexrelid::regclass from pg_index i where i.indrelid = keep and not i.indisprimary));
  execute format('alter table %s rename to job_events', keep);
  execute format('alter table collab.job_events alter column id add generated always as identity (start with %s)',
                 case when called then last + 1 else last end);
  comment on table collab.job_events is 'One row per job state change (written by trigger in the same transaction) or executor presence change. Append-only.';
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime')
     and not exists (select 1 from pg_publication_tables t
                      where t.pubname = 'supabase_realtime' and t.schemaname = 'collab'
                        and t.tablename = 'job_events') then
    alter publication supabase_realtime add table collab.job_events;
  end if;
end
$down$;
"""


def downgrade() -> None:
    lock_code_tables(revision)
    reset_code()
    execute_script(DOWN)
    apply_snapshot(PREVIOUS_SNAPSHOT)
