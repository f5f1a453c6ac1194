-- A collab.job_history row as a collab.jobs row (the same columns in the same order), so
-- that every reader hands both homes of a job to the same code (collab.job_row).
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.history_job(h collab.job_history)
returns collab.jobs
language sql
immutable
parallel safe
as $$
  select row(h.id, h.workspace_id, h.queue, h.type, h.payload, h.priority, h.status, h.last_event,
             h.run_at, h.attempt, h.max_attempts, h.idempotency_key, h.executor_id, h.lease_token,
             h.lease_seconds, h.lease_expires_at, h.cancel_requested, h.progress, h.progress_message,
             h.result, h.last_error, h.created_at, h.claimed_at, h.finished_at)::collab.jobs
$$;
comment on function collab.history_job(collab.job_history) is
  'Converts a collab.job_history row to a collab.jobs row (same columns, same order).';
