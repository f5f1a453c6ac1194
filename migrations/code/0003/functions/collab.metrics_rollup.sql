-- Roll up into collab.metrics_minutely every job_events (and metrics_signals) row written by
-- a transaction that has ended since the last rollup: those with horizon <= xid < the xmin
-- of the current snapshot. No transaction below that xmin can still write, so nothing is
-- missed or counted twice even when transactions commit out of order; everything at or
-- above the new horizon is read live by api.metrics_summary. One rollup at a time
-- (transaction advisory lock, skipped when taken). Returns the number of rows upserted,
-- or -1 when another rollup was running.
create or replace function collab.metrics_rollup()
returns integer
language plpgsql
volatile
set search_path = ''
set jit = off  -- small, frequent queries: compiling them costs more than it saves
as $$
declare
  from_xid xid8;
  to_xid xid8 := pg_snapshot_xmin(pg_current_snapshot());
  n integer;
begin
  if not pg_try_advisory_xact_lock(hashtextextended('collab.metrics_rollup', 0)) then
    return -1;
  end if;
  select s.horizon into from_xid from collab.metrics_rollup_state s for update;
  if from_xid is null or from_xid >= to_xid then
    return 0;
  end if;
  insert into collab.metrics_minutely as m
  select * from collab.metrics_facts(from_xid, to_xid)
  on conflict (workspace_id, queue, job_type, minute) do update set
    enqueued = m.enqueued + excluded.enqueued,
    claims = m.claims + excluded.claims,
    claim_conflicts = m.claim_conflicts + excluded.claim_conflicts,
    lease_expirations = m.lease_expirations + excluded.lease_expirations,
    lease_releases = m.lease_releases + excluded.lease_releases,
    retries = m.retries + excluded.retries,
    failed = m.failed + excluded.failed,
    dead = m.dead + excluded.dead,
    completed = m.completed + excluded.completed,
    cancelled = m.cancelled + excluded.cancelled,
    requeued = m.requeued + excluded.requeued,
    idempotent_duplicates = m.idempotent_duplicates + excluded.idempotent_duplicates,
    fencing_rejections = m.fencing_rejections + excluded.fencing_rejections,
    queue_wait_ms = collab.metrics_merge_histograms(m.queue_wait_ms, excluded.queue_wait_ms),
    run_time_ms = collab.metrics_merge_histograms(m.run_time_ms, excluded.run_time_ms),
    end_to_end_ms = collab.metrics_merge_histograms(m.end_to_end_ms, excluded.end_to_end_ms);
  get diagnostics n = row_count;
  update collab.metrics_rollup_state set horizon = to_xid, rolled_up_at = collab.clock();
  return n;
end
$$;
comment on function collab.metrics_rollup() is
  'Adds the job_events of every ended transaction since the last rollup to collab.metrics_minutely; returns rows upserted (-1: another rollup is running).';
