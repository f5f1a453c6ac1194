-- Replay dead jobs from the dead-letter queue: dead -> queued now, with a fresh budget of
-- the queue's max_attempts on top of the attempts made. All or nothing: an unknown id is
-- PT404 job_not_found, a job that is not dead PT409 not_dead, and then nothing changes.
create or replace function api.requeue(job_ids bigint[])
returns setof api.job
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.current_workspace();
  bad record;
begin
  if requeue.job_ids is null or cardinality(requeue.job_ids) = 0 or cardinality(requeue.job_ids) > 10000 then
    perform collab.raise_error('PT400', 'invalid_input', 'job_ids must hold 1-10000 ids', 'job_ids');
  end if;
  select i.id, j.status into bad
    from unnest(requeue.job_ids) i(id)
    left join collab.jobs j on j.id = i.id and j.workspace_id = ws
   where j.id is null or j.status <> 'dead'
   order by j.id is not null, i.id
   limit 1;
  if found and bad.status is null then
    perform collab.raise_error('PT404', 'job_not_found', format('job %s not found', bad.id), 'job_ids',
      'nothing was requeued', jsonb_build_object('job_id', bad.id));
  elsif found then
    perform collab.raise_error('PT409', 'not_dead', format('job %s is %s, not dead', bad.id, bad.status),
      'job_ids', 'only dead jobs can be requeued; nothing was requeued',
      jsonb_build_object('job_id', bad.id, 'status', bad.status));
  end if;
  return query
  with done as (
  update collab.jobs x set
    status = 'queued', last_event = 'requeued', run_at = collab.clock(), finished_at = null,
    cancel_requested = false, max_attempts = x.attempt + q.max_attempts
  from collab.queues q
  where x.id = any(requeue.job_ids) and x.workspace_id = ws and x.status = 'dead'
    and q.workspace_id = x.workspace_id and q.name = x.queue
  returning x as j
  )
  select r.* from done cross join lateral collab.job_row(done.j) r order by r.id;
end
$$;
comment on function api.requeue(bigint[]) is
  'Requeue dead jobs (the DLQ) now, with a new budget of the queue''s max_attempts. All or nothing.';
revoke all on function api.requeue(bigint[]) from public;
grant execute on function api.requeue(bigint[]) to authenticated, service_role;
