-- The statement api.list_jobs runs for a combination of filters ($1 workspace, $2 status,
-- $3 type, $4 queue, $5 executor_id, $6 created_after, $7 created_before, $8/$9 the cursor,
-- $10 limit), newest first. One function so that tests/sql/520 can EXPLAIN exactly what runs.
-- A job lives in collab.jobs (queued, running) or in collab.job_history (finished). Each
-- branch reads one table with the filters, in (created_at, id) order, to the limit, and the
-- branches are merged, so the keyset cursor spans both. Without a status filter there is one
-- branch per status (queued, running; succeeded, cancelled, dead): each is a range of the
-- table's (workspace_id, status, created_at, id) index, so neither table needs an index on
-- (workspace_id, created_at, id) that every enqueue, claim and finish would write.
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
  branches text[];
begin
  if by_type then filters := filters || ' and j.type = $3'; end if;
  if by_queue then filters := filters || ' and j.queue = $4'; end if;
  if by_executor then filters := filters || ' and j.executor_id = $5'; end if;
  if by_created_after then filters := filters || ' and j.created_at >= $6'; end if;
  if by_created_before then filters := filters || ' and j.created_at < $7'; end if;
  if by_cursor then filters := filters || ' and (j.created_at, j.id) < ($8, $9)'; end if;
  select array_agg(format(
           '(select %s as job, j.created_at, j.id from %s j where %s and j.status = %s order by j.created_at desc, j.id desc limit $10)',
           case when b.tbl = 'collab.jobs' then 'collab.job_row(j)' else 'collab.job_row(collab.history_job(j))' end,
           b.tbl, filters, b.status) order by b.ord)
    into branches
    from (values (1, 'collab.jobs', '''queued''::collab.job_status'),
                 (2, 'collab.jobs', '''running''::collab.job_status'),
                 (3, 'collab.job_history', '''succeeded''::collab.job_status'),
                 (4, 'collab.job_history', '''cancelled''::collab.job_status'),
                 (5, 'collab.job_history', '''dead''::collab.job_status'),
                 (6, 'collab.jobs', '$2::collab.job_status'),
                 (7, 'collab.job_history', '$2::collab.job_status')) b(ord, tbl, status)
   where (b.ord > 5) = by_status;
  return 'select r.job, translate(encode(convert_to(r.created_at::text || ''|'' || r.id, ''UTF8''), ''base64''), ''+/'', ''-_'')
       from (' || array_to_string(branches, ' union all ') || ') r
      order by r.created_at desc, r.id desc limit $10';
end
$$;
comment on function collab.list_jobs_query(boolean, boolean, boolean, boolean, boolean, boolean, boolean) is
  'The SQL text api.list_jobs executes for the given filters (parameters $1-$10): the newest page of each status (or of the status asked for) in collab.jobs and collab.job_history, merged.';
