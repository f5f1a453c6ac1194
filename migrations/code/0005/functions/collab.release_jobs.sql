-- Take running jobs away from their executor without a result: an expired lease
-- (`lease_expired`) or an executor gone offline (`lease_released`). The attempt counts as
-- failed: back to queued after a backoff while attempts remain, else dead; a job with a
-- pending cancel is cancelled instead.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
create or replace function collab.release_jobs(job_ids bigint[], why collab.job_event_type)
returns void
language sql
volatile
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
  where j.id = any(job_ids) and j.lease_expires_at is not null
    and q.workspace_id = j.workspace_id and q.name = j.queue
$$;
comment on function collab.release_jobs(bigint[], collab.job_event_type) is
  'Ends the attempt of running jobs without a result (lease_expired or lease_released): retry, dead or cancelled.';
