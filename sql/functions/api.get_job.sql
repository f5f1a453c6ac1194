-- One job with its history: every event (attempts, errors, progress) in order. A live job is
-- in collab.jobs (primary key), a finished one in collab.job_history (collab.finished_job: one
-- partition).
-- No sequential or bitmap scans, for the reason api.complete gives.
create or replace function api.get_job(job_id bigint)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set enable_seqscan = off
set enable_bitmapscan = off
as $$
declare
  ws uuid := collab.require_role('viewer');
  j collab.jobs;
begin
  select * into j from collab.jobs x where x.id = get_job.job_id and x.workspace_id = ws;
  if not found then
    j := collab.history_job(collab.finished_job(ws, get_job.job_id));
  end if;
  if j.id is null then
    perform collab.raise_error('PT404', 'job_not_found', format('job %s not found', get_job.job_id), 'job_id');
  end if;
  return to_jsonb(collab.job_row(j)) - 'duplicate'
    || jsonb_build_object('events', coalesce((
         select jsonb_agg(jsonb_build_object(
                  'id', e.id, 'type', e.type, 'attempt', e.attempt, 'executor_id', e.executor_id,
                  'data', e.data, 'created_at', e.created_at) order by e.id)
           from collab.job_events e where e.job_id = j.id), '[]'::jsonb));
end
$$;
comment on function api.get_job(bigint) is
  'One job with its last error and its history (events: claims, retries, errors, progress), or PT404 job_not_found.';
revoke all on function api.get_job(bigint) from public;
grant execute on function api.get_job(bigint) to authenticated, service_role;
