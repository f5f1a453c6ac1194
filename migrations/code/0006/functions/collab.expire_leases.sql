-- Expired leases count as failed attempts: the job is retried after a backoff
-- (`lease_expired`), or goes dead when attempts are exhausted, or is cancelled when a
-- cancel was pending. With a workspace and queues, only those (the claim path); with none,
-- everywhere (the reaper). Rows locked by others are skipped, so this never blocks claims.
create or replace function collab.expire_leases(
  workspace_id uuid default null,
  queues text[] default null,
  max_jobs integer default 1000
)
returns integer
language plpgsql
volatile
as $$
declare
  now_ timestamptz := collab.clock();
  expired bigint[];
begin
  if expire_leases.workspace_id is null then
    expired := array(
      select j.id from collab.jobs j
       where j.status = 'running' and j.lease_expires_at < now_
       order by j.lease_expires_at
       limit expire_leases.max_jobs
       for update skip locked);
  else
    -- The claim path: one range scan of jobs_running_lease_idx per queue. Written with
    -- queue = any(queues), the queue was no index condition: the generic plan read the leases
    -- of every queue of the workspace, through jobs_running_executor_idx or this index by
    -- workspace alone, dead entries included (tests/sql/533).
    expired := array(
      select e.id
        from unnest(expire_leases.queues) qn(name)
        cross join lateral (
          select j.id from collab.jobs j
           where j.workspace_id = expire_leases.workspace_id and j.queue = qn.name
             and j.status = 'running' and j.lease_expires_at < now_
           order by j.lease_expires_at
           limit expire_leases.max_jobs
           for update skip locked) e
       limit expire_leases.max_jobs);
  end if;
  if cardinality(expired) = 0 then
    return 0;
  end if;
  perform collab.release_jobs(expired, 'lease_expired');
  return cardinality(expired);
end
$$;
comment on function collab.expire_leases(uuid, text[], integer) is
  'Expires leases past lease_expires_at (failed attempt: retry with backoff, dead, or cancelled). Returns how many.';
