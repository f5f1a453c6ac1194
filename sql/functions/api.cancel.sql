-- Cancel a job: a queued job is cancelled at once (it moves to collab.job_history); a running
-- one is flagged (`cancel_requested`) and its executor learns it at its next heartbeat.
-- Cancelling a cancelled job returns it unchanged; a succeeded or dead job is PT409
-- not_cancellable.
-- No sequential or bitmap scans, for the reason api.complete gives.
create or replace function api.cancel(job_id bigint)
returns api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set enable_seqscan = off
set enable_bitmapscan = off
as $$
declare
  ws uuid := collab.require_role('member');
  j collab.jobs;
begin
  select * into j from collab.jobs x where x.id = cancel.job_id and x.workspace_id = ws for update;
  if not found then
    j := collab.history_job(collab.finished_job(ws, cancel.job_id));
    if j.id is null then
      perform collab.raise_error('PT404', 'job_not_found', format('job %s not found', cancel.job_id), 'job_id');
    end if;
  end if;
  if j.status = 'queued' then
    -- The move, only from queued (collab.job_history_after_insert writes the event).
    with moved as (
      delete from collab.jobs x where x.id = j.id and x.status = 'queued' returning x.*
    )
    insert into collab.job_history
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'cancelled', 'cancelled',
           m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
           m.lease_seconds, m.lease_expires_at, m.cancel_requested, m.progress, m.progress_message,
           m.result, m.last_error, m.created_at, m.claimed_at, collab.clock()
      from moved m
    returning * into j;
  elsif j.status = 'running' and not j.cancel_requested then
    update collab.jobs x set cancel_requested = true, last_event = 'cancel_requested'
     where x.id = j.id returning * into j;
  elsif j.status in ('succeeded', 'dead') then
    perform collab.raise_error('PT409', 'not_cancellable',
      format('job %s is %s and cannot be cancelled', j.id, j.status), 'job_id',
      case when j.status = 'dead' then 'purge it with api.purge_dead' end,
      jsonb_build_object('status', j.status));
  end if;
  return collab.job_row(j);
end
$$;
comment on function api.cancel(bigint) is
  'Cancel a job: queued -> cancelled at once; running -> flagged, its executor stops at the next heartbeat. PT409 not_cancellable for succeeded or dead jobs.';
revoke all on function api.cancel(bigint) from public;
grant execute on function api.cancel(bigint) to authenticated, service_role;
