-- Finish a job with its result. Fenced: only the current lease token of a running job
-- counts; anything else is PT409 lease_lost and changes nothing. Repeating a complete that
-- succeeded, with the same token, returns the same job and writes nothing.
create or replace function api.complete(job_id bigint, lease_token uuid, result jsonb default null)
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
  update collab.jobs x set
    status = 'succeeded', last_event = 'succeeded', result = complete.result,
    lease_expires_at = null, finished_at = collab.clock()
   where x.id = complete.job_id and x.workspace_id = ws
     and x.status = 'running' and x.lease_token = complete.lease_token
  returning * into j;
  if found then
    return collab.job_row(j);
  end if;
  select * into j from collab.jobs x
   where x.id = complete.job_id and x.workspace_id = ws
     and x.status = 'succeeded' and x.lease_token = complete.lease_token;
  if found then
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
