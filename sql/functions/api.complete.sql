-- Finish a job with its result. Fenced: only the current lease token of a running job
-- counts; anything else is PT409 lease_lost and changes nothing. Repeating a complete that
-- succeeded, with the same token, returns the same job and writes nothing. A result larger
-- than the workspace's max_payload_bytes (JSON text) is PT400 invalid_input naming result.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
-- The job moves to collab.job_history (docs/architecture.md, "The hot table and the history").
-- No sequential or bitmap scans (enable_seqscan, enable_bitmapscan), as api.complete_batch:
-- on a database copied from a template vacuumed while collab.jobs was empty (relpages and
-- reltuples 0), a session's first calls found a sequential scan of a table of a page or two
-- cheapest, plpgsql kept that generic plan for the session, and every completion read the
-- whole table, dead rows and all, until an autovacuum made the session plan again: the burst
-- row's four api threads fell from 800 to about 250 jobs/s (docs/bench.md;
-- tests/py/integration/test_claim_plan_without_statistics.py).
-- No JIT (jit), for the reason api.complete_batch gives.
create or replace function api.complete(job_id bigint, lease_token uuid, result jsonb default null)
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
  -- The result is capped like a payload: its JSON text may not exceed max_payload_bytes.
  if complete.result is not null and octet_length(complete.result::text)
     > (select w.max_payload_bytes from collab.workspaces w where w.id = ws) then
    perform collab.raise_error('PT400', 'invalid_input',
      format('result is larger than %s bytes (the workspace''s max_payload_bytes)',
             (select w.max_payload_bytes from collab.workspaces w where w.id = ws)),
      'result', 'store a large result elsewhere and return a reference to it; the job is still running');
  end if;
  perform collab.require_job_owner(array[complete.job_id], ws);
  -- The move: out of collab.jobs, into collab.job_history, with its succeeded event, in one
  -- statement; only from running under this token (collab.jobs_after_update says how: the
  -- events trigger of collab.job_history leaves this statement's row to it).
  perform set_config('collab.statement_events', 'collab.job_history', true);
  with moved as (
    delete from collab.jobs x
     where x.id = complete.job_id and x.workspace_id = ws
       and x.lease_expires_at is not null and x.lease_token = complete.lease_token
    returning x.*
  ), done as (
    insert into collab.job_history
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'succeeded', 'succeeded',
           m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
           m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message,
           complete.result, m.last_error, m.created_at, m.claimed_at, collab.clock()
      from moved m
    returning *
  ), written as (
    insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt,
                                   executor_id, data, created_at)
    select d.workspace_id, d.id, 'succeeded', d.queue, d.type, d.attempt, d.executor_id,
           '{}'::jsonb, collab.clock()
      from done d
  )
  select * into j from done;
  if j.id is not null then
    perform collab.notify_events(ws);
    return collab.job_row(j);
  end if;
  -- A repeat: the finished job by workspace and id (collab.finished_job: one partition).
  j := collab.history_job(collab.finished_job(ws, complete.job_id));
  if j.id is not null and j.status = 'succeeded' and j.lease_token = complete.lease_token then
    return collab.job_row(j);
  end if;
  perform collab.lease_lost(complete.job_id, ws);
  return null;
end
$$;
comment on function api.complete(bigint, uuid, jsonb) is
  'Complete a running job with its result, presenting its current lease_token (else PT409 lease_lost). Idempotent for the same token. result: at most the workspace''s max_payload_bytes of JSON text (else PT400 invalid_input).';
revoke all on function api.complete(bigint, uuid, jsonb) from public;
grant execute on function api.complete(bigint, uuid, jsonb) to authenticated, service_role;
