-- Cancel a job: a queued job is cancelled at once; a running one is flagged
-- (`cancel_requested`) and its executor learns it at its next heartbeat. Cancelling a
-- cancelled job returns it unchanged; a succeeded or dead job is PT409 not_cancellable.
create or replace function api.cancel(job_id bigint)
returns api.job
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.current_workspace();
  j collab.jobs;
begin
  select * into j from collab.jobs x where x.id = cancel.job_id and x.workspace_id = ws for update;
  if not found then
    perform collab.raise_error('PT404', 'job_not_found', format('job %s not found', cancel.job_id), 'job_id');
  end if;
  if j.status = 'queued' then
    update collab.jobs x set status = 'cancelled', last_event = 'cancelled', finished_at = collab.clock()
     where x.id = j.id returning * into j;
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
