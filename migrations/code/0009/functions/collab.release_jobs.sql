-- Take running jobs away from their executor without a result: an expired lease
-- (`lease_expired`) or an executor gone offline (`lease_released`). The attempt counts as
-- failed: back to queued after a backoff while attempts remain, else dead; a job with a
-- pending cancel is cancelled instead. Dead and cancelled jobs move to collab.job_history
-- (one statement; collab.job_history_after_insert writes their events), the others are
-- updated in place. The callers hold the rows locked (FOR UPDATE), so the two statements
-- judge each job as it is.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
create or replace function collab.release_jobs(job_ids bigint[], why collab.job_event_type)
returns void
language sql
volatile
as $$
  with moved as (
    delete from collab.jobs j
     where j.id = any(job_ids) and j.lease_expires_at is not null
       and (j.cancel_requested or j.attempt >= j.max_attempts)
    returning j.*
  )
  insert into collab.job_history
  select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority,
         case when m.cancel_requested then 'cancelled' else 'dead' end::collab.job_status,
         case when m.cancel_requested then 'cancelled' else 'dead' end::collab.job_event_type,
         m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
         m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message, m.result,
         case when m.cancel_requested then m.last_error
              else jsonb_build_object('reason', why::text, 'attempt', m.attempt,
                                      'executor_id', m.executor_id, 'at', collab.clock()) end,
         m.created_at, m.claimed_at, collab.clock()
    from moved m;

  update collab.jobs j set
    status = 'queued',
    last_event = why,
    run_at = collab.clock() + collab.backoff_delay(j.attempt, q.backoff_base_seconds,
                                                   q.backoff_max_seconds, q.backoff_jitter),
    lease_expires_at = null,
    last_error = jsonb_build_object('reason', why::text, 'attempt', j.attempt,
                                    'executor_id', j.executor_id, 'at', collab.clock())
  from collab.queues q
  where j.id = any(job_ids) and j.lease_expires_at is not null
    and not j.cancel_requested and j.attempt < j.max_attempts
    and q.workspace_id = j.workspace_id and q.name = j.queue
$$;
comment on function collab.release_jobs(bigint[], collab.job_event_type) is
  'Ends the attempt of running jobs without a result (lease_expired or lease_released): retry, or dead or cancelled (moved to collab.job_history).';
