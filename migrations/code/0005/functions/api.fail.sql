-- A failed attempt. Fenced like api.complete. Retryable with attempts left: back to queued
-- after retry_in or the queue's backoff (`retry_scheduled`); otherwise dead, with the error
-- kept (`dead`). A job with a pending cancel is cancelled instead.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
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
set search_path = ''
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz := collab.clock();
  j collab.jobs;
begin
  perform collab.require_job_owner(array[fail.job_id], ws);
  if fail.retry_in is not null and (fail.retry_in < interval '0' or fail.retry_in > interval '30 days') then
    perform collab.raise_error('PT400', 'invalid_input', 'retry_in must be between 0 and 30 days', 'retry_in');
  end if;
  update collab.jobs x set
    status = case when x.cancel_requested then 'cancelled'
                  when not coalesce(fail.retryable, true) or x.attempt >= x.max_attempts then 'dead'
                  else 'queued' end::collab.job_status,
    last_event = case when x.cancel_requested then 'cancelled'
                      when not coalesce(fail.retryable, true) or x.attempt >= x.max_attempts then 'dead'
                      else 'retry_scheduled' end::collab.job_event_type,
    run_at = case when x.cancel_requested or not coalesce(fail.retryable, true) or x.attempt >= x.max_attempts
                    then x.run_at
                  else now_ + coalesce(fail.retry_in,
                         collab.backoff_delay(x.attempt, q.backoff_base_seconds, q.backoff_max_seconds, q.backoff_jitter))
             end,
    finished_at = case when x.cancel_requested or not coalesce(fail.retryable, true)
                            or x.attempt >= x.max_attempts then now_ end,
    lease_expires_at = null,
    last_error = jsonb_build_object(
      'reason', case when not coalesce(fail.retryable, true) then 'non_retryable'
                     when x.attempt >= x.max_attempts then 'max_attempts_exceeded'
                     else 'failed' end,
      'error', fail.error, 'attempt', x.attempt, 'executor_id', x.executor_id, 'at', now_)
  from collab.queues q
  where x.id = fail.job_id and x.workspace_id = ws
    and x.lease_expires_at is not null and x.lease_token = fail.lease_token
    and q.workspace_id = x.workspace_id and q.name = x.queue
  returning x.* into j;
  if not found then
    perform collab.lease_lost(fail.job_id, ws);
  end if;
  return collab.job_row(j);
end
$$;
comment on function api.fail(bigint, uuid, jsonb, boolean, interval) is
  'Report a failed attempt, presenting the current lease_token (else PT409 lease_lost). retryable=false sends the job to the dead-letter queue; retry_in overrides the backoff.';
revoke all on function api.fail(bigint, uuid, jsonb, boolean, interval) from public;
grant execute on function api.fail(bigint, uuid, jsonb, boolean, interval) to authenticated, service_role;
