-- A job of the workspace wherever it lives: collab.jobs (by primary key) or, only when it is
-- not there, collab.job_history (collab.finished_job: the one partition its terminal event
-- names); null when neither holds it.
-- A stable function: both reads see the snapshot of the statement that calls it, so a job
-- moving meanwhile is seen in exactly one of them. PL/pgSQL, so the session keeps both plans,
-- and the history's is started only for a job not in collab.jobs.
-- As one SQL expression it was never inlined (its body has sub-selects): Postgres planned it
-- again in every statement that called it, 0.45 ms each with the history's 9 partitions of a
-- fresh database, two of the 1.5 ms an api.enqueue with an idempotency key spent in the
-- server; and each call started the history's probes, 28 us of it.
create or replace function collab.stored_job(workspace_id uuid, job_id bigint)
returns collab.jobs
language plpgsql
stable
as $$
declare
  j collab.jobs;
begin
  select x.* into j from collab.jobs x
   where x.id = stored_job.job_id and x.workspace_id = stored_job.workspace_id;
  if found then
    return j;
  end if;
  j := collab.history_job(collab.finished_job(stored_job.workspace_id, stored_job.job_id));
  if j.id is null then
    return null;
  end if;
  return j;
end
$$;
comment on function collab.stored_job(uuid, bigint) is
  'The job (as a collab.jobs row) from collab.jobs or else collab.job_history; null when the workspace has no such job.';
