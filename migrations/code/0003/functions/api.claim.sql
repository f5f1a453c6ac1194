-- Claim up to max_jobs jobs for an executor: highest priority first, then oldest run_at,
-- skipping rows locked by other claimers, never from a paused queue, never past a queue's
-- concurrency limit. Each claimed job gets a fresh lease token and a lease. Expired leases
-- of these queues are reclaimed first, so correctness never depends on the reaper.
-- Queues without a limit are claimed in one statement; queues with a limit one by one,
-- serialized per queue by a transaction advisory lock (only they pay for it).
create or replace function api.claim(
  executor_id uuid,
  queues text[] default null,
  max_jobs integer default 1,
  lease_seconds integer default null
)
returns setof api.claimed_job
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.current_workspace();
  now_ timestamptz := collab.clock();
  ex collab.executors;
  wanted text[];
  open_queues text[];
  limited record;
  budget integer;
  n integer;
  got integer := 0;
begin
  ex := collab.require_executor(claim.executor_id, ws);
  if claim.max_jobs is null or claim.max_jobs not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'max_jobs must be between 1 and 1000', 'max_jobs');
  end if;
  if claim.lease_seconds is not null and claim.lease_seconds not between 1 and 86400 then
    perform collab.raise_error('PT400', 'invalid_input', 'lease_seconds must be between 1 and 86400', 'lease_seconds');
  end if;
  wanted := coalesce(claim.queues, ex.queues);
  if wanted is null or cardinality(wanted) = 0 then
    perform collab.raise_error('PT400', 'invalid_input',
      'queues is required (or register the executor with its queues)', 'queues');
  end if;

  perform collab.expire_leases(ws, wanted);

  select array_agg(q.name order by q.name) into open_queues
    from collab.queues q
   where q.workspace_id = ws and q.name = any(wanted) and not q.paused and q.concurrency_limit is null;

  if open_queues is not null then
    return query
    with picked as (
      select c.id
        from unnest(open_queues) qn(name)
        cross join lateral (
          select j.id, j.priority, j.run_at
            from collab.jobs j
           where j.workspace_id = ws and j.queue = qn.name
             and j.status = 'queued' and j.run_at <= now_
           order by j.priority desc, j.run_at, j.id
           limit claim.max_jobs
           for update skip locked) c
       order by c.priority desc, c.run_at, c.id
       limit claim.max_jobs
    )
    update collab.jobs j set
      status = 'running',
      last_event = 'claimed',
      attempt = j.attempt + 1,
      executor_id = claim.executor_id,
      lease_token = gen_random_uuid(),
      lease_seconds = coalesce(claim.lease_seconds, q.lease_seconds),
      lease_expires_at = now_ + make_interval(secs => coalesce(claim.lease_seconds, q.lease_seconds)),
      claimed_at = now_
    from picked, collab.queues q
    where j.id = picked.id and q.workspace_id = ws and q.name = j.queue
    returning j.id, j.queue, j.type, j.payload, j.priority, j.attempt, j.max_attempts,
              j.lease_token, j.lease_expires_at, j.run_at, j.created_at;
    get diagnostics got = row_count;
  end if;

  for limited in
    select q.name, q.concurrency_limit, q.lease_seconds
      from collab.queues q
     where q.workspace_id = ws and q.name = any(wanted) and not q.paused
       and q.concurrency_limit is not null
     order by q.name
  loop
    exit when got >= claim.max_jobs;
    perform pg_advisory_xact_lock(hashtextextended('collab.queue/' || ws::text || '/' || limited.name, 0));
    select limited.concurrency_limit - count(*) into budget
      from collab.jobs j
     where j.workspace_id = ws and j.queue = limited.name and j.status = 'running';
    budget := least(budget, claim.max_jobs - got);
    continue when budget <= 0;
    return query
    with picked as (
      select j.id
        from collab.jobs j
       where j.workspace_id = ws and j.queue = limited.name
         and j.status = 'queued' and j.run_at <= now_
       order by j.priority desc, j.run_at, j.id
       limit budget
       for update skip locked
    )
    update collab.jobs j set
      status = 'running',
      last_event = 'claimed',
      attempt = j.attempt + 1,
      executor_id = claim.executor_id,
      lease_token = gen_random_uuid(),
      lease_seconds = coalesce(claim.lease_seconds, limited.lease_seconds),
      lease_expires_at = now_ + make_interval(secs => coalesce(claim.lease_seconds, limited.lease_seconds)),
      claimed_at = now_
    from picked
    where j.id = picked.id
    returning j.id, j.queue, j.type, j.payload, j.priority, j.attempt, j.max_attempts,
              j.lease_token, j.lease_expires_at, j.run_at, j.created_at;
    get diagnostics n = row_count;
    got := got + n;
  end loop;

  -- A short claim while due jobs are still queued in this snapshot means rows were skipped
  -- because others held their locks: a claim conflict (docs/metrics.md). Only short claims pay.
  if got < claim.max_jobs and open_queues is not null then
    perform collab.metrics_signal('claim_conflict', ws, qn.name, '', 1)
       from unnest(open_queues) qn(name)
      where exists (select 1 from collab.jobs j
                     where j.workspace_id = ws and j.queue = qn.name
                       and j.status = 'queued' and j.run_at <= now_);
  end if;
end
$$;
comment on function api.claim(uuid, text[], integer, integer) is
  'Claim up to max_jobs (1-1000) jobs for executor_id from queues (default: the executor''s), highest priority then oldest run_at. Each job carries a fresh lease_token that heartbeat, progress, complete and fail must present. lease_seconds (1-86400) overrides the queue''s lease.';
revoke all on function api.claim(uuid, text[], integer, integer) from public;
grant execute on function api.claim(uuid, text[], integer, integer) to authenticated, service_role;
