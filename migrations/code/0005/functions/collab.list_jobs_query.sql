-- The statement api.list_jobs runs for a combination of filters ($1 workspace, $2 status,
-- $3 type, $4 queue, $5 executor_id, $6 created_after, $7 created_before, $8/$9 the cursor,
-- $10 limit), newest first. One function so that tests/sql/520 can EXPLAIN exactly what runs.
create or replace function collab.list_jobs_query(
  by_status boolean, by_type boolean, by_queue boolean, by_executor boolean,
  by_created_after boolean, by_created_before boolean, by_cursor boolean
)
returns text
language plpgsql
immutable
as $$
declare
  sql text := 'select collab.job_row(j), translate(encode(convert_to(j.created_at::text || ''|'' || j.id, ''UTF8''), ''base64''), ''+/'', ''-_'')
            from collab.jobs j where j.workspace_id = $1';
begin
  if by_status then sql := sql || ' and j.status = $2::collab.job_status'; end if;
  if by_type then sql := sql || ' and j.type = $3'; end if;
  if by_queue then sql := sql || ' and j.queue = $4'; end if;
  if by_executor then sql := sql || ' and j.executor_id = $5'; end if;
  if by_created_after then sql := sql || ' and j.created_at >= $6'; end if;
  if by_created_before then sql := sql || ' and j.created_at < $7'; end if;
  if by_cursor then sql := sql || ' and (j.created_at, j.id) < ($8, $9)'; end if;
  return sql || ' order by j.created_at desc, j.id desc limit $10';
end
$$;
comment on function collab.list_jobs_query(boolean, boolean, boolean, boolean, boolean, boolean, boolean) is
  'The SQL text api.list_jobs executes for the given filters (parameters $1-$10).';
