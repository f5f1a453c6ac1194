-- Replay dead jobs from the dead-letter queue: dead -> queued now, with a fresh budget of
-- the queue's max_attempts on top of the attempts made. All or nothing: an unknown id is
-- PT404 job_not_found, a job that is not dead PT409 not_dead, more than the max_queued_jobs
-- quota allows PT429 quota_exceeded, and then nothing changes. The jobs move back from
-- collab.job_history to collab.jobs in one statement, keeping their ids; the insert trigger
-- (collab.jobs_after_insert) writes their `requeued` events.
-- No sequential or bitmap scans, for the reason api.complete gives.
create or replace function api.requeue(job_ids bigint[])
returns setof api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set enable_seqscan = off
set enable_bitmapscan = off
as $$
declare
  ws uuid := collab.require_role('admin');
  bad record;
begin
  if requeue.job_ids is null or cardinality(requeue.job_ids) = 0 or cardinality(requeue.job_ids) > 10000 then
    perform collab.raise_error('PT400', 'invalid_input', 'job_ids must hold 1-10000 ids', 'job_ids');
  end if;
  select i.id, j.status into bad
    from unnest(requeue.job_ids) i(id)
    left join (select x.id, x.status from collab.jobs x where x.workspace_id = ws and x.id = any(requeue.job_ids)
               union all
               select h.id, h.status from collab.job_history h
                where h.workspace_id = ws and h.id = any(requeue.job_ids)) j on j.id = i.id
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
  -- Requeued jobs count against the max_queued_jobs quota like new ones.
  perform collab.check_queued_quota(ws, (select count(distinct i)::integer from unnest(requeue.job_ids) i));
  return query
  with moved as (
    delete from collab.job_history h
     where h.workspace_id = ws and h.id = any(requeue.job_ids) and h.status = 'dead'
    returning h.*
  ),
  done as (
    insert into collab.jobs as x (id, workspace_id, queue, type, payload, priority, status, last_event,
                                  run_at, attempt, max_attempts, idempotency_key, executor_id,
                                  lease_token, lease_seconds, lease_expires_at, cancel_requested,
                                  progress, progress_message, result, last_error, created_at,
                                  claimed_at, finished_at)
    overriding system value
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'queued', 'requeued',
           collab.clock(), m.attempt, m.attempt + coalesce(q.max_attempts, m.max_attempts), m.idempotency_key, m.executor_id,
           m.lease_token, m.lease_seconds, null, false, m.progress, m.progress_message, m.result,
           m.last_error, m.created_at, m.claimed_at, null
      from moved m
      left join collab.queues q on q.workspace_id = m.workspace_id and q.name = m.queue
     order by m.id
    returning x as j
  )
  select r.* from done cross join lateral collab.job_row(done.j) r order by r.id;
end
$$;
comment on function api.requeue(bigint[]) is
  'Requeue dead jobs (the DLQ) now, with a new budget of the queue''s max_attempts. All or nothing; counts against max_queued_jobs (PT429 quota_exceeded).';
revoke all on function api.requeue(bigint[]) from public;
grant execute on function api.requeue(bigint[]) to authenticated, service_role;
