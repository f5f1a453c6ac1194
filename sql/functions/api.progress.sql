-- Progress of a running job (fenced like api.complete); writes a `progress` event.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
-- No sequential or bitmap scans, for the reason api.complete gives.
-- No JIT (jit), for the reason api.complete_batch gives.
create or replace function api.progress(
  job_id bigint,
  lease_token uuid,
  progress numeric default null,
  message text default null
)
returns api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set enable_seqscan = off
set enable_bitmapscan = off
set jit = off
as $$
declare
  ws uuid := collab.require_role('member');
  j collab.jobs;
begin
  perform collab.require_job_owner(array[progress.job_id], ws);
  if progress.progress is not null and progress.progress not between 0 and 100 then
    perform collab.raise_error('PT400', 'invalid_input', 'progress must be between 0 and 100', 'progress');
  end if;
  if length(progress.message) > 2000 then
    perform collab.raise_error('PT400', 'invalid_input', 'message must be at most 2000 characters', 'message');
  end if;
  update collab.jobs x set
    progress = progress.progress, progress_message = progress.message, last_event = 'progress'
   where x.id = progress.job_id and x.workspace_id = ws
     and x.lease_expires_at is not null and x.lease_token = progress.lease_token
  returning * into j;
  if not found then
    perform collab.lease_lost(progress.job_id, ws);
  end if;
  return collab.job_row(j);
end
$$;
comment on function api.progress(bigint, uuid, numeric, text) is
  'Report progress (0-100) and a message for a running job, presenting its current lease_token (else PT409 lease_lost).';
revoke all on function api.progress(bigint, uuid, numeric, text) from public;
grant execute on function api.progress(bigint, uuid, numeric, text) to authenticated, service_role;
