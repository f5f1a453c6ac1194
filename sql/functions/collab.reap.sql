-- Periodic housekeeping (pg_cron every minute where installed; `collab reap` otherwise):
-- expires overdue leases everywhere, marks executors silent for 3 heartbeat intervals
-- offline (an `executor_offline` event each) and releases their leases at once
-- (`lease_released`), rolls the metrics up (collab.metrics_rollup: api.metrics_summary
-- only reads), and last counts the stored jobs of the workspaces that could be at their
-- stored_jobs limit (collab.count_stored_jobs, bounded index-only counts): enqueue refuses
-- while a count finds a workspace at it, and accepts again at the first reap after purges
-- bring it under, so the limit is overshot by at most what a workspace enqueues between two
-- reaps. Invitations that expired over a week ago are deleted, secrets soft-deleted past their
-- recovery window are destroyed (audited), routing counters older than two hours are deleted,
-- a week of day partitions of collab.job_history is kept ahead
-- (collab.ensure_job_history_partitions), and a range partition of collab.job_events ahead of
-- the next xid (collab.ensure_event_partitions). Claims never depend on it.
create or replace function collab.reap()
returns jsonb
language plpgsql
volatile
as $$
declare
  now_ timestamptz := collab.clock();
  expired integer := 0;
  n integer;
  gone uuid[];
  held bigint[];
  ex collab.executors;
begin
  loop
    n := collab.expire_leases(null, null, 1000);
    expired := expired + n;
    exit when n < 1000;
  end loop;

  for ex in
    update collab.executors e set online = false
     where e.online and e.last_seen_at < now_ - make_interval(secs => 3 * e.heartbeat_seconds)
    returning e.*
  loop
    perform collab.record_presence(ex, 'executor_offline');
    gone := array_append(gone, ex.id);
  end loop;

  if gone is not null then
    select array_agg(j.id) into held from (
      select j.id from collab.jobs j
       where j.executor_id = any(gone) and j.status = 'running'
       for update skip locked) j;
    if held is not null then
      perform collab.release_jobs(held, 'lease_released');
    end if;
  end if;
  -- The metrics rollup runs here (and from its own pg_cron job), never in a reader's call.
  perform collab.metrics_rollup();
  -- A week of history partitions ahead (moves never wait for one: the default takes rows).
  perform collab.ensure_job_history_partitions(7);
  -- A partition of the event stream ahead (inserts never wait for one: the default takes rows).
  perform collab.ensure_event_partitions();
  -- Invitations expired a week ago: refused since (PT410), now forgotten.
  delete from collab.invitations i where i.expires_at < now_ - interval '7 days';
  -- Secrets soft-deleted longer ago than their recovery window: destroyed (every version),
  -- one audit row each (destroy, reason recovery_window_passed).
  with purged as (
    delete from collab.secrets s where s.recoverable_until < now_ returning s.workspace_id, s.name, s.version)
  insert into collab.secret_audit (workspace_id, name, version, action, outcome, reason, actor, created_at)
  select p.workspace_id, p.name, p.version, 'destroy', 'ok', 'recovery_window_passed', 'collab.reap', now_
    from purged p;
  -- Routing counter buckets older than the longest window (error_window_seconds <= 1 hour).
  delete from collab.route_counters c where c.bucket < now_ - interval '2 hours';
  -- Last: the workspace rows it updates stay locked only until the reap commits.
  perform collab.count_stored_jobs();
  return jsonb_build_object('expired', expired, 'offline', coalesce(cardinality(gone), 0),
                            'released', coalesce(cardinality(held), 0));
end
$$;
comment on function collab.reap() is
  'Expires overdue leases, marks silent executors offline and releases their jobs, then rolls the metrics up and counts stored jobs against the stored_jobs limit (collab.count_stored_jobs). Returns the counts.';
