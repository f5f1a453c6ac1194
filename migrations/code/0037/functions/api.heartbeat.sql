-- The executor is alive: record its presence, extend the leases of the jobs it runs, and
-- tell it which jobs to stop: cancelled (a cancel was asked; the job is now cancelled) and
-- lost (of the job_ids it believes it holds, those it no longer holds). An executor that was
-- marked offline is online again and gets an `executor_online` event.
-- Which leases: with job_ids (the workers send them, an empty array when they run nothing),
-- the executor's running jobs among them, and no other. A job it holds but does not name is
-- one it does not know it holds: a claim that committed while its answer never reached the
-- worker (a connection cut after the commit, a call given up on). Its lease is left to expire,
-- and the job is retried as any abandoned lease is (revision 0036; before it, every heartbeat
-- of the live worker extended that lease, and the job stayed running, run by nobody, until the
-- worker stopped: tests/py/integration/test_heartbeat_names_its_jobs.py). A job claimed while
-- the heartbeat runs has a fresh lease, and the next heartbeat names it. Without job_ids
-- (null), every job the executor holds, as before.
-- Fenced (revision 0037): with lease_tokens, one per job_id in the same order, a named job is
-- held only under the token named with it. A token that is not the job's current one (the lease
-- expired and the job moved on, perhaps to a new claim by this same executor) makes the job
-- lost, and that pair changes nothing: no lease extended, no pending cancel applied. The workers
-- send them; without lease_tokens (null) a named job is held under any token, as before.
-- With job_ids the jobs are found by primary key. Without, the running jobs of the executor are
-- read from jobs_running_executor_idx by an index scan, which marks the entries of its finished
-- jobs dead as it passes them (no bitmap scans and no sequential scans, revision 0011: a bitmap
-- scan, which the planner took for a small table, read every such entry at every heartbeat
-- until the next vacuum, 25,000 in a minute of a burst on a fresh database). Under a snapshot
-- held open no entry can be marked dead, and that scan reads every job the executor finished
-- since (docs/bench.md, "Scans that grow with a held snapshot's age"); the lookup by primary
-- key reads the named jobs only.
-- No JIT (jit), for the reason api.complete_batch gives.
create or replace function api.heartbeat(executor_id uuid, job_ids bigint[] default null,
                                         lease_tokens uuid[] default null)
returns api.heartbeat_result
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set enable_bitmapscan = off
set enable_seqscan = off
set jit = off
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz := collab.clock();
  ex collab.executors;
  cancelled_ids bigint[];
  lost_ids bigint[];
  extended integer;
  was_online boolean;
  held bigint[];
  held_tokens uuid[];
