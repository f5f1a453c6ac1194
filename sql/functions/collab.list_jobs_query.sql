-- The statement api.list_jobs runs for a combination of filters ($1 workspace, $2 status,
-- $3 type, $4 queue, $5 executor_id, $6 created_after, $7 created_before, $8/$9 the cursor,
-- $10 limit), newest first. One function so that tests/sql/520 can EXPLAIN exactly what runs.
-- A job lives in collab.jobs (queued, running) or in collab.job_history (finished): each is
-- read with the same filters, in the same order and to the same limit, and the two pages are
-- merged, so the keyset cursor (created_at, id) spans both.
create or replace function collab.list_jobs_query(
  by_status boolean, by_type boolean, by_queue boolean, by_executor boolean,
  by_created_after boolean, by_created_before boolean, by_cursor boolean
)
returns text
language plpgsql
immutable
as $$
declare
  filters text := 'j.workspace_id = $1';
begin
  if by_status then filters := filters || ' and j.status = $2::collab.job_status'; end if;
  if by_type then filters := filters || ' and j.type = $3'; end if;
  if by_queue then filters := filters || ' and j.queue = $4'; end if;
  if by_executor then filters := filters || ' and j.executor_id = $5'; end if;
  if by_created_after then filters := filters || ' and j.created_at >= $6'; end if;
  if by_created_before then filters := filters || ' and j.created_at < $7'; end if;
  if by_cursor then filters := filters || ' and (j.created_at, j.id) < ($8, $9)'; end if;
  return format(
    'select r.job, translate(encode(convert_to(r.created_at::text || ''|'' || r.id, ''UTF8''), ''base64''), ''+/'', ''-_'')
       from ((select collab.job_row(j) as job, j.created_at, j.id from collab.jobs j
               where %1$s order by j.created_at desc, j.id desc limit $10)
             union all
             (select collab.job_row(collab.history_job(j)), j.created_at, j.id from collab.job_history j
               where %1$s order by j.created_at desc, j.id desc limit $10)) r
      order by r.created_at desc, r.id desc limit $10', filters);
end
$$;
comment on function collab.list_jobs_query(boolean, boolean, boolean, boolean, boolean, boolean, boolean) is
  'The SQL text api.list_jobs executes for the given filters (parameters $1-$10): the newest page of collab.jobs and of collab.job_history, merged.';
