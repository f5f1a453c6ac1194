-- Every violation of Collab's invariants found now (empty = healthy). Read-only; scans the
-- tables, so it is for operators (`collab doctor`) and the chaos and fuzz suites, not the
-- hot path. Transient states are not violations: an expired lease not yet reclaimed is fine.
-- A job lives in exactly one place: collab.jobs while queued or running, collab.job_history
-- once finished; every_job is both.
create or replace function collab.check_invariants()
returns table (invariant text, job_id bigint, detail jsonb)
language sql
stable
as $$
  with every_job as (
    select * from collab.jobs
    union all
    select (collab.history_job(h)).* from collab.job_history h
  )
  -- A running job must be held by an existing executor that is online or whose lease is live.
  select 'running_without_owner', j.id,
         jsonb_build_object('executor_id', j.executor_id, 'lease_expires_at', j.lease_expires_at)
    from collab.jobs j
    left join collab.executors e on e.id = j.executor_id
   where j.status = 'running'
     and (e.id is null or (not e.online and j.lease_expires_at < collab.clock()))
  union all
  -- A lease token is drawn fresh for every claim and never shared.
  select 'lease_token_reused', min(j.id), jsonb_build_object('jobs', array_agg(j.id order by j.id))
    from every_job j
   where j.lease_token is not null
   group by j.lease_token
  having count(*) > 1
  union all
  -- The status of a job is the one its last event that changes a state leads to: progress and
  -- artifact_created (an artifact a job left, running or finished) change none (before revision
  -- 0038 an artifact_created last was reported as a violation).
  select 'state_disagrees_with_last_event', j.id,
         jsonb_build_object('status', j.status, 'last_event', last.type)
    from every_job j
    cross join lateral (
      select e.type from collab.job_events e
       where e.job_id = j.id and e.type not in ('progress', 'artifact_created')
       order by e.id desc limit 1) last
   where j.status::text <> case
           when last.type in ('enqueued', 'requeued', 'retry_scheduled', 'lease_expired', 'lease_released') then 'queued'
           when last.type in ('claimed', 'cancel_requested') then 'running'
           else last.type::text end
  union all
  -- Every job has events, unless retention (collab.purge_events) removed its whole history:
  -- it deletes the oldest prefix of the stream, so only jobs created before the oldest event
  -- kept can have lost all of theirs. A purge can end inside one transaction's events (its
  -- batch, or its rule that the newest event stays): that transaction's jobs share the oldest
  -- kept event's time, and its events are in job order (the enqueue writes them so), so of
  -- those jobs only ones after the oldest kept event's job must still have theirs
  -- (tests/sql/412).
  select 'job_without_events', j.id, '{}'::jsonb
    from every_job j
   where not exists (select 1 from collab.job_events e where e.job_id = j.id)
     and (j.created_at, j.id) > coalesce((select (e.created_at, e.job_id) from collab.job_events e
                                           where e.job_id is not null
                                           order by e.created_at, e.job_id limit 1),
                                          ('-infinity'::timestamptz, 0::bigint))
  union all
  select 'terminal_job_with_lease', j.id, jsonb_build_object('status', j.status)
    from every_job j
   where j.status in ('succeeded', 'cancelled', 'dead') and j.lease_expires_at is not null
  union all
  select 'attempts_above_max', j.id, jsonb_build_object('attempt', j.attempt, 'max_attempts', j.max_attempts)
    from every_job j
   where j.attempt > j.max_attempts
  union all
  -- One place per job: finished jobs are in the history only, live ones in collab.jobs only.
  select 'job_in_two_places', j.id, jsonb_build_object('statuses', array_agg(j.status::text order by j.status))
    from every_job j
   group by j.id
  having count(*) > 1
  union all
  select 'finished_job_in_hot_table', j.id, jsonb_build_object('status', j.status)
    from collab.jobs j
   where j.status in ('succeeded', 'cancelled', 'dead')
  union all
  select 'event_without_job', e.job_id, jsonb_build_object('event_id', e.id, 'type', e.type)
    from collab.job_events e
   where e.job_id is not null
     and not exists (select 1 from collab.jobs j where j.id = e.job_id)
     and not exists (select 1 from collab.job_history h where h.id = e.job_id)
  union all
  select 'duplicate_idempotency_key', min(j.id),
         jsonb_build_object('idempotency_key', j.idempotency_key, 'jobs', array_agg(j.id order by j.id))
    from every_job j
   where j.idempotency_key is not null
   group by j.workspace_id, j.idempotency_key
  having count(*) > 1
  union all
  -- Every idempotency key names a stored job that carries it (api.purge_dead and
  -- collab.purge_job_history delete a job's key with the job) ...
  select 'idempotency_key_without_job', k.job_id, jsonb_build_object('idempotency_key', k.key)
    from collab.idempotency_keys k
   where not exists (select 1 from every_job j
                      where j.id = k.job_id and j.workspace_id = k.workspace_id
                        and j.idempotency_key = k.key)
  union all
  -- ... and every job enqueued with a key has its key row.
  select 'idempotency_key_missing', j.id, jsonb_build_object('idempotency_key', j.idempotency_key)
    from every_job j
   where j.idempotency_key is not null
     and not exists (select 1 from collab.idempotency_keys k
                      where k.workspace_id = j.workspace_id and k.key = j.idempotency_key
                        and k.job_id = j.id)
$$;
comment on function collab.check_invariants() is
  'Every invariant violation found (empty = healthy): running job without owner, reused lease token, state disagreeing with the last event, job without events, terminal job with a lease, attempts above max, a job in two places or a finished job in collab.jobs, event without job, duplicate idempotency key, an idempotency key without its job or a keyed job without its key.';