begin
  if cardinality(heartbeat.job_ids) > 10000 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('job_ids holds %s ids; at most 10000 per call', cardinality(heartbeat.job_ids)), 'job_ids');
  end if;
  if heartbeat.lease_tokens is not null then
    if heartbeat.job_ids is null
       or coalesce(cardinality(heartbeat.lease_tokens), 0) <> coalesce(cardinality(heartbeat.job_ids), 0) then
      perform collab.raise_error('PT400', 'invalid_input',
        format('lease_tokens holds %s tokens for %s job_ids; name one token per job, in the same order',
               coalesce(cardinality(heartbeat.lease_tokens), 0), coalesce(cardinality(heartbeat.job_ids), 0)),
        'lease_tokens', 'send lease_tokens beside job_ids, the token of each job''s claim');
    end if;
    if array_position(heartbeat.lease_tokens, null) is not null then
      perform collab.raise_error('PT400', 'invalid_input', 'lease_tokens holds a null token',
        'lease_tokens', 'send the token of each job''s claim');
    end if;
  end if;
  ex := collab.require_executor(heartbeat.executor_id, ws);
  -- The old presence comes from a locked read of the current row (not ex, read unlocked).
  update collab.executors e set last_seen_at = now_, online = true
    from (select o.id, o.online from collab.executors o where o.id = ex.id for update) old
   where e.id = old.id
  returning old.online into was_online;
  if not was_online then
    select * into ex from collab.executors e where e.id = ex.id;
    perform collab.record_presence(ex, 'executor_online');
  end if;

  -- Lock the jobs whose leases it extends (above) in id order first, as complete_batch does,
  -- and touch only those afterwards: in index (heap) order a heartbeat and the same worker's
  -- complete_batch could each hold a row the other waits for, and so could a later statement
  -- that met a job claimed meanwhile with a lower id (both deadlocks seen in the soak;
  -- tests/py/integration/test_lock_order.py). A job claimed meanwhile has a fresh lease; the
  -- next heartbeat extends it. "Running" is lease_expires_at is not null, by primary key.
  if heartbeat.job_ids is null then
    held := array(
      select x.id from collab.jobs x
       where x.executor_id = ex.id and x.status = 'running'
       order by x.id
         for update);
  else
    -- By primary key only, as complete_batch: written as plain equalities, the workspace and
    -- the executor let a generic plan walk jobs_list_status_idx or jobs_list_executor_idx
    -- (every job of the workspace or of the executor) instead (tests/sql/530). With tokens, a
    -- job is held under the token named with it (a job named twice, once per token, at most
    -- under one of them); without, under any.
    select coalesce(array_agg(h.id order by h.id), '{}'), coalesce(array_agg(h.lease_token order by h.id), '{}')
      into held, held_tokens
      from (select x.id, x.lease_token from collab.jobs x
             where x.id = any(heartbeat.job_ids) and (x.workspace_id = ws) is true
               and (x.executor_id = ex.id) is true and x.lease_expires_at is not null
               and (heartbeat.lease_tokens is null
                    or (x.id, x.lease_token) in (
                         select n.id, n.token from unnest(heartbeat.job_ids, heartbeat.lease_tokens) n(id, token)))
             order by x.id
               for update) h;
  end if;

  -- A pending cancel takes effect: the job moves to collab.job_history, cancelled.
  with moved as (
    delete from collab.jobs j
     where j.id = any(held) and j.lease_expires_at is not null and j.cancel_requested
    returning j.*
  ),
  stopped as (
    insert into collab.job_history
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'cancelled', 'cancelled',
           m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
           m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message, m.result,
           m.last_error, m.created_at, m.claimed_at, now_
      from moved m
    returning id
  )
  select coalesce(array_agg(stopped.id order by stopped.id), '{}') into cancelled_ids from stopped;

  update collab.jobs j set lease_expires_at = now_ + make_interval(secs => j.lease_seconds)
   where j.id = any(held) and j.lease_expires_at is not null;
  get diagnostics extended = row_count;

  -- Lost: the named jobs it does not hold (held, locked above, are cancelled or extended); with
  -- tokens, the named pairs whose token is not the one the job is held under. A null id names
  -- nothing (as before 0037).
  select coalesce(array_agg(n.id order by n.id), '{}') into lost_ids
    from unnest(coalesce(heartbeat.job_ids, '{}'), heartbeat.lease_tokens) n(id, token)
   where n.id is not null
     and not exists (select 1 from unnest(held, held_tokens) h(id, token)
                      where h.id = n.id and (heartbeat.lease_tokens is null or h.token = n.token));

  return row(ex.id, cancelled_ids, lost_ids, extended, ex.heartbeat_seconds)::api.heartbeat_result;
end
$$;
comment on function api.heartbeat(uuid, bigint[], uuid[]) is
  'Executor presence (call every heartbeat_seconds): extends the leases of the jobs it runs (an offline executor comes back online: executor_online); returns the jobs it must stop: cancelled, and lost (of job_ids, at most 10000, those whose lease it no longer holds). job_ids names the jobs it runs (an empty array: none): only their leases are extended, and a job it holds but does not name (a claim whose answer it never got) is left to expire and be retried. lease_tokens (one per job_id, same order) fences them: a job named with a token that is not its current lease token is lost and that pair changes nothing (else PT400 invalid_input when the counts differ or a token is null). Without job_ids, every lease it holds is extended.';
revoke all on function api.heartbeat(uuid, bigint[], uuid[]) from public;
grant execute on function api.heartbeat(uuid, bigint[], uuid[]) to authenticated, service_role;
