-- A failed attempt. Fenced like api.complete. Retryable with attempts left: back to queued
-- after retry_in or the queue's backoff (`retry_scheduled`); otherwise dead, with the error
-- kept (`dead`). A job with a pending cancel is cancelled instead. An error larger than the
-- workspace's max_payload_bytes (JSON text) is PT400 invalid_input naming error.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
-- A dead or cancelled job moves to collab.job_history (docs/architecture.md).
-- No sequential or bitmap scans, for the reason api.complete gives.
-- No JIT (jit), for the reason api.complete_batch gives.
create or replace function api.fail(
  job_id bigint,
  lease_token uuid,
  error jsonb default null,
  retryable boolean default true,
  retry_in interval default null
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
  now_ timestamptz := collab.clock();
  j collab.jobs;
  failure jsonb;
begin
  -- The error is capped like a payload (it is also copied into the job's events).
  if fail.error is not null and octet_length(fail.error::text)
     > (select w.max_payload_bytes from collab.workspaces w where w.id = ws) then
    perform collab.raise_error('PT400', 'invalid_input',
      format('error is larger than %s bytes (the workspace''s max_payload_bytes)',
             (select w.max_payload_bytes from collab.workspaces w where w.id = ws)),
      'error', 'report a shorter error; the job is still running');
  end if;
  perform collab.require_job_owner(array[fail.job_id], ws);
  if fail.retry_in is not null and (fail.retry_in < interval '0' or fail.retry_in > interval '30 days') then
    perform collab.raise_error('PT400', 'invalid_input', 'retry_in must be between 0 and 30 days', 'retry_in');
  end if;
  -- The job, running under this token, locked: its outcome depends on the row as it is now.
  select * into j from collab.jobs x
   where x.id = fail.job_id and x.workspace_id = ws
     and x.lease_expires_at is not null and x.lease_token = fail.lease_token
     for update;
  if not found then
    perform collab.lease_lost(fail.job_id, ws);
  end if;
  failure := jsonb_build_object(
    'reason', case when not coalesce(fail.retryable, true) then 'non_retryable'
                   when j.attempt >= j.max_attempts then 'max_attempts_exceeded'
                   else 'failed' end,
    'error', fail.error, 'attempt', j.attempt, 'executor_id', j.executor_id, 'at', now_);
  if j.cancel_requested or not coalesce(fail.retryable, true) or j.attempt >= j.max_attempts then
    -- Cancelled (a cancel was pending) or dead: the job moves to collab.job_history
    -- (collab.job_history_after_insert writes the event).
    with moved as (
      delete from collab.jobs x where x.id = j.id returning x.*
    )
    insert into collab.job_history
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority,
           case when m.cancel_requested then 'cancelled' else 'dead' end::collab.job_status,
           case when m.cancel_requested then 'cancelled' else 'dead' end::collab.job_event_type,
           m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
           m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message, m.result,
           failure, m.created_at, m.claimed_at, now_
      from moved m
    returning * into j;
  else
    update collab.jobs x set
      status = 'queued', last_event = 'retry_scheduled',
      run_at = now_ + coalesce(fail.retry_in,
                 collab.backoff_delay(x.attempt, q.backoff_base_seconds, q.backoff_max_seconds, q.backoff_jitter)),
      lease_expires_at = null,
      last_error = failure
    from collab.queues q
    where x.id = j.id and q.workspace_id = x.workspace_id and q.name = x.queue
    returning x.* into j;
  end if;
  return collab.job_row(j);
end
$$;
comment on function api.fail(bigint, uuid, jsonb, boolean, interval) is
  'Report a failed attempt, presenting the current lease_token (else PT409 lease_lost). retryable=false sends the job to the dead-letter queue; retry_in overrides the backoff. error: at most the workspace''s max_payload_bytes of JSON text (else PT400 invalid_input).';
revoke all on function api.fail(bigint, uuid, jsonb, boolean, interval) from public;
grant execute on function api.fail(bigint, uuid, jsonb, boolean, interval) to authenticated, service_role;
