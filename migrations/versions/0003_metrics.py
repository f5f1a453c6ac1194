"""Metrics: per-minute rollups of job_events, the rollup horizon, append-only metrics signals.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:43:17.733482
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, reset_code

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0003"
PREVIOUS_SNAPSHOT = "0002"


def upgrade() -> None:
    reset_code()
    execute_script(
        r"""
------------------------------------------------------------------------------------------
-- Metrics (revision 0003): per-minute rollups of job_events, so a 24-hour window reads
-- 1,440 rows per queue and type instead of every event. Nothing here is written on the
-- claim or complete path: rollups are made from job_events after the fact.
------------------------------------------------------------------------------------------
create table collab.metrics_minutely (
  workspace_id uuid not null,
  queue text not null,
  job_type text not null,
  minute timestamptz not null,
  enqueued bigint not null default 0,
  claims bigint not null default 0,
  claim_conflicts bigint not null default 0,
  lease_expirations bigint not null default 0,
  lease_releases bigint not null default 0,
  retries bigint not null default 0,
  failed bigint not null default 0,
  dead bigint not null default 0,
  completed bigint not null default 0,
  cancelled bigint not null default 0,
  requeued bigint not null default 0,
  idempotent_duplicates bigint not null default 0,
  fencing_rejections bigint not null default 0,
  queue_wait_ms jsonb not null default '{}',
  run_time_ms jsonb not null default '{}',
  end_to_end_ms jsonb not null default '{}',
  primary key (workspace_id, queue, job_type, minute),
  constraint metrics_minutely_minute_whole check (minute = date_trunc('minute', minute))
);
comment on table collab.metrics_minutely is 'Per-minute counters and latency histograms per workspace, queue and job type, rolled up from job_events by collab.metrics_rollup().';
comment on column collab.metrics_minutely.minute is 'Start of the minute (of the event''s created_at) the row counts.';
comment on column collab.metrics_minutely.queue_wait_ms is 'Sparse histogram {"<milliseconds>": count} of queue waits (run_at -> claim), values rounded to 3 significant digits.';
comment on column collab.metrics_minutely.run_time_ms is 'Sparse histogram {"<milliseconds>": count} of run times (claim -> end of the attempt).';
comment on column collab.metrics_minutely.end_to_end_ms is 'Sparse histogram {"<milliseconds>": count} of end-to-end times (enqueue -> succeeded or dead).';
create index metrics_minutely_minute_idx on collab.metrics_minutely (workspace_id, minute);

create table collab.metrics_rollup_state (
  id boolean primary key default true,
  horizon xid8 not null default '0',
  rolled_up_at timestamptz,
  constraint metrics_rollup_state_one_row check (id)
);
comment on table collab.metrics_rollup_state is 'One row: every job_events row written by a transaction below horizon is in metrics_minutely; later ones are read live.';
insert into collab.metrics_rollup_state (id, horizon) values (true, '0');

create table collab.metrics_signals (
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  kind text not null,
  queue text not null,
  job_type text not null,
  count bigint not null default 1,
  xid xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null,
  constraint metrics_signals_kind check (kind in ('claim_conflict', 'idempotent_duplicate', 'fencing_rejection'))
);
comment on table collab.metrics_signals is 'Append-only: outcomes that change no job and so write no job_event (claim conflicts, idempotent duplicates, fencing rejections), one row per occurrence; never updated, so no shared counter row.';
create index metrics_signals_stream_idx on collab.metrics_signals (xid, id);

alter table collab.metrics_minutely enable row level security;
alter table collab.metrics_rollup_state enable row level security;
alter table collab.metrics_signals enable row level security;
grant select, insert, update, delete on collab.metrics_minutely, collab.metrics_rollup_state,
  collab.metrics_signals to service_role;
"""
    )
    apply_snapshot(SNAPSHOT)
    execute_script("select collab.metrics_schedule_rollup()")


def downgrade() -> None:
    execute_script("select collab.metrics_unschedule_rollup()")
    reset_code()
    execute_script(
        """
        drop table collab.metrics_signals;
        drop table collab.metrics_rollup_state;
        drop table collab.metrics_minutely;
        """
    )
    apply_snapshot(PREVIOUS_SNAPSHOT)
