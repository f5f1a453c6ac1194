-- A job as the api returns it.
-- No SET clause, so the planner can inline it (names are schema-qualified). STABLE, not
-- IMMUTABLE: the enum-to-text cast is stable, and an IMMUTABLE function whose body is not is
-- never inlined (a SQL-function call per row instead; tests/sql/531).
create or replace function collab.job_row(j collab.jobs, duplicate boolean default false)
returns api.job
language sql
stable
parallel safe
as $$
  select row(j.id, j.queue, j.type, j.status::text, j.payload, j.priority, j.attempt,
             j.max_attempts, j.run_at, j.idempotency_key, j.executor_id, j.lease_expires_at,
             j.cancel_requested, j.progress, j.progress_message, j.result, j.last_error,
             j.created_at, j.claimed_at, j.finished_at, duplicate)::api.job
$$;
comment on function collab.job_row(collab.jobs, boolean) is 'Converts a collab.jobs row to api.job.';
