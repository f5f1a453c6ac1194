-- Take running jobs away from their executor without a result: an expired lease
-- (`lease_expired`) or an executor gone offline (`lease_released`). The attempt counts as
-- failed: back to queued after a backoff while attempts remain, else dead; a job with a
-- pending cancel is cancelled instead.
create or replace function collab.release_jobs(job_ids bigint[], why collab.job_event_type)
returns void
language sql
volatile
set search_path = ''
as $$
  update collab.jobs j set
    status = case when j.cancel_requested then 'cancelled'
                  when j.attempt >= j.max_attempts then 'dead'
                  else 'queued' end::collab.job_status,
    last_event = case when j.cancel_requested then 'cancelled'
                      when j.attempt >= j.max_attempts then 'dead'
                      else why end::collab.job_event_type,
    run_at = case when j.cancel_requested or j.attempt >= j.max_attempts then j.run_at
                  else collab.clock() + collab.backoff_delay(j.attempt, q.backoff_base_seconds,
                                                             q.backoff_max_seconds, q.backoff_jitter) end,
    finished_at = case when j.cancel_requested or j.attempt >= j.max_attempts then collab.clock() end,
    lease_expires_at = null,
    last_error = case when j.cancel_requested then j.last_error
                      else jsonb_build_object('reason', why::text, 'attempt', j.attempt,
                                              'executor_id', j.executor_id, 'at', collab.clock()) end
  from collab.queues q
  where j.id = any(job_ids) and j.status = 'running'
    and q.workspace_id = j.workspace_id and q.name = j.queue
$$;
comment on function collab.release_jobs(bigint[], collab.job_event_type) is
  'Ends the attempt of running jobs without a result (lease_expired or lease_released): retry, dead or cancelled.';
