-- A job of the workspace wherever it lives: collab.jobs (by primary key) or, only when it is
-- not there, collab.job_history (every partition's primary key); null when neither holds it.
-- One snapshot reads both, so a job moving meanwhile is seen in exactly one of them.
-- No SET clause, so the planner can inline it (names are schema-qualified); the history is
-- read lazily (COALESCE stops at the first non-null).
create or replace function collab.stored_job(workspace_id uuid, job_id bigint)
returns collab.jobs
language sql
stable
as $$
  select coalesce(
    (select j from collab.jobs j
      where j.id = stored_job.job_id and j.workspace_id = stored_job.workspace_id),
    (select collab.history_job(h) from collab.job_history h
      where h.workspace_id = stored_job.workspace_id and h.id = stored_job.job_id))
$$;
comment on function collab.stored_job(uuid, bigint) is
  'The job (as a collab.jobs row) from collab.jobs or else collab.job_history; null when the workspace has no such job.';
