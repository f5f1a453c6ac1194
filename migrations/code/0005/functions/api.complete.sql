-- Finish a job with its result. Fenced: only the current lease token of a running job
-- counts; anything else is PT409 lease_lost and changes nothing. Repeating a complete that
-- succeeded, with the same token, returns the same job and writes nothing.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
create or replace function api.complete(job_id bigint, lease_token uuid, result jsonb default null)
returns api.job
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.require_role('member');
  j collab.jobs;
begin
  perform collab.require_job_owner(array[complete.job_id], ws);
  update collab.jobs x set
    status = 'succeeded', last_event = 'succeeded', result = complete.result,
    lease_expires_at = null, finished_at = collab.clock()
   where x.id = complete.job_id and x.workspace_id = ws
     and x.lease_expires_at is not null and x.lease_token = complete.lease_token
  returning * into j;
  if found then
    return collab.job_row(j);
  end if;
  -- A repeat: the job by primary key, then its state (in the WHERE, status = 'succeeded'
  -- could lead the plan to walk every succeeded job of the workspace).
  select * into j from collab.jobs x
   where x.id = complete.job_id and x.workspace_id = ws;
  if found and j.status = 'succeeded' and j.lease_token = complete.lease_token then
    return collab.job_row(j);
  end if;
  perform collab.lease_lost(complete.job_id, ws);
  return null;
end
$$;
comment on function api.complete(bigint, uuid, jsonb) is
  'Complete a running job with its result, presenting its current lease_token (else PT409 lease_lost). Idempotent for the same token.';
revoke all on function api.complete(bigint, uuid, jsonb) from public;
grant execute on function api.complete(bigint, uuid, jsonb) to authenticated, service_role;
