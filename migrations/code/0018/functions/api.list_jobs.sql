-- Jobs of the workspace, newest first, filtered, with keyset pagination: pass the cursor
-- of the last row seen (`after`, opaque) to get the next page. The order (created_at, id)
-- is stable; only the given filters are applied.
-- No sequential scans (enable_seqscan): every page has an index (tests/sql/520), but with
-- the hot table or a day's partition of the history small against its page count, the
-- statistics a vacuum or an analyze leaves decided between the index and a scan of the whole
-- table, so a listing's plan changed with the sample ANALYZE happened to read (test 520
-- failed in one run of four with the same data). A plan that still holds a disabled scan
-- costs more than jit_above_cost, so JIT is off (jit), as in api.claim.
create or replace function api.list_jobs(
  status text default null,
  type text default null,
  queue text default null,
  executor_id uuid default null,
  created_after timestamptz default null,
  created_before timestamptz default null,
  after text default null,
  "limit" integer default 100
)
returns table (job api.job, cursor text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set enable_seqscan = off
set jit = off
as $$
declare
  ws uuid := collab.require_role('viewer');
  after_at timestamptz;
  after_id bigint;
  decoded text;
  sql text;
begin
  if list_jobs."limit" is null or list_jobs."limit" not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 1000', 'limit');
  end if;
  if list_jobs.status is not null
     and list_jobs.status not in ('queued', 'running', 'succeeded', 'cancelled', 'dead') then
    perform collab.raise_error('PT400', 'invalid_input',
      'status must be one of queued, running, succeeded, cancelled, dead', 'status');
  end if;
  if list_jobs.after is not null then
    begin
      decoded := convert_from(decode(translate(list_jobs.after, '-_', '+/'), 'base64'), 'UTF8');
      after_at := split_part(decoded, '|', 1)::timestamptz;
      after_id := split_part(decoded, '|', 2)::bigint;
    exception when others then
      perform collab.raise_error('PT400', 'invalid_input', 'after is not a cursor returned by list_jobs', 'after');
    end;
  end if;
  sql := collab.list_jobs_query(list_jobs.status is not null, list_jobs.type is not null,
    list_jobs.queue is not null, list_jobs.executor_id is not null, list_jobs.created_after is not null,
    list_jobs.created_before is not null, after_at is not null);
  return query execute sql using ws, list_jobs.status, list_jobs.type, list_jobs.queue,
    list_jobs.executor_id, list_jobs.created_after, list_jobs.created_before, after_at, after_id,
    list_jobs."limit";
end
$$;
comment on function api.list_jobs(text, text, text, uuid, timestamptz, timestamptz, text, integer) is
  'List jobs newest first with optional filters (status, type, queue, executor_id, created_after, created_before). Pagination: pass the cursor of the last row as after. limit: 1-1000.';
revoke all on function api.list_jobs(text, text, text, uuid, timestamptz, timestamptz, text, integer) from public;
grant execute on function api.list_jobs(text, text, text, uuid, timestamptz, timestamptz, text, integer) to authenticated, service_role;
